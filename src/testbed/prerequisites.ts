/**
 * What `--testbed emulated` needs on this machine: root, a CPU cgroup controller, and `ip` and `tc` (iproute2) for
 * the network namespaces and shaped links. `dtwn doctor` shows it; an emulated run fails at once with the list.
 */
import { spawnSync } from "node:child_process";
import { cgroupSupport } from "./cgroup";

export interface TestbedPrerequisites {
  ready: boolean;
  root: boolean;
  cgroup: string;
  ip: boolean;
  tc: boolean;
  /** What is missing, one item each (empty when ready). */
  missing: string[];
}

function hasCommand(cmd: string): boolean {
  const r = spawnSync(cmd, ["-V"], { encoding: "utf8" });
  return r.error === undefined;
}

export function testbedPrerequisites(): TestbedPrerequisites {
  const root = process.getuid?.() === 0;
  const cg = cgroupSupport();
  const ip = hasCommand("ip");
  const tc = hasCommand("tc");
  const missing = [
    ...(root ? [] : ["root (namespaces, veths, tc and cgroups need it)"]),
    ...("missing" in cg ? [cg.missing] : []),
    ...(ip ? [] : ["`ip` (Debian package iproute2)"]),
    ...(tc ? [] : ["`tc` (Debian package iproute2)"]),
  ];
  return { ready: missing.length === 0, root, cgroup: "missing" in cg ? `none: ${cg.missing}` : `${cg.version} at ${cg.dir}`, ip, tc, missing };
}
