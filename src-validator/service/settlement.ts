import { epochOf, hourStart, lastSettledEpoch } from '../accounting/earnings';
import type { ResultRow, StoreTx } from '../store/store';
import type { ValidatorContext } from './context';

/**
 * The bookkeeping of an outcome, inside the caller's transaction: the result's status, the lease,
 * the miner's streak and counters, and the open epoch's credit. A rejection also revokes the
 * miner's unchecked credit of every epoch not yet settled (see `revokeUnverified`).
 */
export async function validateResult(ctx: ValidatorContext, tx: StoreTx, result: ResultRow, unverified: boolean): Promise<void> {
  const now = ctx.clock();
  const epoch = epochOf(now, ctx.settings.epochMs);
  await tx.setResultOutcome(result.taskId, result.miner, { status: 'validated', reason: null, epoch, unverified });
  await tx.setLeaseState(result.taskId, result.miner, 'ok');
  await tx.updateMinerCounters(result.miner, { streak: 1, validatedTokens: result.tokens, rejectedTokens: 0 });
  await tx.addCredit({ miner: result.miner, epoch, hourStartMs: hourStart(now), tokens: result.tokens });
}

export async function rejectResult(ctx: ValidatorContext, tx: StoreTx, result: ResultRow, reason: string, penalise = true): Promise<void> {
  await tx.setResultOutcome(result.taskId, result.miner, { status: 'rejected', reason, epoch: null, unverified: false });
  await tx.setLeaseState(result.taskId, result.miner, 'rejected');
  await tx.dropResultBody(result.taskId, result.miner);
  await tx.updateMinerCounters(result.miner, { streak: penalise ? 'reset' : 0, validatedTokens: 0, rejectedTokens: result.tokens });
  if (!penalise) return;
  // A key caught with bad work no longer vouches for new keys (a seed key is re-established by its next lease).
  await tx.setEstablished(result.miner, false);
  await revokeUnverified(ctx, tx, result.miner);
}

/**
 * A miner caught once loses the credit of every result that nobody else vouched for (quorum 1,
 * not spot-checked) in the epochs not yet settled, the closed ones whose weights wait included,
 * and those tasks go back to other miners with full redundancy. Being honest only where a check
 * is likely therefore never pays, not even just before an epoch closes. Settled epochs are not
 * reached: their weights may already be published, and they are computed once.
 */
async function revokeUnverified(ctx: ValidatorContext, tx: StoreTx, miner: string): Promise<void> {
  const now = ctx.clock();
  const epoch = epochOf(now, ctx.settings.epochMs);
  const firstUnsettled = lastSettledEpoch(now, ctx.settings.epochMs, ctx.settings.settleEpochs) + 1;
  for (const r of await tx.unverifiedResults(miner, firstUnsettled)) {
    await tx.setResultOutcome(r.taskId, miner, {
      status: 'rejected',
      reason: 'revoked: the miner failed a later check',
      epoch: null,
      unverified: false,
    });
    await tx.setLeaseState(r.taskId, miner, 'rejected');
    await tx.dropResultBody(r.taskId, miner);
    await tx.updateMinerCounters(miner, { streak: 0, validatedTokens: -r.tokens, rejectedTokens: r.tokens });
    await tx.addCredit({ miner, epoch: r.epoch ?? epoch, hourStartMs: hourStart(now), tokens: -r.tokens });
    const task = await tx.taskForUpdate(r.taskId);
    if (task) await tx.setTaskState(task.taskId, 'open', Math.max(task.quorum, redundancyFor(ctx)));
  }
}

function redundancyFor(ctx: ValidatorContext): number {
  return ctx.settings.localMode ? 1 : ctx.settings.redundancy;
}
