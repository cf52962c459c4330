import { epochOf, hourStart, lastSettledEpoch } from '../accounting/earnings';
import type { ResultRow, StoreTx } from '../store/store';
import type { ValidatorContext } from './context';

/**
 * The bookkeeping of an outcome, inside the caller's transaction: the result's status, the lease,
 * the miner's streak and counters, and the open epoch's credit. A rejection also revokes the
 * miner's credit of every epoch not yet settled (see `revokeUnsettled`).
 */
export async function validateResult(ctx: ValidatorContext, tx: StoreTx, result: ResultRow, unverified: boolean): Promise<void> {
  const now = ctx.clock();
  const epoch = epochOf(now, ctx.settings.epochMs);
  await tx.setResultOutcome(result.taskId, result.miner, { status: 'validated', reason: null, epoch, unverified });
  await tx.setLeaseState(result.taskId, result.miner, 'ok');
  await tx.updateMinerCounters(result.miner, { streak: 1, validatedTokens: result.tokens, rejectedTokens: 0 });
  await tx.addCredit({ miner: result.miner, epoch, hourStartMs: hourStart(now), tokens: result.tokens });
}

/**
 * What a rejection costs the miner. `unverified`: bad work seen by a peer (honest fp16 noise fails
 * a comparison now and then, so only what nobody vouched for is revoked). `unsettled`: bad work
 * seen by the validator's own teacher, the ground truth: every validated result of the epochs not
 * yet settled, checked ones too, since the keys that agreed with it may be its accomplices.
 */
export type Penalty = 'none' | 'unverified' | 'unsettled';

export async function rejectResult(
  ctx: ValidatorContext,
  tx: StoreTx,
  result: ResultRow,
  reason: string,
  penalty: Penalty = 'unverified',
): Promise<void> {
  // A validated result (one an audit failed) gives back its credit; a pending one had none.
  if (result.status === 'validated') await uncredit(ctx, tx, result, reason);
  else {
    await tx.setResultOutcome(result.taskId, result.miner, { status: 'rejected', reason, epoch: null, unverified: false });
    await tx.setLeaseState(result.taskId, result.miner, 'rejected');
    await tx.dropResultBody(result.taskId, result.miner);
    await tx.updateMinerCounters(result.miner, { streak: 0, validatedTokens: 0, rejectedTokens: result.tokens });
  }
  if (penalty === 'none') return;
  await tx.updateMinerCounters(result.miner, { streak: 'reset', validatedTokens: 0, rejectedTokens: 0 });
  // A key caught with bad work no longer vouches for new keys (a seed key is re-established by its next lease).
  await tx.setEstablished(result.miner, false);
  await revokeUnsettled(ctx, tx, result.miner, penalty === 'unverified');
}

/**
 * A miner caught once loses the credit of its results in the epochs not yet settled, the closed
 * ones whose weights wait included: with `onlyUnverified`, those nobody else vouched for (quorum 1,
 * not spot-checked); otherwise all of them. Being honest only where a check is likely therefore
 * never pays, not even just before an epoch closes. Settled epochs are not reached: their weights
 * may already be published, and they are computed once. A task left without validated labels goes
 * back to other miners with full redundancy; one whose other keys keep their credit but whose one
 * kept copy was the revoked one has its documents queued again, as a new task.
 */
async function revokeUnsettled(ctx: ValidatorContext, tx: StoreTx, miner: string, onlyUnverified: boolean): Promise<void> {
  const firstUnsettled = lastSettledEpoch(ctx.clock(), ctx.settings.epochMs, ctx.settings.settleEpochs) + 1;
  for (const r of await tx.validatedResultsSince(miner, firstUnsettled, onlyUnverified)) {
    await uncredit(ctx, tx, r, 'revoked: the miner failed a later check');
    await redoWithout(ctx, tx, r.taskId);
  }
}

/** A validated result becomes rejected: its credit is taken back from the epoch it was credited to. */
async function uncredit(ctx: ValidatorContext, tx: StoreTx, r: ResultRow, reason: string): Promise<void> {
  const now = ctx.clock();
  await tx.setResultOutcome(r.taskId, r.miner, { status: 'rejected', reason, epoch: null, unverified: false });
  await tx.setLeaseState(r.taskId, r.miner, 'rejected');
  await tx.dropResultBody(r.taskId, r.miner);
  await tx.updateMinerCounters(r.miner, { streak: 0, validatedTokens: -r.tokens, rejectedTokens: r.tokens });
  await tx.addCredit({
    miner: r.miner,
    epoch: r.epoch ?? epochOf(now, ctx.settings.epochMs),
    hourStartMs: hourStart(now),
    tokens: -r.tokens,
  });
}

/**
 * After validated results of a task were revoked: its labels are re-computed unless another kept
 * copy remains, once. A task whose documents already went back to the queue (an earlier
 * revocation took its kept copy) is not reopened when a later one takes its last result, nor is
 * one no longer settled: either would queue the same documents twice.
 */
export async function redoWithout(ctx: ValidatorContext, tx: StoreTx, taskId: string): Promise<void> {
  const task = await tx.taskForUpdate(taskId);
  if (task?.state !== 'validated') return;
  const validated = (await tx.resultsOfTask(taskId)).filter((o) => o.status === 'validated');
  if (validated.length === 0) {
    await tx.setTaskState(task.taskId, 'open', Math.max(task.quorum, redundancyFor(ctx)));
  } else if (!validated.some((o) => o.bodyKept)) {
    await tx.requeueDocuments((await tx.taskDocumentChecks(taskId)).map((d) => d.docId));
    await tx.setTaskState(task.taskId, 'requeued');
  }
}

function redundancyFor(ctx: ValidatorContext): number {
  return ctx.settings.localMode ? 1 : ctx.settings.redundancy;
}
