import type * as onnx from './onnx-schema';
import { DataType, floatTensor, halfTensor, int64Tensor, node, valueInfo } from './onnx-graph';

/** The hyper-parameters that decide a Mistral decoder's graph (Hugging Face config names in comments). */
export interface MistralShape {
  vocabSize: number; // vocab_size
  hiddenSize: number; // hidden_size
  intermediateSize: number; // intermediate_size
  numLayers: number; // num_hidden_layers
  numHeads: number; // num_attention_heads
  numKvHeads: number; // num_key_value_heads
  ropeTheta: number; // rope_theta
  rmsNormEps: number; // rms_norm_eps
}

/**
 * How the graph stores its weights and where its math runs:
 * - `fp32-math`: fp16 weights cast to float32 once, every operation in float32 (the demo model);
 * - `fp16`: as a real fp16 export computes (Optimum, ONNX Runtime's model builder): fp16 weights,
 *   activations, KV cache and logits, fp16 MatMuls; RMSNorm and the attention softmax in float32
 *   as Hugging Face's Mistral runs them (`hidden_states.to(torch.float32)`, `softmax(dtype=float32)`);
 * - `int4`: `fp16`, with every projection and the LM head as `com.microsoft` `MatMulNBits`
 *   (`int4-weights.ts`); the embedding stays fp16, as ONNX Runtime's quantizer leaves a Gather.
 */
export type GraphPrecision = 'fp32-math' | 'fp16' | 'int4';

/** The initializer names of an int4 projection, as ONNX Runtime's `MatMul4BitsQuantizer` names them. */
export function int4WeightNames(weight: string): { packed: string; scales: string } {
  return { packed: `${weight}_Q4`, scales: `${weight}_scales` };
}

/** MatMulNBits' block: 32 weights along the input axis share one fp16 scale. */
export const INT4_BLOCK_SIZE = 32;

function headDim(shape: MistralShape): number {
  return shape.hiddenSize / shape.numHeads;
}

/** A weight of the graph: name, dims, and how it is laid out ([in, out] for projections). */
export interface WeightSpec {
  name: string;
  dims: number[];
  kind: 'embedding' | 'norm' | 'projection' | 'lm-head';
}

/** Weight names follow Hugging Face's; projections are stored transposed ([in, out]) as Optimum exports them. */
export function mistralWeights(shape: MistralShape): WeightSpec[] {
  const { vocabSize: v, hiddenSize: h, intermediateSize: i, numHeads, numKvHeads } = shape;
  const hd = headDim(shape);
  const specs: WeightSpec[] = [{ name: 'model.embed_tokens.weight', dims: [v, h], kind: 'embedding' }];
  for (let l = 0; l < shape.numLayers; l++) {
    const p = `model.layers.${l}`;
    specs.push(
      { name: `${p}.input_layernorm.weight`, dims: [h], kind: 'norm' },
      { name: `${p}.self_attn.q_proj.weight_t`, dims: [h, numHeads * hd], kind: 'projection' },
      { name: `${p}.self_attn.k_proj.weight_t`, dims: [h, numKvHeads * hd], kind: 'projection' },
      { name: `${p}.self_attn.v_proj.weight_t`, dims: [h, numKvHeads * hd], kind: 'projection' },
      { name: `${p}.self_attn.o_proj.weight_t`, dims: [numHeads * hd, h], kind: 'projection' },
      { name: `${p}.post_attention_layernorm.weight`, dims: [h], kind: 'norm' },
      { name: `${p}.mlp.gate_proj.weight_t`, dims: [h, i], kind: 'projection' },
      { name: `${p}.mlp.up_proj.weight_t`, dims: [h, i], kind: 'projection' },
      { name: `${p}.mlp.down_proj.weight_t`, dims: [i, h], kind: 'projection' },
    );
  }
  specs.push({ name: 'model.norm.weight', dims: [h], kind: 'norm' }, { name: 'lm_head.weight_t', dims: [h, v], kind: 'lm-head' });
  return specs;
}

/** Names the graph's intermediate values and collects its nodes and constants. */
class GraphBuilder {
  readonly nodes: onnx.NodeProto[] = [];
  readonly constants: onnx.TensorProto[] = [];
  private readonly constantNames = new Set<string>();
  private counter = 0;
  /** The element type activations flow in. */
  readonly activationType: number;

  constructor(readonly precision: GraphPrecision) {
    this.activationType = precision === 'fp32-math' ? DataType.FLOAT : DataType.FLOAT16;
  }

