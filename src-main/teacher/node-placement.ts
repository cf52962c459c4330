import type { ProviderName } from './execution-provider';

/**
 * Which execution provider ran each node, read from ONNX Runtime's profile (one `cat: "Node"`
 * event per kernel run, `args.provider` and `args.op_name`). A session "on CUDA" may still run
 * nodes on the CPU where CUDA has no kernel for an operator or type, copying activations across
 * each time: that silent fallback is what this finds. Shape arithmetic (Shape, Gather of dims,
 * Range) is placed on the CPU on purpose by ONNX Runtime and is cheap; the heavy operators are not.
 */
const ORT_PROVIDER: Record<ProviderName, string> = {
  cuda: 'CUDAExecutionProvider',
  dml: 'DmlExecutionProvider',
  cpu: 'CPUExecutionProvider',
};

/** The operators that carry a decoder's FLOPs and bytes, after ONNX Runtime's fusions. */
const HEAVY_OP = /MatMul|Gemm|Attention|Softmax|Conv/;

export interface NodePlacement {
  /** Distinct nodes per ONNX Runtime provider name, per operator type. */
  byProvider: Record<string, Record<string, number>>;
  heavyNodes: number;
  /** Heavy nodes that ran on another provider than the session's. */
  heavyElsewhere: { node: string; op: string; provider: string }[];
}

interface ProfileEvent {
  cat?: unknown;
  name?: unknown;
  args?: { provider?: unknown; op_name?: unknown };
}

export function nodePlacement(profile: unknown, sessionProvider: ProviderName): NodePlacement {
  if (!Array.isArray(profile)) throw new Error('the ONNX Runtime profile is not a JSON array of events');
  const seen = new Map<string, { op: string; provider: string }>();
  for (const event of profile as ProfileEvent[]) {
    if (event.cat !== 'Node' || typeof event.name !== 'string' || !event.name.endsWith('_kernel_time')) continue;
    const provider = event.args?.provider;
    const op = event.args?.op_name;
    if (typeof provider !== 'string' || typeof op !== 'string') continue;
    seen.set(event.name.slice(0, -'_kernel_time'.length), { op, provider });
  }
  const placement: NodePlacement = { byProvider: {}, heavyNodes: 0, heavyElsewhere: [] };
  for (const [node, { op, provider }] of seen) {
    const ops = (placement.byProvider[provider] ??= {});
    ops[op] = (ops[op] ?? 0) + 1;
    if (!HEAVY_OP.test(op)) continue;
    placement.heavyNodes++;
    if (provider !== ORT_PROVIDER[sessionProvider]) placement.heavyElsewhere.push({ node, op, provider });
  }
  return placement;
}
