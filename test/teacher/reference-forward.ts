import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHalfBits } from '../../src-main/teacher/half';
import { decodeModel, DataType, toNumber } from '../../src-main/teacher/onnx-graph';

/**
 * An independent float64 forward pass of a Mistral decoder, written from the Hugging Face
 * `modeling_mistral.py` definitions (RMSNorm, rotate-half RoPE, repeat_kv GQA, causal softmax
 * attention, SwiGLU), not from our ONNX graph. It reads the weights from the folder's ONNX
 * initializers and sizes from config.json, one sequence at a time, no batching, no padding.
 */
export interface ReferenceModel {
  vocab: number;
  hidden: number;
  inter: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  theta: number;
  eps: number;
  weights: Map<string, Float64Array>;
}

export function loadReferenceModel(dir: string): ReferenceModel {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const model = decodeModel(readFileSync(join(dir, 'model.onnx')));
  const dataFiles = new Map<string, Buffer>();
  const weights = new Map<string, Float64Array>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== DataType.FLOAT16 && t.dataType !== DataType.FLOAT) continue;
    const ext = Object.fromEntries((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    let bytes: Uint8Array;
    if (ext.location) {
      if (!dataFiles.has(ext.location)) dataFiles.set(ext.location, readFileSync(join(dir, ext.location)));
      const offset = Number(ext.offset ?? 0);
      bytes = dataFiles.get(ext.location)!.subarray(offset, offset + Number(ext.length));
    } else {
      bytes = t.rawData ?? new Uint8Array(0);
    }
    const count = (t.dims ?? []).reduce((a: number, d) => a * toNumber(d), 1);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = t.dataType === DataType.FLOAT16 ? fromHalfBits(view.getUint16(2 * i, true)) : view.getFloat32(4 * i, true);
    }
    weights.set(t.name ?? '', out);
  }
  return {
    vocab: config.vocab_size,
    hidden: config.hidden_size,
    inter: config.intermediate_size,
    layers: config.num_hidden_layers,
    heads: config.num_attention_heads,
    kvHeads: config.num_key_value_heads,
    headDim: config.hidden_size / config.num_attention_heads,
    theta: config.rope_theta,
    eps: config.rms_norm_eps,
    weights,
  };
}

function w(m: ReferenceModel, name: string): Float64Array {
  const value = m.weights.get(name);
  if (!value) throw new Error(`reference: no weight ${name}`);
  return value;
}

/** x [n, in] · W [in, out] (W stored [in, out], as the export keeps it). */
function matmul(x: Float64Array[], W: Float64Array, outDim: number): Float64Array[] {
  return x.map((row) => {
    const out = new Float64Array(outDim);
    for (let i = 0; i < row.length; i++) {
      const xi = row[i]!;
      const base = i * outDim;
      for (let j = 0; j < outDim; j++) out[j] = out[j]! + xi * W[base + j]!;
    }
    return out;
  });
}

function rmsNorm(x: Float64Array[], gain: Float64Array, eps: number): Float64Array[] {
  return x.map((row) => {
    let ms = 0;
    for (const v of row) ms += v * v;
    const inv = 1 / Math.sqrt(ms / row.length + eps);
    return row.map((v, i) => v * inv * gain[i]!);
  });
}

/** HF apply_rotary_pos_emb with rotate_half: q·cos + rotate_half(q)·sin, per head. */
function rope(vec: Float64Array, offset: number, headDim: number, pos: number, theta: number): void {
  const half = headDim / 2;
  for (let i = 0; i < half; i++) {
    const angle = pos / theta ** ((2 * i) / headDim);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    const a = vec[offset + i]!;
    const b = vec[offset + i + half]!;
    vec[offset + i] = a * c - b * s;
    vec[offset + i + half] = b * c + a * s;
  }
}