  op(opType: string, inputs: string[], attributes: Parameters<typeof node>[3] = {}, outputName?: string): string {
    const out = outputName ?? `/${opType}_${this.counter++}`;
    this.nodes.push(node(opType, inputs, [out], attributes));
    return out;
  }

  /** A stored (fp16) weight as the math reads it: cast to float32 once under `fp32-math`, as it is otherwise. */
  weight(name: string): string {
    if (this.precision !== 'fp32-math') return name;
    return this.op('Cast', [name], { to: { int: DataType.FLOAT } }, `${name}/f32`);
  }

  /** `x @ W` for a projection stored [in, out] (`dims`): a MatMul, or MatMulNBits over its int4 blocks. */
  project(x: string, weight: string, dims: readonly number[], outputName?: string): string {
    if (this.precision !== 'int4') return this.op('MatMul', [x, this.weight(weight)], {}, outputName);
    const { packed, scales } = int4WeightNames(weight);
    const [k, n] = dims as [number, number];
    const out = this.op(
      'MatMulNBits',
      [x, packed, scales],
      { K: { int: k }, N: { int: n }, bits: { int: 4 }, block_size: { int: INT4_BLOCK_SIZE } },
      outputName,
    );
    this.nodes[this.nodes.length - 1]!.domain = 'com.microsoft';
    return out;
  }

  /** An activation into float32 for the steps fp16 exports run wide (norms, softmax); unchanged when it is float32 already. */
  wide(x: string): string {
    return this.precision === 'fp32-math' ? x : this.op('Cast', [x], { to: { int: DataType.FLOAT } });
  }

  /** A float32 result back to the activation type. */
  narrow(x: string): string {
    return this.precision === 'fp32-math' ? x : this.op('Cast', [x], { to: { int: DataType.FLOAT16 } });
  }

  /** Constants are named for what they hold, so asking twice for one returns the first. */
  ints(name: string, values: number[], dims?: number[]): string {
    return this.constant(name, () => int64Tensor(name, values, dims));
  }

  floats(name: string, values: number[], dims: number[]): string {
    return this.constant(name, () => floatTensor(name, values, dims));
  }

  /** A constant in the activation type. */
  activationFloats(name: string, values: number[], dims: number[]): string {
    if (this.activationType === DataType.FLOAT) return this.floats(name, values, dims);
    return this.constant(name, () => halfTensor(name, values, dims));
  }

  private constant(name: string, make: () => onnx.TensorProto): string {
    if (!this.constantNames.has(name)) {
      this.constantNames.add(name);
      this.constants.push(make());
    }
    return name;
  }
}

/** Which key positions each query may attend to, and the score a forbidden one gets. */
interface CausalMask {
  allowed: string;
  masked: string;
}

/** Causal mask from the attention mask's length (past + current) and the query positions. */
function causalMask(g: GraphBuilder): CausalMask {
  const seqLen = g.op('Squeeze', [g.op('Shape', ['input_ids'], { start: { int: 1 }, end: { int: 2 } }), g.ints('/axis0', [0])]);
  const totalLen = g.op('Squeeze', [g.op('Shape', ['attention_mask'], { start: { int: 1 }, end: { int: 2 } }), '/axis0']);
  const pastLen = g.op('Sub', [totalLen, seqLen]);
  const one = g.ints('/one', [1], []);
  const zero = g.ints('/zero', [0], []);
  const queryPos = g.op('Unsqueeze', [g.op('Range', [pastLen, totalLen, one]), g.ints('/axis1', [1])]);
  const keyPos = g.op('Unsqueeze', [g.op('Range', [zero, totalLen, one]), '/axis0']);
  const causal = g.op('LessOrEqual', [keyPos, queryPos]);
  const keep = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: { int: DataType.BOOL } }), g.ints('/axes12', [1, 2])]);
  const allowed = g.op('And', [causal, keep]);
  return { allowed, masked: g.floats('/masked', [-1e30], []) };
}

/** Rotary embeddings: angle = position × θ^(-2i/d), duplicated over both halves (HF's rotate_half layout). */
function rotaryAngles(g: GraphBuilder, shape: MistralShape): { cos: string; sin: string } {
  const hd = headDim(shape);
  const invFreq = Array.from({ length: hd / 2 }, (_, i) => 1 / shape.ropeTheta ** ((2 * i) / hd));
  const pos = g.op('Unsqueeze', [g.op('Cast', ['position_ids'], { to: { int: DataType.FLOAT } }), g.ints('/axis2', [2])]);
  const half = g.op('Mul', [pos, g.floats('/inv_freq', invFreq, [hd / 2])]);
  const angles = g.op('Unsqueeze', [g.op('Concat', [half, half], { axis: { int: -1 } }), '/axis1']);
  // Computed in float32 and rounded once to the activation type, as Hugging Face's rotary embedding does.
  const cos = g.narrow(g.op('Cos', [angles]));
  return { cos, sin: g.narrow(g.op('Sin', [angles])) };
}

