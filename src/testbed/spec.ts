/**
 * What the launcher of an emulated run (./launch.ts) hands to the hub's process (`dtwn testbed-hub`): the run's
 * options, the namespaces and cgroups it created, and the two scales of the emulation (the Hz one core stands for, and
 * the factor link rates are divided by). Written as <run folder>/testbed.json and validated when read.
 */
import { z } from "zod";
import { readJsonFile } from "../io/jsonFile";

export const TestbedSpecSchema = z
  .object({
    /** The run's id: the launcher's pid (in every namespace and cgroup name). */
    id: z.number().int().positive(),
    bss: z.number().int().min(2),
    /** The run's options as `dtwn run` resolved them (f^C already expressed against `coreHz`). */
    run: z.record(z.unknown()),
    /** The training cgroup of each BS (a directory; its quota is f_i u_i(t) / H) and the cgroup version. */
    cgroups: z.array(z.string().min(1)),
    /** The control cgroup of each BS's agent process (chain, IPFS, DPoS), under the control share with the hub. */
    agentCgroups: z.array(z.string().min(1)),
    cgroupVersion: z.enum(["v1", "v2"]),
    /** H: the CPU frequency one full core stands for, Hz (src/testbed/emulation.ts `cpuQuotas`). */
    coreHz: z.number().positive(),
    /** The model's link rates (Eqs. 7-8) are divided by this before `tc` applies them (dimensionless, >= 1). */
    linkSlowdown: z.number().min(1),
    /** The chain's JSON-RPC node in the hub. */
    rpcUrl: z.string().url(),
  })
  .strict()
  .refine((s) => s.cgroups.length === s.bss, { message: "one cgroup per BS", path: ["cgroups"] })
  .refine((s) => s.agentCgroups.length === s.bss, { message: "one agent cgroup per BS", path: ["agentCgroups"] });

export type TestbedSpec = z.infer<typeof TestbedSpecSchema>;

export function readTestbedSpec(file: string): TestbedSpec {
  return readJsonFile(file, TestbedSpecSchema, { what: "Testbed description", missing: `no testbed description at ${file}: \`dtwn testbed-hub\` is started by \`dtwn run --testbed emulated\`.` });
}
