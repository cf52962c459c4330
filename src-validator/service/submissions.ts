import type { SubmitResponse } from '../../src-shared/protocol';
import { MAX_QUORUM } from '../config';
import type { BodySource, ResultRow, StoreTx, TaskRow } from '../store/store';
import { shouldCheck } from '../verify/check-policy';
import { findConsensus } from '../verify/consensus';
import type { BodyPiece } from '../verify/body-pieces';
import { sampleRows } from '../verify/record-rows';
import type { CompareAnswer } from '../verify/result-checks';
import { recomputerFor, type ValidatorContext } from './context';
import { Refusal } from './errors';
import { rejectResult, validateResult } from './settlement';

export interface Submission {
  miner: string;
  taskId: string;
  /** Complete once the structure job has assembled `bodyPieces` into it (see PooledBody). */
  body: Uint8Array;
  bodyPieces?: BodyPiece[];
  bodySha256: string;
}

interface Decision {
  response: SubmitResponse;
  recheck: boolean;
  /** The task was settled as validated now: offered for an audit once committed. */
  settled?: boolean;
}

const ACCEPTED: Decision = { response: { status: 'accepted' }, recheck: false };

function answerOfExisting(existing: ResultRow, sub: Submission): SubmitResponse {
  if (existing.bodySha256 !== sub.bodySha256) {
    throw new Refusal('duplicate', `This miner already submitted a different result for task ${sub.taskId}.`);
  }
  return JSON.parse(existing.responseJson) as SubmitResponse;
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\n${b}` : `${b}\n${a}`;
}

/**
 * Agreement verdicts between the results of one task, each pair compared once, in the check
 * pool. Rows are drawn per pair, after both results were uploaded.
 */
class Verdicts {
  private readonly known = new Map<string, Promise<CompareAnswer>>();

  constructor(
    private readonly ctx: ValidatorContext,
    private readonly sub: Submission,
    private readonly positions: number[],
  ) {}

  /** A verdict computed elsewhere (with the structure job). */
  know(a: string, b: string, verdict: CompareAnswer): void {
    this.known.set(pairKey(a, b), Promise.resolve(verdict));
  }

  between(tx: StoreTx, a: string, b: string): Promise<CompareAnswer> {
    const key = pairKey(a, b);
    let verdict = this.known.get(key);
    if (!verdict) {
      verdict = Promise.all([this.source(tx, a), this.source(tx, b)]).then(([sa, sb]) =>
        this.ctx.checks.compare({ a: sa, b: sb, rows: sampleRows(this.positions, this.ctx.random) }),
      );
      this.known.set(key, verdict);
    }
    return verdict;
  }

  private async source(tx: StoreTx, miner: string): Promise<BodySource> {
    if (miner === this.sub.miner) return { bytes: this.sub.body };
    const source = await tx.resultBodySource(this.sub.taskId, miner);
    if (!source) throw new Error(`the body of ${miner}'s result for task ${this.sub.taskId} is gone`);
    return source;
  }
}

/**
 * POST /v1/tasks/{taskId}/result. Cheap refusals come first and change nothing. The bytes are
 * then checked outside any transaction, in one job of the check pool: CRCs and sampled rows,
 * agreement with the task's other results, and, for a first result (it waits for its replica, so
 * it is kept), writing the body to its file. One transaction then stores the result and settles whatever it
 * makes decidable from those verdicts, so it holds the store only for bookkeeping. A repeat of
 * the very same bytes gets the first answer again, so a client retrying after a lost response is
 * safe.
 */