/**
 * The operations each decoder layer repeats, over values the whole graph shares. The shared
 * constants are made here, once, in a fixed order: the initializer list (and so the model's
 * bytes and hash) depends on it.
 */
class DecoderOps {
  readonly headDim: number;
  private readonly halves: string;
  private readonly eps: string;
  private readonly scale: string;
  private readonly repeatKv: string;
  private readonly groupedShape: string;

  constructor(
    readonly g: GraphBuilder,
    readonly shape: MistralShape,
    private readonly mask: CausalMask,
    private readonly angles: { cos: string; sin: string },
  ) {
    this.headDim = headDim(shape);
    this.halves = g.ints('/halves', [this.headDim / 2, this.headDim / 2]);
    this.eps = g.floats('/eps', [shape.rmsNormEps], []);
    this.scale = g.activationFloats('/scale', [1 / Math.sqrt(this.headDim)], []);
    this.repeatKv = g.ints('/repeat_kv', [1, 1, shape.numHeads / shape.numKvHeads, 1, 1]);
    this.groupedShape = g.ints('/grouped', [0, shape.numHeads, -1, this.headDim]);
  }

  rotary(x: string): string {
    const g = this.g;
    const parts = [`${x}/lo`, `${x}/hi`];
    g.nodes.push(node('Split', [x, this.halves], parts, { axis: { int: -1 } }));
    const rotated = g.op('Concat', [g.op('Neg', [parts[1]!]), parts[0]!], { axis: { int: -1 } });
    return g.op('Add', [g.op('Mul', [x, this.angles.cos]), g.op('Mul', [rotated, this.angles.sin])]);
  }

  rmsNorm(x: string, weight: string): string {
    const g = this.g;
    const wide = g.wide(x);
    const meanSquare = g.op('ReduceMean', [g.op('Mul', [wide, wide])], { axes: { ints: [-1] }, keepdims: { int: 1 } });
    const normed = g.op('Div', [wide, g.op('Sqrt', [g.op('Add', [meanSquare, this.eps])])]);
    return g.op('Mul', [g.narrow(normed), g.weight(weight)]);
  }

  /** [batch, seq, n·hd] → [batch, n, seq, hd]. */
  heads(x: string, n: number): string {
    const g = this.g;
    return g.op('Transpose', [g.op('Reshape', [x, g.ints(`/heads${n}`, [0, 0, n, this.headDim])])], { perm: { ints: [0, 2, 1, 3] } });
  }

  /** GQA: query head j reads kv head floor(j / (numHeads / numKvHeads)), as HF's repeat_kv. */
  repeat(x: string): string {
    const g = this.g;
    return g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [x, '/axis2']), this.repeatKv]), this.groupedShape]);
  }

  /** Softmax(q·kᵀ/√d) over the allowed keys, applied to the values. */
  attend(q: string, k: string, v: string): string {
    const g = this.g;
    const kT = g.op('Transpose', [this.repeat(k)], { perm: { ints: [0, 1, 3, 2] } });
    const scaled = g.wide(g.op('Mul', [g.op('MatMul', [q, kT]), this.scale]));
    const scores = g.op('Where', [this.mask.allowed, scaled, this.mask.masked]);
    return g.op('MatMul', [g.narrow(g.op('Softmax', [scores], { axis: { int: -1 } })), this.repeat(v)]);
  }
}