/** Logits [n][vocab] for one unpadded sequence. */
function referenceLogits(m: ReferenceModel, ids: ArrayLike<number>): Float64Array[] {
  const n = ids.length;
  const { hidden, headDim: hd, heads, kvHeads } = m;
  const embed = w(m, 'model.embed_tokens.weight');
  let x = Array.from({ length: n }, (_, t) => embed.slice(ids[t]! * hidden, (ids[t]! + 1) * hidden));
  for (let l = 0; l < m.layers; l++) {
    const p = `model.layers.${l}`;
    const h = rmsNorm(x, w(m, `${p}.input_layernorm.weight`), m.eps);
    const q = matmul(h, w(m, `${p}.self_attn.q_proj.weight_t`), heads * hd);
    const k = matmul(h, w(m, `${p}.self_attn.k_proj.weight_t`), kvHeads * hd);
    const v = matmul(h, w(m, `${p}.self_attn.v_proj.weight_t`), kvHeads * hd);
    for (let t = 0; t < n; t++) {
      for (let hh = 0; hh < heads; hh++) rope(q[t]!, hh * hd, hd, t, m.theta);
      for (let hh = 0; hh < kvHeads; hh++) rope(k[t]!, hh * hd, hd, t, m.theta);
    }
    const ctx = Array.from({ length: n }, () => new Float64Array(heads * hd));
    const group = heads / kvHeads;
    for (let hh = 0; hh < heads; hh++) {
      const kv = Math.floor(hh / group);
      for (let t = 0; t < n; t++) {
        const scores = new Float64Array(t + 1);
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let d = 0; d < hd; d++) dot += q[t]![hh * hd + d]! * k[s]![kv * hd + d]!;
          scores[s] = dot / Math.sqrt(hd);
          max = Math.max(max, scores[s]!);
        }
        let sum = 0;
        for (let s = 0; s <= t; s++) sum += scores[s] = Math.exp(scores[s]! - max);
        for (let s = 0; s <= t; s++) {
          const p2 = scores[s]! / sum;
          for (let d = 0; d < hd; d++) ctx[t]![hh * hd + d] = ctx[t]![hh * hd + d]! + p2 * v[s]![kv * hd + d]!;
        }
      }
    }
    const attn = matmul(ctx, w(m, `${p}.self_attn.o_proj.weight_t`), hidden);
    x = x.map((row, t) => row.map((val, i) => val + attn[t]![i]!));
    const h2 = rmsNorm(x, w(m, `${p}.post_attention_layernorm.weight`), m.eps);
    const gate = matmul(h2, w(m, `${p}.mlp.gate_proj.weight_t`), m.inter);
    const up = matmul(h2, w(m, `${p}.mlp.up_proj.weight_t`), m.inter);
    const act = gate.map((row, t) => row.map((g, i) => (g / (1 + Math.exp(-g))) * up[t]![i]!));
    const down = matmul(act, w(m, `${p}.mlp.down_proj.weight_t`), hidden);
    x = x.map((row, t) => row.map((val, i) => val + down[t]![i]!));
  }
  return matmul(rmsNorm(x, w(m, 'model.norm.weight'), m.eps), w(m, 'lm_head.weight_t'), m.vocab);
}

/** Top-k of the float64 log-softmax at every position: ids and log-probs, descending. */
export function referenceTopK(m: ReferenceModel, ids: ArrayLike<number>, k: number): { ids: number[][]; logprobs: number[][] } {
  const out = { ids: [] as number[][], logprobs: [] as number[][] };
  for (const row of referenceLogits(m, ids)) {
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    const lse = max + Math.log(sum);
    // Keep the k best by insertion: ids sorted by value, descending (lower id first on a tie).
    const order: number[] = [];
    for (let i = 0; i < row.length; i++) {
      if (order.length === k && row[i]! <= row[order[k - 1]!]!) continue;
      let at = order.length;
      while (at > 0 && row[order[at - 1]!]! < row[i]!) at--;
      order.splice(at, 0, i);
      if (order.length > k) order.pop();
    }
    out.ids.push(order);
    out.logprobs.push(order.map((i) => row[i]! - lse));
  }
  return out;
}
