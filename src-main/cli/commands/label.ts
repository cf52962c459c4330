import { parseArgs } from 'node:util';
import { ExecutionProviderChoice } from '../../../src-shared/state';
import { decodeSoftLabels, MAX_K, tokenIdsChecksum } from '../../../src-node/soft-labels';
import { distPath } from '../../../src-node/app-paths';
import { errorMessage } from '../../../src-node/log';
import { labelTask } from '../../teacher/labeller';
import { defaultTeacherCacheDir } from '../../teacher/teacher-host';
import { TeacherSession } from '../../teacher/teacher-session';
import { loadTokenizer } from '../../../src-node/tokenizer';

const USAGE = `usage: nya label [--model DIR] [--k K] [--seq-len N] [--batch-tokens N] [--ep auto|cpu|cuda|dml] < docs.jsonl

Soft labels for any text with any Mistral-architecture ONNX export. Reads JSON lines
{"id": ..., "text": ...} on standard input; writes one JSON line per document:
{"id", "token_ids", "topk_ids": [[k ids] per position], "topk_logprobs": [[k] per position]},
decoded from the same binary records the miner submits (log-probs quantised to 1/128 nats).

options:
  --model DIR         ONNX export folder: model.onnx (+ external data), optional tokenizer.json
                      and config.json (default: the bundled demo model, not real teacher output)
  --k K               top-k per position, 1-${MAX_K} (default 16)
  --seq-len N         tokens per document including BOS, right-truncated (default 1024)
  --batch-tokens N    tokens per forward pass, padding included (default 4096)
  --ep EP             execution provider (default auto: CUDA on Linux x64, DirectML on Windows)
  --device N          GPU index (default 0)
  --cache DIR         where the top-k graph is cached (default ${defaultTeacherCacheDir()})`;

export interface LabelIo {
  stdin: AsyncIterable<Buffer | string> | Iterable<Buffer | string>;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

interface InputDoc {
  id: string | number;
  text: string;
}

class UsageError extends Error {}

function isUsageError(error: unknown): boolean {
  return error instanceof UsageError || String((error as { code?: unknown })?.code).startsWith('ERR_PARSE_ARGS');
}

function wholeNumber(name: string, raw: string | undefined, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${raw}'`);
  return value;
}

async function readDocuments(stdin: LabelIo['stdin']): Promise<InputDoc[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  const docs: InputDoc[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`line ${i + 1} is not JSON (${errorMessage(error)})`);
    }
    const { id, text: body } = (value ?? {}) as { id?: unknown; text?: unknown };
    if ((typeof id !== 'string' && typeof id !== 'number') || typeof body !== 'string') {
      throw new UsageError(`line ${i + 1} needs {"id": string or number, "text": string}`);
    }
    if (seen.has(String(id))) throw new UsageError(`line ${i + 1} repeats the id ${JSON.stringify(id)}`);
    seen.add(String(id));
    docs.push({ id, text: body });
  });
  return docs;
}

export async function runLabel(argv: string[], io: LabelIo): Promise<number> {
  let session: TeacherSession | null = null;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        k: { type: 'string' },
        'seq-len': { type: 'string' },
        'batch-tokens': { type: 'string' },
        ep: { type: 'string' },
        device: { type: 'string' },
        cache: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      io.stdout(USAGE);
      return 0;
    }
    const k = wholeNumber('k', values.k, 16, 1, MAX_K);
    const seqLen = wholeNumber('seq-len', values['seq-len'], 1024);
    const maxBatchTokens = wholeNumber('batch-tokens', values['batch-tokens'], 4096);
    const ep = ExecutionProviderChoice.safeParse(values.ep ?? 'auto');
    if (!ep.success) throw new UsageError(`--ep must be one of auto, cpu, cuda, dml, got '${values.ep}'`);
    const gpuDeviceId = wholeNumber('device', values.device, 0, 0, 15);
    const docs = await readDocuments(io.stdin);

    const modelDir = values.model ?? distPath('models', 'demo');
    session = await TeacherSession.load({
      modelDir,
      cacheDir: values.cache ?? defaultTeacherCacheDir(),
      executionProvider: ep.data,
      gpuDeviceId,
    });
    const tokenizer = await loadTokenizer(modelDir);
    io.stderr(
      `nya label: ${session.folder.name}${session.folder.isDemo ? ' (demo model: not real teacher output)' : ''}, ` +
        `hash ${session.modelHash.slice(0, 12)}, ${session.executionProvider} (${session.providerReason}), tokenizer ${tokenizer.source}`,
    );
    // A few dozen documents at a time: output streams, memory stays flat on large inputs.
    for (let start = 0; start < docs.length; start += 64) {
      const chunk = docs.slice(start, start + 64);
      const task = { taskId: 'nya-label', k, seqLen, documents: chunk.map((d) => ({ docId: String(d.id), text: d.text })) };
      const { docs: labelled } = await labelTask(session, tokenizer, task, { maxBatchTokens });
      labelled.forEach((doc, i) => {
        const tokenIds = Array.from(tokenizer.encode(chunk[i]!.text, seqLen));
        const labels = decodeSoftLabels(doc.encoded);
        if (labels.header.tokenIdsChecksum !== tokenIdsChecksum(tokenIds))
          throw new Error(`token ids of ${doc.docId} changed between runs`);
        const topkIds: number[][] = [];
        const topkLogprobs: number[][] = [];
        for (let p = 0; p < labels.header.positions; p++) {
          topkIds.push(Array.from(labels.topkIds.subarray(p * k, (p + 1) * k)));
          topkLogprobs.push(Array.from(labels.topkLogprobs.subarray(p * k, (p + 1) * k)));
        }
        io.stdout(JSON.stringify({ id: chunk[i]!.id, token_ids: tokenIds, topk_ids: topkIds, topk_logprobs: topkLogprobs }));
      });
    }
    return 0;
  } catch (error) {
    const usage = isUsageError(error);
    io.stderr(`nya label: ${errorMessage(error)}${usage ? `\n\n${USAGE}` : ''}`);
    return usage ? 2 : 1;
  } finally {
    await session?.release();
  }
}

export function run(argv: string[]): Promise<number> {
  return runLabel(argv, {
    stdin: process.stdin,
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
  });
}