/** Self-attention of layer `l` with its KV cache: reads `past_key_values.l.*`, writes `present.l.*`. */
function selfAttention(ops: DecoderOps, l: number, normed: string): string {
  const { g, shape } = ops;
  const p = `model.layers.${l}`;
  const { hiddenSize: h } = shape;
  const qDims = [h, shape.numHeads * ops.headDim];
  const kvDims = [h, shape.numKvHeads * ops.headDim];
  const q = ops.rotary(ops.heads(g.project(normed, `${p}.self_attn.q_proj.weight_t`, qDims), shape.numHeads));
  const kNew = ops.rotary(ops.heads(g.project(normed, `${p}.self_attn.k_proj.weight_t`, kvDims), shape.numKvHeads));
  const vNew = ops.heads(g.project(normed, `${p}.self_attn.v_proj.weight_t`, kvDims), shape.numKvHeads);
  const k = g.op('Concat', [`past_key_values.${l}.key`, kNew], { axis: { int: 2 } }, `present.${l}.key`);
  const v = g.op('Concat', [`past_key_values.${l}.value`, vNew], { axis: { int: 2 } }, `present.${l}.value`);
  const context = ops.attend(q, k, v);
  const merged = g.op('Reshape', [
    g.op('Transpose', [context], { perm: { ints: [0, 2, 1, 3] } }),
    g.ints(`/merge${l}`, [0, 0, shape.hiddenSize]),
  ]);
  return g.project(merged, `${p}.self_attn.o_proj.weight_t`, [shape.numHeads * ops.headDim, h]);
}

/** SwiGLU: down(silu(gate(x)) × up(x)). */
function mlp(g: GraphBuilder, shape: MistralShape, p: string, normed: string): string {
  const { hiddenSize: h, intermediateSize: i } = shape;
  const gate = g.project(normed, `${p}.mlp.gate_proj.weight_t`, [h, i]);
  const up = g.project(normed, `${p}.mlp.up_proj.weight_t`, [h, i]);
  const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
  return g.project(g.op('Mul', [silu, up]), `${p}.mlp.down_proj.weight_t`, [i, h]);
}

/** One pre-norm decoder layer: x + attention(norm(x)), then + mlp(norm(·)). */
function decoderLayer(ops: DecoderOps, l: number, x: string): string {
  const p = `model.layers.${l}`;
  const afterAttention = ops.g.op('Add', [x, selfAttention(ops, l, ops.rmsNorm(x, `${p}.input_layernorm.weight`))]);
  return ops.g.op('Add', [afterAttention, mlp(ops.g, ops.shape, p, ops.rmsNorm(afterAttention, `${p}.post_attention_layernorm.weight`))]);
}

/** Optimum's I/O names: per layer, the past cache in and the present cache out. */
function graphInterface(shape: MistralShape, floatType: number): { input: onnx.ValueInfoProto[]; output: onnx.ValueInfoProto[] } {
  const hd = headDim(shape);
  const input = [
    valueInfo('input_ids', DataType.INT64, ['batch_size', 'sequence_length']),
    valueInfo('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']),
    valueInfo('position_ids', DataType.INT64, ['batch_size', 'sequence_length']),
  ];
  const output = [valueInfo('logits', floatType, ['batch_size', 'sequence_length', shape.vocabSize])];
  const cacheDims = ['batch_size', shape.numKvHeads, 'past_sequence_length', hd];
  const presentDims = ['batch_size', shape.numKvHeads, 'total_sequence_length', hd];
  for (let l = 0; l < shape.numLayers; l++) {
    for (const kind of ['key', 'value']) {
      input.push(valueInfo(`past_key_values.${l}.${kind}`, floatType, cacheDims));
      output.push(valueInfo(`present.${l}.${kind}`, floatType, presentDims));
    }
  }
  return { input, output };
}

/**
 * The decoder graph in Optimum's I/O layout: inputs `input_ids`, `attention_mask`,
 * `position_ids` (int64) and `past_key_values.N.key/value`; outputs `logits` and `present.N.*`.
 * `precision` says how weights are stored and math runs (`GraphPrecision`); `weights` must be the
 * initializers it reads. Nodes are named by a counter in the order they are made, so the parts run
 * in a fixed order and `fp32-math` (the demo model) keeps its bytes.
 */
export function buildMistralGraph(
  shape: MistralShape,
  weights: onnx.TensorProto[],
  precision: GraphPrecision = 'fp32-math',
): onnx.GraphProto {
  const g = new GraphBuilder(precision);
  const mask = causalMask(g);
  const ops = new DecoderOps(g, shape, mask, rotaryAngles(g, shape));
  let x = g.op('Gather', [g.weight('model.embed_tokens.weight'), 'input_ids'], { axis: { int: 0 } });
  for (let l = 0; l < shape.numLayers; l++) x = decoderLayer(ops, l, x);
  g.project(ops.rmsNorm(x, 'model.norm.weight'), 'lm_head.weight_t', [shape.hiddenSize, shape.vocabSize], 'logits');
  return { name: 'mistral', node: g.nodes, initializer: [...weights, ...g.constants], ...graphInterface(shape, g.activationType) };
}
