/** A one-line progress bar on stderr (redrawn in place on a terminal, one line per update otherwise). */
export class ProgressBar {
  private readonly started = Date.now();
  private lastLine = 0;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly width = 24,
  ) {}

  update(done: number, detail = ""): void {
    const frac = Math.min(1, done / this.total);
    const filled = Math.round(frac * this.width);
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    const line = `${this.label} [${"#".repeat(filled)}${".".repeat(this.width - filled)}] ${done}/${this.total} ${detail} ${formatSeconds(elapsed)} elapsed, ETA ${formatSeconds(eta)}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${line.padEnd(this.lastLine)}`);
      this.lastLine = line.length;
      if (done >= this.total) this.stream.write("\n");
    } else {
      this.stream.write(line + "\n");
    }
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
