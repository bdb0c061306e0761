/**
 * The local optimisers (SGD, momentum, Adam) on the tfjs-node backend as TensorFlow's fused in-place training ops.
 *
 * tfjs's optimisers update every weight with a chain of elementwise ops: Adam takes ~14 TensorFlow ops per weight
 * tensor, each a full pass over it (the 3136 x 512 dense kernel of the 28x28x1 CNN has 1.6 M values), plus scalar
 * uploads. Measured on one thread, 28x28x1, batch 16: an Adam step took 38 ms against 19 ms for SGD. TensorFlow's
 * `ResourceApplyAdam` / `ResourceApplyMomentum` / `ResourceApplyGradientDescent` do the same update in one pass, in
 * place, on resource variables. So this optimiser keeps, per weight, a TensorFlow resource variable with the weight
 * and one per slot (m, v, or the momentum accumulator), applies the fused op, and reads the new weight back into the
 * tfjs variable (one more op).
 *
 * The updates are tfjs's, to float32 rounding:
 * - sgd: w <- w - lr g;
 * - momentum: a <- beta a + g, w <- w - lr a (the form of tf.train.momentum and of ApplyMomentum);
 * - adam: tfjs's w <- w - lr m^ / (sqrt(v^) + eps) with m^ = m / (1 - b1^t), v^ = v / (1 - b2^t). TensorFlow's
 *   ApplyAdam computes w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps'), which is the same update for
 *   eps' = eps sqrt(1 - b2^t); that is the epsilon it is given at step t.
 * test/ml/backends.test.ts checks both against the wasm backend (tfjs's own optimisers).
 *
 * When the tfjs variable was assigned from outside between steps (e.g. the model's weights were set), the resource
 * variable takes the new value before the next update; the slots stay. `dispose()` destroys the resource variables
 * (they live in TensorFlow's resource manager, not in tfjs's memory accounting).
 */
import * as tf from "@tensorflow/tfjs";

