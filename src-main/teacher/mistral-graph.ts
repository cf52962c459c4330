import type { onnx } from 'onnx-proto';
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

export function headDim(shape: MistralShape): number {
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
  readonly nodes: onnx.INodeProto[] = [];
  readonly constants: onnx.ITensorProto[] = [];
  private readonly constantNames = new Set<string>();
  private counter = 0;

  op(opType: string, inputs: string[], attributes: Parameters<typeof node>[3] = {}, outputName?: string): string {
    const out = outputName ?? `/${opType}_${this.counter++}`;
    this.nodes.push(node(opType, inputs, [out], attributes));
    return out;
  }

  /** Constants are named for what they hold, so asking twice for one returns the first. */
  ints(name: string, values: number[], dims?: number[]): string {
    return this.constant(name, () => int64Tensor(name, values, dims));
  }

  floats(name: string, values: number[], dims: number[]): string {
    return this.constant(name, () => floatTensor(name, values, dims));
  }

  private constant(name: string, make: () => onnx.ITensorProto): string {
    if (!this.constantNames.has(name)) {
      this.constantNames.add(name);
      this.constants.push(make());
    }
    return name;
  }
}

/**
 * The decoder graph in Optimum's I/O layout: inputs `input_ids`, `attention_mask`,
 * `position_ids` (int64) and `past_key_values.N.key/value`; outputs `logits` and `present.N.*`.
 * Weights are stored fp16 (`weightType`) and cast to float32 once; the math runs in float32.
 */
export function buildMistralGraph(shape: MistralShape, weights: onnx.ITensorProto[]): onnx.IGraphProto {
  const g = new GraphBuilder();
  const hd = headDim(shape);
  const { hiddenSize: h, numHeads, numKvHeads } = shape;
  const w = (name: string) => g.op('Cast', [name], { to: { int: DataType.FLOAT } }, `${name}/f32`);

  // Causal mask from the attention mask's length (past + current) and the query positions.
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
  const masked = g.floats('/masked', [-1e30], []);

  // Rotary embeddings: angle = position × θ^(-2i/d), duplicated over both halves (HF's rotate_half layout).
  const invFreq = Array.from({ length: hd / 2 }, (_, i) => 1 / shape.ropeTheta ** ((2 * i) / hd));
  const pos = g.op('Unsqueeze', [g.op('Cast', ['position_ids'], { to: { int: DataType.FLOAT } }), g.ints('/axis2', [2])]);
  const half = g.op('Mul', [pos, g.floats('/inv_freq', invFreq, [hd / 2])]);
  const angles = g.op('Unsqueeze', [g.op('Concat', [half, half], { axis: { int: -1 } }), '/axis1']);
  const cos = g.op('Cos', [angles]);
  const sin = g.op('Sin', [angles]);
  const halves = g.ints('/halves', [hd / 2, hd / 2]);
  const rotary = (x: string) => {
    const parts = [`${x}/lo`, `${x}/hi`];
    g.nodes.push(node('Split', [x, halves], parts, { axis: { int: -1 } }));
    const rotated = g.op('Concat', [g.op('Neg', [parts[1]!]), parts[0]!], { axis: { int: -1 } });
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
  };

  const eps = g.floats('/eps', [shape.rmsNormEps], []);
  const rmsNorm = (x: string, weight: string) => {
    const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: { ints: [-1] }, keepdims: { int: 1 } });
    return g.op('Mul', [g.op('Div', [x, g.op('Sqrt', [g.op('Add', [meanSquare, eps])])]), w(weight)]);
  };
  const heads = (x: string, n: number) =>
    g.op('Transpose', [g.op('Reshape', [x, g.ints(`/heads${n}`, [0, 0, n, hd])])], { perm: { ints: [0, 2, 1, 3] } });
  const scale = g.floats('/scale', [1 / Math.sqrt(hd)], []);
  const repeatKv = g.ints('/repeat_kv', [1, 1, numHeads / numKvHeads, 1, 1]);
  const groupedShape = g.ints('/grouped', [0, numHeads, -1, hd]);
  // GQA: query head j reads kv head floor(j / (numHeads / numKvHeads)), as HF's repeat_kv.
  const repeat = (x: string) => g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [x, '/axis2']), repeatKv]), groupedShape]);

  const inputs = [
    valueInfo('input_ids', DataType.INT64, ['batch_size', 'sequence_length']),
    valueInfo('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']),
    valueInfo('position_ids', DataType.INT64, ['batch_size', 'sequence_length']),
  ];
  const outputs = [valueInfo('logits', DataType.FLOAT, ['batch_size', 'sequence_length', shape.vocabSize])];

  let x = g.op('Gather', [w('model.embed_tokens.weight'), 'input_ids'], { axis: { int: 0 } });
  for (let l = 0; l < shape.numLayers; l++) {
    const p = `model.layers.${l}`;
    const normed = rmsNorm(x, `${p}.input_layernorm.weight`);
    const q = rotary(heads(g.op('MatMul', [normed, w(`${p}.self_attn.q_proj.weight_t`)]), numHeads));
    const kNew = rotary(heads(g.op('MatMul', [normed, w(`${p}.self_attn.k_proj.weight_t`)]), numKvHeads));
    const vNew = heads(g.op('MatMul', [normed, w(`${p}.self_attn.v_proj.weight_t`)]), numKvHeads);
    const cacheDims = ['batch_size', numKvHeads, 'past_sequence_length', hd];
    const presentDims = ['batch_size', numKvHeads, 'total_sequence_length', hd];
    for (const kind of ['key', 'value']) {
      inputs.push(valueInfo(`past_key_values.${l}.${kind}`, DataType.FLOAT, cacheDims));
      outputs.push(valueInfo(`present.${l}.${kind}`, DataType.FLOAT, presentDims));
    }
    const k = g.op('Concat', [`past_key_values.${l}.key`, kNew], { axis: { int: 2 } }, `present.${l}.key`);
    const v = g.op('Concat', [`past_key_values.${l}.value`, vNew], { axis: { int: 2 } }, `present.${l}.value`);
    const kT = g.op('Transpose', [repeat(k)], { perm: { ints: [0, 1, 3, 2] } });
    const scores = g.op('Where', [allowed, g.op('Mul', [g.op('MatMul', [q, kT]), scale]), masked]);
    const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: { int: -1 } }), repeat(v)]);
    const merged = g.op('Reshape', [
      g.op('Transpose', [context], { perm: { ints: [0, 2, 1, 3] } }),
      g.ints(`/merge${l}`, [0, 0, h]),
    ]);
    x = g.op('Add', [x, g.op('MatMul', [merged, w(`${p}.self_attn.o_proj.weight_t`)])]);
    const normed2 = rmsNorm(x, `${p}.post_attention_layernorm.weight`);
    const gate = g.op('MatMul', [normed2, w(`${p}.mlp.gate_proj.weight_t`)]);
    const up = g.op('MatMul', [normed2, w(`${p}.mlp.up_proj.weight_t`)]);
    const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
    x = g.op('Add', [x, g.op('MatMul', [g.op('Mul', [silu, up]), w(`${p}.mlp.down_proj.weight_t`)])]);
  }
  g.op('MatMul', [rmsNorm(x, 'model.norm.weight'), w('lm_head.weight_t')], {}, 'logits');

  return { name: 'mistral', node: g.nodes, initializer: [...weights, ...g.constants], input: inputs, output: outputs };
}