export async function submitResult(ctx: ValidatorContext, sub: Submission): Promise<SubmitResponse> {
  const { store } = ctx;
  const existing = await store.result(sub.taskId, sub.miner);
  if (existing) return answerOfExisting(existing, sub);
  const lease = await store.leaseForUpdate(sub.taskId, sub.miner);
  if (!lease) throw new Refusal('unknown-task', `No lease on task ${sub.taskId} is held by ${sub.miner}.`);
  const now = ctx.clock();
  if (lease.state === 'expired' || (lease.state === 'active' && lease.deadlineAtMs < now)) {
    throw new Refusal(
      'expired',
      `The lease on task ${sub.taskId} ended at ${new Date(lease.deadlineAtMs).toISOString()}; the task went to another miner.`,
    );
  }
  const task = await store.taskForUpdate(sub.taskId);
  if (!task) throw new Refusal('unknown-task', `Task ${sub.taskId} does not exist.`);
  const docs = await store.taskDocumentChecks(sub.taskId);
  const positions = docs.map((d) => d.tokens);
  const tokenizer = await ctx.tokenizer();
  const peers = (await store.resultsOfTask(sub.taskId)).filter((r) => r.status !== 'rejected' && r.bodyKept && r.miner !== sub.miner);
  const stageTo = peers.length === 0 ? store.stagingPath(sub.taskId, sub.miner) : null;
  const peerSources: { key: string; source: BodySource; rows: Int32Array[] }[] = [];
  for (const p of peers) {
    const source = await store.resultBodySource(sub.taskId, p.miner);
    if (source) peerSources.push({ key: p.miner, source, rows: sampleRows(positions, ctx.random) });
  }
  let handedOver = false;
  try {
    const structure = await ctx.checks.structure({
      body: sub.body,
      pieces: sub.bodyPieces ?? [],
      task: {
        taskId: task.taskId,
        k: task.k,
        modelHash: task.modelHash,
        vocabSize: tokenizer.vocabSize,
        documents: docs.map((d) => ({ docId: d.docId, tokens: d.tokens, tokenIdsChecksum: d.tokenIdsChecksum })),
      },
      rows: sampleRows(positions, ctx.random),
      stageTo,
      peers: peerSources,
    });
    if (structure.verdict === 'bad-shape') throw new Refusal('bad-shape', structure.message);
    const verdicts = new Verdicts(ctx, sub, positions);
    if (structure.verdict === 'ok')
      for (const [miner, verdict] of Object.entries(structure.agreement)) verdicts.know(miner, sub.miner, verdict);

    const outcome = await store.transaction(async (tx): Promise<Decision | SubmitResponse> => {
      const again = await tx.result(sub.taskId, sub.miner);
      if (again) return answerOfExisting(again, sub);
      const current = await tx.leaseForUpdate(sub.taskId, sub.miner);
      if (current?.state !== 'active') throw new Refusal('expired', `The lease on task ${sub.taskId} is no longer active.`);
      const locked = (await tx.taskForUpdate(sub.taskId))!;
      const row: ResultRow = {
        taskId: sub.taskId,
        miner: sub.miner,
        submittedAtMs: now,
        bodySha256: sub.bodySha256,
        tokens: task.tokens,
        status: 'pending',
        reason: null,
        epoch: null,
        unverified: false,
        responseJson: JSON.stringify(ACCEPTED.response),
        bodyKept: true,
      };
      await tx.insertResult(row, sub.body, structure.verdict === 'ok' && structure.staged ? stageTo : null);
      handedOver = true;
      let decision: Decision;
      if (structure.verdict === 'rejected') {
        await rejectResult(ctx, tx, row, structure.reason);
        decision = { response: { status: 'rejected', reason: structure.reason }, recheck: false };
      } else {
        await tx.setLeaseState(sub.taskId, sub.miner, 'ok');
        // A sound result delivered in time earns back one expiry strike.
        await tx.forgiveLeaseStrike(sub.miner);
        decision = await settleTask(ctx, tx, locked, row, verdicts);
      }
      await tx.setResultResponse(sub.taskId, sub.miner, JSON.stringify(decision.response));
      return decision;
    });
    if (!('recheck' in outcome)) return outcome;
    if (outcome.recheck) ctx.scheduleRecheck(sub.taskId);
    if (outcome.settled) ctx.offerAudit(sub.taskId);
    return outcome.response;
  } finally {
    // A staged file the store did not take over (a refusal, or a repeat that lost the race) is garbage.
    if (stageTo && !handedOver) store.discardStaged(stageTo);
  }
}