type OpAttr = { name: string; type: number; value: unknown };
type NamedTensor = { name: string; tensor: tf.Tensor };
type NodeBackend = {
  binding: { TF_ATTR_STRING: number; TF_ATTR_BOOL: number; TF_ATTR_TYPE: number; TF_ATTR_SHAPE: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.TensorInfo[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.TensorInfo[], outputs: number): tf.Tensor[];
};

export type ResourceOptimizerKind = "sgd" | "momentum" | "adam";

interface Slot {
  /** Resource handles: the weight, then the optimiser's slots. */
  handles: tf.Tensor[];
  /** The tfjs variable's data when the resource variable last matched it. */
  synced: object;
}

let counter = 0;

export class ResourceOptimizer extends tf.Optimizer {
  static get className(): string {
    return "DtwnResourceOptimizer";
  }
  private readonly backend: NodeBackend;
  private readonly slots = new Map<string, Slot>();
  private readonly constants: tf.Tensor[];
  private step = 0;

  /**
   * @param kind the update rule
   * @param learningRate lr
   * @param options momentum (beta, default 0.9) or Adam's beta1, beta2, epsilon (defaults 0.9, 0.999, 1e-7)
   */
  constructor(
    readonly kind: ResourceOptimizerKind,
    readonly learningRate: number,
    readonly options: { momentum?: number; beta1?: number; beta2?: number; epsilon?: number } = {},
  ) {
    super();
    if (tf.getBackend() !== "tensorflow") throw new Error(`ResourceOptimizer needs the tensorflow backend (tfjs-node); the active backend is ${tf.getBackend()}.`);
    this.backend = tf.backend() as unknown as NodeBackend;
    const { momentum = 0.9, beta1 = 0.9, beta2 = 0.999 } = options;
    const values = kind === "adam" ? [learningRate, beta1, beta2] : kind === "momentum" ? [learningRate, momentum] : [learningRate];
    this.constants = values.map((v) => tf.keep(tf.scalar(v, "float32")));
  }

  private attr(name: string, type: "string" | "bool" | "type" | "shape", value: unknown): OpAttr {
    const b = this.backend.binding;
    return { name, type: { string: b.TF_ATTR_STRING, bool: b.TF_ATTR_BOOL, type: b.TF_ATTR_TYPE, shape: b.TF_ATTR_SHAPE }[type], value };
  }

  private run(op: string, attrs: OpAttr[], inputs: tf.TensorInfo[]): void {
    this.backend.executeMultipleOutputs(op, attrs, inputs, 0);
  }

  private newResource(value: tf.Tensor): tf.Tensor {
    const handle = this.backend.executeSingleOutput(
      "VarHandleOp",
      [this.attr("container", "string", ""), this.attr("shared_name", "string", `dtwn_${process.pid}_${++counter}`), this.attr("dtype", "type", this.backend.binding.TF_FLOAT), this.attr("shape", "shape", value.shape)],
      [],
    );
    tf.keep(handle);
    this.assign(handle, value);
    return handle;
  }

  private assign(handle: tf.Tensor, value: tf.Tensor): void {
    this.run("AssignVariableOp", [this.attr("dtype", "type", this.backend.binding.TF_FLOAT)], [handle, value]);
  }

  /** The resource variables of `name`, created on first use and re-synced if the tfjs variable changed outside. */
  private slotFor(name: string, variable: tf.Variable): Slot {
    const dataId = variable.dataId as object;
    let slot = this.slots.get(name);
    if (!slot) {
      const extra = this.kind === "adam" ? 2 : this.kind === "momentum" ? 1 : 0;
      const handles = [this.newResource(variable)];
      for (let k = 0; k < extra; k++) {
        const zeros = tf.zerosLike(variable);
        handles.push(this.newResource(zeros));
        zeros.dispose();
      }
      slot = { handles, synced: dataId };
      this.slots.set(name, slot);
    } else if (slot.synced !== dataId) {
      this.assign(slot.handles[0], variable);
      slot.synced = dataId;
    }
    return slot;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const grads: [string, tf.Tensor | undefined][] = Array.isArray(variableGradients) ? variableGradients.map((g) => [g.name, g.tensor]) : Object.entries(variableGradients);
    this.step++;
    const perStep: tf.Tensor[] = [];
    if (this.kind === "adam") {
      const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } = this.options;
      const b1t = Math.pow(beta1, this.step);
      const b2t = Math.pow(beta2, this.step);
      perStep.push(tf.scalar(b1t, "float32"), tf.scalar(b2t, "float32"), tf.scalar(epsilon * Math.sqrt(1 - b2t), "float32"));
    }
    const T = { name: "T", type: this.backend.binding.TF_ATTR_TYPE, value: this.backend.binding.TF_FLOAT };
    try {
      for (const [name, g] of grads) {
        if (!g) continue;
        const variable = tf.engine().registeredVariables[name];
        if (!variable) throw new Error(`ResourceOptimizer: no variable named ${name}.`);
        const { handles } = this.slotFor(name, variable);
        if (this.kind === "sgd") this.run("ResourceApplyGradientDescent", [T], [handles[0], this.constants[0], g]);
        else if (this.kind === "momentum") this.run("ResourceApplyMomentum", [T, this.attr("use_nesterov", "bool", false)], [handles[0], handles[1], this.constants[0], g, this.constants[1]]);
        else {
          const [lr, beta1, beta2] = this.constants;
          const [b1t, b2t, eps] = perStep;
          this.run("ResourceApplyAdam", [T, this.attr("use_nesterov", "bool", false)], [handles[0], handles[1], handles[2], b1t, b2t, lr, beta1, beta2, eps, g]);
        }
        const value = this.backend.executeSingleOutput("ReadVariableOp", [this.attr("dtype", "type", this.backend.binding.TF_FLOAT)], [handles[0]]);
        variable.assign(value);
        value.dispose();
        (this.slots.get(name) as Slot).synced = variable.dataId as object;
      }
    } finally {
      perStep.forEach((t) => t.dispose());
    }
    this.incrementIterations();
  }

  override dispose(): void {
    for (const slot of this.slots.values()) {
      for (const h of slot.handles) {
        this.run("DestroyResourceOp", [this.attr("ignore_lookup_error", "bool", true)], [h]);
        h.dispose();
      }
    }
    this.slots.clear();
    this.constants.forEach((t) => t.dispose());
    super.dispose();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    throw new Error("ResourceOptimizer keeps its slots in TensorFlow; saving them is not supported.");
  }

  override async setWeights(): Promise<void> {
    throw new Error("ResourceOptimizer keeps its slots in TensorFlow; loading them is not supported.");
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { kind: this.kind, learningRate: this.learningRate, ...this.options };
  }
}
