/**
 * Trained MADDPG actors on disk, so that a BS agent process can load its own actor and act from the shared state.
 *
 * Layout of a policy directory:
 *   policy.json          {format, m, subchannels, users, obsDim, actDim, decoder, config, episodes, trainedAt}
 *   actor-<i>.json       the TensorFlow.js layers model of BS i (topology + weights manifest)
 *   actor-<i>.weights.bin
 * Only the actors are saved: critics are needed for training, not for acting (Algorithm 1 at execution time).
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { tf } from "../../ml/backend";
import type { Scenario } from "../../twins/scenario";
import { BATCH_SHARPNESS, DECODER_CENTRE, DEMAND_SHARPNESS, LOAD_SHARPNESS, RAW_ACTION_SIZE } from "./decode";
import { observationSize } from "./observation";
import type { MaddpgConfig } from "./maddpg";

export const POLICY_FORMAT = "dtwn-maddpg-policy/1";

const PolicyMetaSchema = z.object({
  format: z.literal(POLICY_FORMAT),
  m: z.number().int().positive(),
  subchannels: z.number().int().positive(),
  users: z.number().int().positive(),
  obsDim: z.number().int().positive(),
  actDim: z.number().int().positive(),
  // Policies saved before the decoder had a named centre were trained with the "uniform" one.
  decoder: z.object({ centre: z.string().default("uniform"), loadSharpness: z.number(), batchSharpness: z.number(), demandSharpness: z.number() }),
  config: z.record(z.unknown()),
  episodes: z.number().int().nonnegative(),
  trainedAt: z.string(),
});
export type PolicyMeta = z.infer<typeof PolicyMetaSchema>;

/** The decoder constants a policy was trained with: acting with other constants would change its actions' meaning. */
export function decoderSignature(): PolicyMeta["decoder"] {
  return { centre: DECODER_CENTRE, loadSharpness: LOAD_SHARPNESS, batchSharpness: BATCH_SHARPNESS, demandSharpness: DEMAND_SHARPNESS };
}

/** Save the actors of a trained system to `dir` (created if missing). */
export async function savePolicy(dir: string, scenario: Scenario, actors: readonly tf.LayersModel[], config: MaddpgConfig, episodes: number): Promise<PolicyMeta> {
  fs.mkdirSync(dir, { recursive: true });
  const meta: PolicyMeta = {
    format: POLICY_FORMAT,
    m: scenario.bss.length,
    subchannels: scenario.constants.subchannels,
    users: scenario.users.length,
    obsDim: observationSize(scenario),
    actDim: RAW_ACTION_SIZE,
    decoder: decoderSignature(),
    config: { ...config },
    episodes,
    trainedAt: new Date().toISOString(),
  };
  for (let i = 0; i < actors.length; i++) {
    await actors[i].save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weightsFile = `actor-${i}.weights.bin`;
        const data = artifacts.weightData;
        const buffers = data === undefined ? [] : Array.isArray(data) ? data : [data];
        fs.writeFileSync(path.join(dir, weightsFile), Buffer.concat(buffers.map((b) => Buffer.from(b))));
        const json = {
          format: artifacts.format,
          generatedBy: artifacts.generatedBy,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }],
        };
        fs.writeFileSync(path.join(dir, `actor-${i}.json`), JSON.stringify(json));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
    );
  }
  fs.writeFileSync(path.join(dir, "policy.json"), JSON.stringify(meta, null, 2) + "\n");
  return meta;
}

/** A loaded policy: the actors of all BSs, or only of some (a BS agent process loads its own). */
export class LoadedPolicy {
  constructor(
    readonly meta: PolicyMeta,
    private readonly actors: ReadonlyMap<number, tf.LayersModel>,
  ) {}

  /** pi_i(s) for BS i: the raw action (entries in [0, 1]) of that BS's actor. */
  actBs(i: number, obs: Float32Array): number[] {
    const actor = this.actors.get(i);
    if (!actor) throw new Error(`This policy was loaded without the actor of BS ${i}; load it with bss including ${i}.`);
    if (obs.length !== this.meta.obsDim) throw new Error(`Observation has ${obs.length} entries; the policy expects ${this.meta.obsDim}.`);
    return tf.tidy(() => Array.from((actor.predict(tf.tensor2d(obs, [1, obs.length])) as tf.Tensor).dataSync()));
  }

  /** The joint raw action (pi_1(s), ..., pi_M(s)); needs every actor. */
  act(obs: Float32Array): number[][] {
    return Array.from({ length: this.meta.m }, (_, i) => this.actBs(i, obs));
  }

  dispose(): void {
    this.actors.forEach((a) => a.dispose());
  }
}

function readPolicyMeta(dir: string): PolicyMeta {
  const file = path.join(dir, "policy.json");
  if (!fs.existsSync(file)) throw new Error(`No policy at ${dir}: ${file} is missing. Train one with \`dtwn train-policy --out <dir>\`.`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = PolicyMetaSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new Error(`${file} is not a dtwn policy (${issues}).`);
  }
  return parsed.data;
}

/**
 * Load a policy for `scenario`; refuses one trained for another shape (M, C, N) or another decoder.
 * @param bss the BSs whose actors to load (default: all).
 */
export async function loadPolicy(dir: string, scenario: Scenario, bss?: readonly number[]): Promise<LoadedPolicy> {
  const meta = readPolicyMeta(dir);
  const want = { m: scenario.bss.length, subchannels: scenario.constants.subchannels, users: scenario.users.length, obsDim: observationSize(scenario), actDim: RAW_ACTION_SIZE };
  for (const [key, value] of Object.entries(want)) {
    const got = meta[key as keyof typeof want];
    if (got !== value) throw new Error(`Policy at ${dir} was trained for ${key} = ${got}, but the scenario has ${key} = ${value}. Train a policy for this scenario.`);
  }
  const sig = decoderSignature();
  if ((Object.keys(sig) as (keyof typeof sig)[]).some((key) => meta.decoder[key] !== sig[key])) {
    throw new Error(`Policy at ${dir} was trained with decoder ${JSON.stringify(meta.decoder)}, this build decodes with ${JSON.stringify(sig)}. Retrain it.`);
  }
  const which = bss ?? Array.from({ length: meta.m }, (_, i) => i);
  const actors = new Map<number, tf.LayersModel>();
  for (const i of which) {
    if (!Number.isInteger(i) || i < 0 || i >= meta.m) throw new Error(`BS ${i} is not in this policy (BSs 0..${meta.m - 1}).`);
    const jsonFile = path.join(dir, `actor-${i}.json`);
    if (!fs.existsSync(jsonFile)) throw new Error(`Policy at ${dir} has no actor for BS ${i} (${jsonFile} is missing).`);
    const json = JSON.parse(fs.readFileSync(jsonFile, "utf8")) as {
      modelTopology: object;
      weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    };
    const group = json.weightsManifest[0];
    const bin = fs.readFileSync(path.join(dir, group.paths[0]));
    const expected = group.weights.reduce((s, w) => s + w.shape.reduce((p, d) => p * d, 1) * 4, 0);
    if (bin.byteLength !== expected) {
      throw new Error(`Weights of BS ${i} in ${dir} have ${bin.byteLength} bytes; the manifest needs ${expected}. The policy files are damaged; retrain or copy them again.`);
    }
    const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData }));
    const shape = model.outputs[0].shape;
    if (shape[shape.length - 1] !== meta.actDim) throw new Error(`Actor of BS ${i} outputs ${shape[shape.length - 1]} values; the policy says ${meta.actDim}.`);
    actors.set(i, model);
  }
  return new LoadedPolicy(meta, actors);
}
