import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ExecutionProviderChoice } from '../../src-shared/state';
import { distPath } from '../../src-node/app-paths';
import { errorMessage } from '../../src-node/log';
import { loadTokenizer } from '../../src-node/tokenizer';
import { benchDocuments } from './bench';
import { labelTask } from './labeller';
import { nodePlacement } from './node-placement';
import { TeacherSession } from './teacher-session';

/**
 * `nya bench placement [--model DIR] [--ep auto|cpu|cuda|dml] [--docs N] [--json]`
 *
 * Labels one task with ONNX Runtime's profiler on and reports which provider ran each node
 * (`node-placement.ts`): `heavy_elsewhere` lists every MatMul, attention or softmax node that ran
 * off the session's provider (a silent CPU fallback), `execution_provider` the provider the
 * session ended up on. The last line of --json output is one JSON object.
 */
const USAGE = 'usage: nya bench placement [--model DIR] [--ep EP] [--docs N] [--json]';

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        model: { type: 'string' },
        ep: { type: 'string', default: 'auto' },
        docs: { type: 'string', default: '4' },
        json: { type: 'boolean', default: false },
      },
    }));
    if (!/^\d+$/.test(values.docs) || Number(values.docs) < 1)
      throw new Error(`--docs must be a positive whole number, got '${values.docs}'`);
    ExecutionProviderChoice.parse(values.ep);
  } catch (error) {
    console.error(`nya bench placement: ${errorMessage(error)}\n${USAGE}`);
    return 2;
  }
  const modelDir = values.model ?? distPath('models', 'demo');
  const work = mkdtempSync(join(tmpdir(), 'nya-bench-placement-'));
  let session: TeacherSession | null = null;
  try {
    session = await TeacherSession.load({
      modelDir,
      cacheDir: join(work, 'cache'),
      executionProvider: ExecutionProviderChoice.parse(values.ep),
      profileFilePrefix: join(work, 'profile'),
    });
    const tokenizer = await loadTokenizer(modelDir);
    const task = { taskId: 'placement', k: 16, seqLen: 256, documents: benchDocuments(Number(values.docs), 1) };
    await labelTask(session, tokenizer, task, { maxBatchTokens: 4096 });
    session.endProfiling();
    const file = readdirSync(work).find((f) => f.startsWith('profile') && f.endsWith('.json'));
    if (!file) throw new Error('ONNX Runtime wrote no profile');
    const placement = nodePlacement(JSON.parse(readFileSync(join(work, file), 'utf8')), session.provider);
    const line = `${session.executionProvider} (${session.providerReason}): ${placement.heavyNodes} heavy nodes, ${placement.heavyElsewhere.length} of them elsewhere`;
    if (!values.json) {
      console.log(line);
      for (const n of placement.heavyElsewhere) console.log(`  ${n.op} ${n.node} on ${n.provider}`);
      return 0;
    }
    console.error(line);
    console.log(
      JSON.stringify({
        suite: 'placement',
        model: modelDir,
        execution_provider: session.executionProvider,
        provider_reason: session.providerReason,
        heavy_nodes: placement.heavyNodes,
        heavy_elsewhere: placement.heavyElsewhere,
        nodes_by_provider: placement.byProvider,
      }),
    );
    return 0;
  } catch (error) {
    console.error(`nya bench placement: ${errorMessage(error)}`);
    return 1;
  } finally {
    await session?.release();
    rmSync(work, { recursive: true, force: true });
  }
}
