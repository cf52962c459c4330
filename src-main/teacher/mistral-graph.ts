import type * as onnx from './onnx-schema';
import { DataType, floatTensor, int64Tensor, node, valueInfo } from './onnx-graph';

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

  op(opType: string, inputs: string[], attributes: Parameters<typeof node>[3] = {}, outputName?: string): string {
    const out = outputName ?? `/${opType}_${this.counter++}`;
    this.nodes.push(node(opType, inputs, [out], attributes));
    return out;
  }

  /** A stored (fp16) weight cast to float32, where the math runs. */
  weight(name: string): string {
    return this.op('Cast', [name], { to: { int: DataType.FLOAT } }, `${name}/f32`);
  }

  /** Constants are named for what they hold, so asking twice for one returns the first. */
  ints(name: string, values: number[], dims?: number[]): string {
    return this.constant(name, () => int64Tensor(name, values, dims));
  }

  floats(name: string, values: number[], dims: number[]): string {
    return this.constant(name, () => floatTensor(name, values, dims));
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
  return { cos: g.op('Cos', [angles]), sin: g.op('Sin', [angles]) };
}

/**
 * The operations each decoder layer repeats, over values the whole graph shares. The shared
 * constants are made here, once, in a fixed order: the initializer list (and so the model's
 * bytes and hash) depends on it.
 */
class DecoderOps {
  private readonly hd: number;
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
    this.hd = headDim(shape);
    this.halves = g.ints('/halves', [this.hd / 2, this.hd / 2]);
    this.eps = g.floats('/eps', [shape.rmsNormEps], []);
    this.scale = g.floats('/scale', [1 / Math.sqrt(this.hd)], []);
    this.repeatKv = g.ints('/repeat_kv', [1, 1, shape.numHeads / shape.numKvHeads, 1, 1]);
    this.groupedShape = g.ints('/grouped', [0, shape.numHeads, -1, this.hd]);
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
    const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: { ints: [-1] }, keepdims: { int: 1 } });
    return g.op('Mul', [g.op('Div', [x, g.op('Sqrt', [g.op('Add', [meanSquare, this.eps])])]), g.weight(weight)]);
  }

  /** [batch, seq, n·hd] → [batch, n, seq, hd]. */
  heads(x: string, n: number): string {
    const g = this.g;
    return g.op('Transpose', [g.op('Reshape', [x, g.ints(`/heads${n}`, [0, 0, n, this.hd])])], { perm: { ints: [0, 2, 1, 3] } });
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
    const scores = g.op('Where', [this.mask.allowed, g.op('Mul', [g.op('MatMul', [q, kT]), this.scale]), this.mask.masked]);
    return g.op('MatMul', [g.op('Softmax', [scores], { axis: { int: -1 } }), this.repeat(v)]);
  }
}

/** Self-attention of layer `l` with its KV cache: reads `past_key_values.l.*`, writes `present.l.*`. */
function selfAttention(ops: DecoderOps, l: number, normed: string): string {
  const { g, shape } = ops;
  const p = `model.layers.${l}`;
  const q = ops.rotary(ops.heads(g.op('MatMul', [normed, g.weight(`${p}.self_attn.q_proj.weight_t`)]), shape.numHeads));
  const kNew = ops.rotary(ops.heads(g.op('MatMul', [normed, g.weight(`${p}.self_attn.k_proj.weight_t`)]), shape.numKvHeads));
  const vNew = ops.heads(g.op('MatMul', [normed, g.weight(`${p}.self_attn.v_proj.weight_t`)]), shape.numKvHeads);
  const k = g.op('Concat', [`past_key_values.${l}.key`, kNew], { axis: { int: 2 } }, `present.${l}.key`);
  const v = g.op('Concat', [`past_key_values.${l}.value`, vNew], { axis: { int: 2 } }, `present.${l}.value`);
  const context = ops.attend(q, k, v);
  const merged = g.op('Reshape', [
    g.op('Transpose', [context], { perm: { ints: [0, 2, 1, 3] } }),
    g.ints(`/merge${l}`, [0, 0, shape.hiddenSize]),
  ]);
  return g.op('MatMul', [merged, g.weight(`${p}.self_attn.o_proj.weight_t`)]);
}

/** SwiGLU: down(silu(gate(x)) × up(x)). */
function mlp(g: GraphBuilder, p: string, normed: string): string {
  const gate = g.op('MatMul', [normed, g.weight(`${p}.mlp.gate_proj.weight_t`)]);
  const up = g.op('MatMul', [normed, g.weight(`${p}.mlp.up_proj.weight_t`)]);
  const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
  return g.op('MatMul', [g.op('Mul', [silu, up]), g.weight(`${p}.mlp.down_proj.weight_t`)]);
}

/** One pre-norm decoder layer: x + attention(norm(x)), then + mlp(norm(·)). */
function decoderLayer(ops: DecoderOps, l: number, x: string): string {
  const p = `model.layers.${l}`;
  const afterAttention = ops.g.op('Add', [x, selfAttention(ops, l, ops.rmsNorm(x, `${p}.input_layernorm.weight`))]);
  return ops.g.op('Add', [afterAttention, mlp(ops.g, p, ops.rmsNorm(afterAttention, `${p}.post_attention_layernorm.weight`))]);
}

/** Optimum's I/O names: per layer, the past cache in and the present cache out. */
function graphInterface(shape: MistralShape): { input: onnx.ValueInfoProto[]; output: onnx.ValueInfoProto[] } {
  const hd = headDim(shape);
  const input = [
    valueInfo('input_ids', DataType.INT64, ['batch_size', 'sequence_length']),
    valueInfo('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']),
    valueInfo('position_ids', DataType.INT64, ['batch_size', 'sequence_length']),
  ];
  const output = [valueInfo('logits', DataType.FLOAT, ['batch_size', 'sequence_length', shape.vocabSize])];
  const cacheDims = ['batch_size', shape.numKvHeads, 'past_sequence_length', hd];
  const presentDims = ['batch_size', shape.numKvHeads, 'total_sequence_length', hd];
  for (let l = 0; l < shape.numLayers; l++) {
    for (const kind of ['key', 'value']) {
      input.push(valueInfo(`past_key_values.${l}.${kind}`, DataType.FLOAT, cacheDims));
      output.push(valueInfo(`present.${l}.${kind}`, DataType.FLOAT, presentDims));
    }
  }
  return { input, output };
}

/**
 * The decoder graph in Optimum's I/O layout: inputs `input_ids`, `attention_mask`,
 * `position_ids` (int64) and `past_key_values.N.key/value`; outputs `logits` and `present.N.*`.
 * Weights are stored fp16 (`weightType`) and cast to float32 once; the math runs in float32.
 * Nodes are named by a counter in the order they are made, so the parts run in a fixed order.
 */
export function buildMistralGraph(shape: MistralShape, weights: onnx.TensorProto[]): onnx.GraphProto {
  const g = new GraphBuilder();
  const mask = causalMask(g);
  const ops = new DecoderOps(g, shape, mask, rotaryAngles(g, shape));
  let x = g.op('Gather', [g.weight('model.embed_tokens.weight'), 'input_ids'], { axis: { int: 0 } });
  for (let l = 0; l < shape.numLayers; l++) x = decoderLayer(ops, l, x);
  g.op('MatMul', [ops.rmsNorm(x, 'model.norm.weight'), g.weight('lm_head.weight_t')], {}, 'logits');
  return { name: 'mistral', node: g.nodes, initializer: [...weights, ...g.constants], ...graphInterface(shape) };
}
