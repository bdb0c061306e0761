/**
 * The maps of the emulated testbed (`dtwn run --testbed emulated`, issue in progress): from the model's CPU frequency
 * and availability of a BS to a cgroup CPU quota, and from the model's link rates (Eqs. 7-8) to `tc` rates. Pure.
 *
 * Compute: BS i gets a quota proportional to f_i u_i(t), scaled so that the quotas fit the machine: no BS above one
 * core (a BS trains in one single-threaded process) and all of them together within the machine's cores. The scale
 * fixes the Hz one full core stands for, H = max(f_i u_i) / (largest quota in cores); Eq. 12's f^C is then expressed
 * against H (src/twins/work.ts `trainCyclesPerSampleOf`).
 */

/**
 * Default factor the model's link rates (Eqs. 7-8: about 300 Mbit/s up and 2 Gbit/s down in the default scenario) are
 * divided by: 15 Mbit/s up moves a 6.7 MB model in about 4 s, the same order as a round's training on one core.
 */
export const DEFAULT_LINK_SLOWDOWN = 20;

/** The CFS period of every quota, microseconds (the kernel's default). */
export const CPU_PERIOD_US = 100_000;
/** The smallest quota the kernel takes, microseconds. */
export const MIN_QUOTA_US = 1_000;

export interface CpuQuotas {
  /** Per BS, microseconds of CPU per {@link CPU_PERIOD_US}. */
  quotaUs: number[];
  /** The CPU frequency one full core stands for, Hz. */
  coreHz: number;
}

/**
 * Quotas in proportion to f_i u_i (Hz), scaled to fit `cores` cores, one core at most per BS.
 * @param cpuHz f_i of each BS, Hz
 * @param availability u_i(t) of each BS, in (0, 1]
 */
export function cpuQuotas(cpuHz: readonly number[], availability: readonly number[], cores: number): CpuQuotas {
  if (cpuHz.length === 0 || cpuHz.length !== availability.length) throw new Error(`cpuQuotas: ${cpuHz.length} frequencies and ${availability.length} availabilities`);
  if (!(cores > 0)) throw new Error(`cpuQuotas: cores must be positive, got ${cores}`);
  const hz = cpuHz.map((f, i) => {
    const u = availability[i];
    if (!(f > 0) || !(u > 0 && u <= 1)) throw new Error(`cpuQuotas: BS ${i} has f = ${f} Hz and u = ${u}; f must be positive and u in (0, 1]`);
    return f * u;
  });
  const total = hz.reduce((s, x) => s + x, 0);
  const max = Math.max(...hz);
  // cores per Hz: at most one core for the fastest BS, at most `cores` for all of them
  const scale = Math.min(1 / max, cores / total);
  return { quotaUs: hz.map((x) => Math.max(MIN_QUOTA_US, Math.round(x * scale * CPU_PERIOD_US))), coreHz: 1 / scale };
}

/** What cgroup v2's `cpu.max` takes for a quota. */
export function cpuMaxLine(quotaUs: number, periodUs = CPU_PERIOD_US): string {
  return `${Math.round(quotaUs)} ${Math.round(periodUs)}`;
}

/**
 * A link rate for `tc` (kbit/s, as tbf and htb take it), after the testbed's documented rescaling: the model's rates
 * (Eqs. 7-8, hundreds of Mbit/s for 69 Mbit models) divided by `slowdown`, so that rounds last seconds to minutes.
 */
export function tcRate(rateBps: number, slowdown: number): string {
  if (!(rateBps > 0) || !(slowdown >= 1)) throw new Error(`tcRate: rate ${rateBps} bit/s and slowdown ${slowdown} (>= 1) required`);
  return `${Math.max(8, Math.round(rateBps / slowdown / 1000))}kbit`;
}
