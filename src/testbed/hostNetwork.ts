/**
 * Where this process's servers listen and whom it may dial. Outside the emulated testbed: 127.0.0.1 only. Inside it
 * (a process the testbed started in one of the network namespaces it created, src/testbed/network.ts): the
 * namespace's own address, and peers in the testbed's subnet, which exists only inside those namespaces. The testbed
 * hands this to its processes in one environment variable, validated here. Pure apart from reading the variable.
 */

/** The environment variable the testbed sets for the processes it starts in its namespaces. */
export const TESTBED_HOST_ENV = "DTWN_TESTBED_HOST";

export interface HostNetwork {
  /** The address servers of this process bind to. */
  bind: string;
  /** The subnet of the testbed (a.b.c.0/24), or undefined outside it. */
  subnet?: string;
}

export const LOOPBACK: HostNetwork = { bind: "127.0.0.1" };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function octets(ip: string): number[] | undefined {
  const m = IPV4.exec(ip);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  return o.every((x) => x <= 255) ? o : undefined;
}

/** The host network of this process from `env` (127.0.0.1 when the testbed did not set it). */
export function hostNetwork(env: NodeJS.ProcessEnv = process.env): HostNetwork {
  const raw = env[TESTBED_HOST_ENV];
  if (raw === undefined || raw === "") return LOOPBACK;
  const [bind, subnet, extra] = raw.split(",");
  const b = octets(bind ?? "");
  const s = /^(.*)\/24$/.exec(subnet ?? "");
  const so = s ? octets(s[1]) : undefined;
  // Only private 10.x.y.0/24 subnets: the testbed never claims an address that could route off this machine.
  if (extra !== undefined || !b || !so || so[0] !== 10 || so[3] !== 0 || b[0] !== so[0] || b[1] !== so[1] || b[2] !== so[2] || b[3] === 0 || b[3] === 255) {
    throw new Error(`${TESTBED_HOST_ENV}=${raw} is not "<address>,<10.x.y.0>/24" with the address inside the subnet (set by the emulated testbed; unset it outside).`);
  }
  return { bind, subnet: subnet as string };
}

/** The value of {@link TESTBED_HOST_ENV} for a process with address `bind` in `subnet`. */
export function hostNetworkEnv(bind: string, subnet: string): string {
  const v = `${bind},${subnet}`;
  hostNetwork({ [TESTBED_HOST_ENV]: v }); // validate
  return v;
}

/** Whether a process on `net` may dial `ip`: 127.0.0.1 always, testbed peers inside the testbed. */
export function mayDial(net: HostNetwork, ip: string): boolean {
  if (ip === "127.0.0.1") return true;
  if (!net.subnet) return false;
  const o = octets(ip);
  const s = octets(net.subnet.replace(/\/24$/, ""));
  return !!o && !!s && o[0] === s[0] && o[1] === s[1] && o[2] === s[2] && o[3] !== 0 && o[3] !== 255;
}
