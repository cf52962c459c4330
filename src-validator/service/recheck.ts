import { errorMessage } from '../../src-node/log';
import { MAX_QUORUM, RECOMPUTE_DOCUMENTS, SAMPLED_ROWS_PER_DOCUMENT } from '../config';
import { compareRecordRows } from '../verify/agreement';
import { samplePositions, parseRecord, type ParsedRecord } from '../verify/record-rows';
import { parseBundle } from '../verify/result-checks';
import { recomputerFor, type ValidatorContext } from './context';
import { rejectResult, validateResult } from './settlement';

/** Which document indices to re-compute: random, so a miner cannot predict which are checked. */
function sampleIndices(count: number, want: number, random: () => number): number[] {
  const all = Array.from({ length: count }, (_, i) => i);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, Math.min(want, count)).sort((a, b) => a - b);
}

/**
 * Settles a task in 'checking' state against the validator's own re-computation of randomly
 * chosen documents: each pending result is validated if it agrees there, rejected if not. This is
 * how disagreements are decided without trusting either side, and how single results are
 * spot-checked (in local mode, every check).
 */
export async function recheckTask(ctx: ValidatorContext, taskId: string): Promise<void> {
  const { store } = ctx;
  const task = await store.taskForUpdate(taskId);
  if (!task || task.state !== 'checking') return;
  const recomputer = recomputerFor(ctx, task.modelHash);
  if (!recomputer) {
    // Left in checking by a run that had a teacher for it (see `resumeChecks`); this one has none.
    ctx.log.warn(`task ${taskId} waits for a re-computation no teacher here runs; asking another miner instead`);
    return askAnotherMiner(ctx, taskId);
  }
  const docs = await store.taskDocuments(taskId);
  const picked = sampleIndices(docs.length, RECOMPUTE_DOCUMENTS, ctx.random);
  let reference: ParsedRecord[];
  try {
    const labelled = await recomputer.label({
      taskId,
      k: task.k,
      seqLen: task.seqLen,
      documents: picked.map((i) => ({ docId: docs[i]!.docId, text: docs[i]!.text })),
    });
    reference = labelled.map((l) => parseRecord(l.encoded));
    picked.forEach((docIndex, j) => {
      const ref = reference[j];
      const doc = docs[docIndex]!;
      if (!ref || ref.header.positions !== doc.tokens || ref.header.tokenIdsChecksum !== doc.tokenIdsChecksum) {
        throw new Error(`the re-computation of ${doc.docId} does not match the validator's tokenization`);
      }
    });
  } catch (error) {
    ctx.log.error(`re-computing task ${taskId} failed: ${errorMessage(error)}; asking another miner instead`);
    return askAnotherMiner(ctx, taskId);
  }
  await store.transaction(async (tx) => {
    const t = await tx.taskForUpdate(taskId);
    if (t?.state !== 'checking') return;
    let validated = 0;
    for (const r of await tx.resultsOfTask(taskId)) {
      if (r.status !== 'pending') continue;
      const labels = parseBundle((await tx.resultBody(taskId, r.miner))!);
      let rejection: string | null = null;
      for (let j = 0; j < picked.length && rejection === null; j++) {
        const ref = reference[j]!;
        const rows = samplePositions(ref.header.positions, SAMPLED_ROWS_PER_DOCUMENT, ctx.random);
        let verdict;
        try {
          verdict = compareRecordRows(labels[picked[j]!]!, ref, rows);
        } catch (error) {
          verdict = { agree: false, reason: error instanceof Error ? error.message : String(error) };
        }
        if (!verdict.agree) rejection = `disagrees with the validator's re-computation of document ${picked[j]}: ${verdict.reason}`;
      }
      if (rejection === null) {
        await validateResult(ctx, tx, r, false);
        // Agreeing with the validator's own teacher establishes a key.
        await tx.setEstablished(r.miner, true);
        if (validated > 0) await tx.dropResultBody(taskId, r.miner);
        validated++;
      } else {
        // Its agreed results elsewhere may have been vouched for by an accomplice; local mode's one miner has none.
        await rejectResult(ctx, tx, r, rejection, ctx.settings.localMode ? 'unverified' : 'unsettled');
      }
    }
    await tx.setTaskState(taskId, validated > 0 ? 'validated' : 'open');
  });
}

/** Runs re-computations one at a time (they share the teacher with mining in local mode). */
/** Decides a task in checking without the validator's teacher: one more miner's result. */
async function askAnotherMiner(ctx: ValidatorContext, taskId: string): Promise<void> {
  await ctx.store.transaction(async (tx) => {
    const t = await tx.taskForUpdate(taskId);
    if (t?.state === 'checking') await tx.setTaskState(taskId, 'open', Math.min(MAX_QUORUM, t.quorum + 1));
  });
}

/**
 * Schedules the re-computation of every task a stopped run left in checking: its transaction
 * committed, its re-check was queued in memory only, and without this its pending results would
 * never be decided (nor paid).
 */
export async function resumeChecks(ctx: ValidatorContext, schedule: (taskId: string) => void): Promise<number> {
  const left = await ctx.store.checkingTaskIds();
  for (const taskId of left) schedule(taskId);
  if (left.length > 0) ctx.log.info(`re-checking ${left.length} tasks a previous run left waiting for a re-computation`);
  return left.length;
}

export class RecheckQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly run: (taskId: string) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  schedule(taskId: string): void {
    this.pending++;
    this.tail = this.tail
      .then(() => this.run(taskId))
      .catch(this.onError)
      .finally(() => void this.pending--);
  }

  /** Resolves when everything scheduled so far has run. */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.tail;
  }
}