/** Decides what a new structurally sound result makes decidable for its task. */
async function settleTask(ctx: ValidatorContext, tx: StoreTx, task: TaskRow, fresh: ResultRow, verdicts: Verdicts): Promise<Decision> {
  const results = await tx.resultsOfTask(task.taskId);
  if (task.state === 'checking') return ACCEPTED;
  if (task.state === 'validated') {
    // A late replica of a settled task is checked against the accepted answer.
    const reference = results.find((r) => r.status === 'validated' && r.bodyKept);
    if (reference) {
      const verdict = await verdicts.between(tx, reference.miner, fresh.miner);
      if (verdict.agree) await establishBy(tx, [reference.miner, fresh.miner]);
      return settleOne(ctx, tx, fresh, verdict.agree ? null : `disagrees with the accepted result: ${verdict.reason}`, false);
    }
  }
  const live = results.filter((r) => r.status !== 'rejected');
  const freshEstablished = (await tx.establishedAmong([fresh.miner])).size > 0;
  // A new key's work waits for an established key's replica, or is re-computed where the validator can.
  if (live.length < task.quorum) return recomputerFor(ctx, task.modelHash) && !freshEstablished ? escalate(ctx, tx, task) : ACCEPTED;
  if (task.quorum === 1 && live.length === 1) {
    const miner = await tx.minerForUpdate(fresh.miner);
    if (freshEstablished && !shouldCheck(miner?.streak ?? 0, ctx.random)) {
      await tx.setTaskState(task.taskId, 'validated');
      return { ...(await settleOne(ctx, tx, fresh, null, true)), settled: true };
    }
    return escalate(ctx, tx, task);
  }
  const agreeing = new Set<string>();
  const reasons = new Map<number, string>();
  for (let i = 0; i < live.length; i++) {
    for (let j = i + 1; j < live.length; j++) {
      const verdict = await verdicts.between(tx, live[i]!.miner, live[j]!.miner);
      if (verdict.agree) agreeing.add(`${i},${j}`);
      else {
        reasons.set(i, verdict.reason!);
        reasons.set(j, verdict.reason!);
      }
    }
  }
  const consensus = findConsensus(live.length, (i, j) => agreeing.has(i < j ? `${i},${j}` : `${j},${i}`));
  if (consensus.kind === 'undecided') return escalate(ctx, tx, task);
  let mine: Decision = ACCEPTED;
  await establishBy(
    tx,
    consensus.winners.map((i) => live[i]!.miner),
  );
  // One copy of an agreed result is enough for the data set; the others' bytes are freed.
  const keep = consensus.winners.find((i) => live[i]!.bodyKept) ?? consensus.winners[0]!;
  for (const i of consensus.winners) {
    const decision = await settleOne(ctx, tx, live[i]!, null, false);
    if (i !== keep) await tx.dropResultBody(task.taskId, live[i]!.miner);
    if (live[i]!.miner === fresh.miner) mine = decision;
  }
  for (const i of consensus.losers) {
    const decision = await settleOne(
      ctx,
      tx,
      live[i]!,
      `disagrees with the majority of ${consensus.winners.length} miners: ${reasons.get(i) ?? 'outside tolerance'}`,
      false,
    );
    if (live[i]!.miner === fresh.miner) mine = decision;
  }
  await tx.setTaskState(task.taskId, 'validated');
  return { ...mine, settled: true };
}

/**
 * Keys that agreed on one task become established when one of them already was: a new key earns
 * its standing only against an established key, never against another new one.
 */
async function establishBy(tx: StoreTx, agreeing: string[]): Promise<void> {
  const established = await tx.establishedAmong(agreeing);
  if (established.size === 0) return;
  for (const miner of agreeing) if (!established.has(miner)) await tx.setEstablished(miner, true);
}

async function settleOne(
  ctx: ValidatorContext,
  tx: StoreTx,
  result: ResultRow,
  rejection: string | null,
  unverified: boolean,
): Promise<Decision> {
  if (rejection === null) {
    await validateResult(ctx, tx, result, unverified);
    return { response: { status: 'validated', creditedTokens: result.tokens }, recheck: false };
  }
  await rejectResult(ctx, tx, result, rejection);
  return { response: { status: 'rejected', reason: rejection }, recheck: false };
}

/**
 * No decision from the results at hand: re-compute when a Recomputer runs the task's model, otherwise ask one
 * more miner; past MAX_QUORUM results the task fails without blaming anyone.
 */
async function escalate(ctx: ValidatorContext, tx: StoreTx, task: TaskRow): Promise<Decision> {
  if (recomputerFor(ctx, task.modelHash)) {
    await tx.setTaskState(task.taskId, 'checking');
    return { response: { status: 'accepted' }, recheck: true };
  }
  if (task.quorum < MAX_QUORUM) {
    await tx.setTaskState(task.taskId, 'open', Math.max(task.quorum + 1, 2));
    return ACCEPTED;
  }
  for (const r of await tx.resultsOfTask(task.taskId)) {
    if (r.status === 'pending') await rejectResult(ctx, tx, r, `no ${MAX_QUORUM} miners reached a majority on this task`, 'none');
  }
  await tx.setTaskState(task.taskId, 'failed');
  return { response: { status: 'rejected', reason: 'no majority among the miners' }, recheck: false };
}
