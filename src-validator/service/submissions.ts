import type { SubmitResponse } from '../../src-shared/protocol';
import { decodeResultBundle, SoftLabelsError } from '../../src-shared/soft-labels';
import { MAX_QUORUM } from '../config';
import { ProtocolError } from '../http/protocol-error';
import type { ResultRow, StoreTx, TaskRow } from '../store/store';
import { compareResults } from '../verify/agreement';
import { shouldCheck } from '../verify/check-policy';
import { findConsensus, pairwise } from '../verify/consensus';
import { parseRecord, type ParsedRecord } from '../verify/record-rows';
import { checkStructure } from '../verify/structural';
import type { ValidatorContext } from './context';
import { rejectResult, validateResult } from './settlement';

export interface Submission {
  miner: string;
  taskId: string;
  body: Uint8Array;
  bodySha256: string;
}

interface Decision {
  response: SubmitResponse;
  recheck: boolean;
}

const ACCEPTED: Decision = { response: { status: 'accepted' }, recheck: false };

/** Splits a bundle and checks its records' CRCs; a body that does not decode is 400 bad-shape and changes nothing. */
export function parseBundle(body: Uint8Array, expectedDocuments?: number): ParsedRecord[] {
  try {
    const records = decodeResultBundle(body);
    if (expectedDocuments !== undefined && records.length !== expectedDocuments) {
      throw new ProtocolError('bad-shape', `The bundle holds ${records.length} documents; the task has ${expectedDocuments}.`);
    }
    return records.map((r) => parseRecord(r));
  } catch (error) {
    if (error instanceof SoftLabelsError) throw new ProtocolError('bad-shape', `The result does not decode: ${error.message}`);
    throw error;
  }
}

function answerOfExisting(existing: ResultRow, sub: Submission): SubmitResponse {
  if (existing.bodySha256 !== sub.bodySha256) {
    throw new ProtocolError('duplicate', `This miner already submitted a different result for task ${sub.taskId}.`);
  }
  return JSON.parse(existing.responseJson) as SubmitResponse;
}

/**
 * POST /v1/tasks/{taskId}/result. Cheap refusals come first and change nothing; then one
 * transaction stores the result and settles whatever it makes decidable. A repeat of the very same
 * bytes gets the first answer again, so a client retrying after a lost response is safe.
 */
export async function submitResult(ctx: ValidatorContext, sub: Submission): Promise<SubmitResponse> {
  const { store } = ctx;
  const existing = await store.result(sub.taskId, sub.miner);
  if (existing) return answerOfExisting(existing, sub);
  const lease = await store.leaseForUpdate(sub.taskId, sub.miner);
  if (!lease) throw new ProtocolError('unknown-task', `No lease on task ${sub.taskId} is held by ${sub.miner}.`);
  const now = ctx.clock();
  if (lease.state === 'expired' || (lease.state === 'active' && lease.deadlineAtMs < now)) {
    throw new ProtocolError('expired', `The lease on task ${sub.taskId} ended at ${new Date(lease.deadlineAtMs).toISOString()}; the task went to another miner.`);
  }
  const task = await store.taskForUpdate(sub.taskId);
  if (!task) throw new ProtocolError('unknown-task', `Task ${sub.taskId} does not exist.`);
  const docs = await store.taskDocumentChecks(sub.taskId);
  const labels = parseBundle(sub.body, docs.length);
  const tokenizer = await ctx.tokenizer();
  const structure = checkStructure(labels, {
    taskId: task.taskId, k: task.k, modelHash: task.modelHash, vocabSize: tokenizer.vocabSize,
    documents: docs.map((d) => ({ docId: d.docId, tokens: d.tokens, tokenIdsChecksum: d.tokenIdsChecksum })),
  }, ctx.random);

  const outcome = await store.transaction(async (tx): Promise<Decision | SubmitResponse> => {
    const again = await tx.result(sub.taskId, sub.miner);
    if (again) return answerOfExisting(again, sub);
    const current = await tx.leaseForUpdate(sub.taskId, sub.miner);
    if (current?.state !== 'active') throw new ProtocolError('expired', `The lease on task ${sub.taskId} is no longer active.`);
    const locked = (await tx.taskForUpdate(sub.taskId))!;
    const row: ResultRow = {
      taskId: sub.taskId, miner: sub.miner, submittedAtMs: now, bodySha256: sub.bodySha256, tokens: task.tokens,
      status: 'pending', reason: null, epoch: null, unverified: false, responseJson: JSON.stringify(ACCEPTED.response), bodyKept: true,
    };
    await tx.insertResult(row, sub.body);
    let decision: Decision;
    if (!structure.ok) {
      await rejectResult(ctx, tx, row, structure.reason);
      decision = { response: { status: 'rejected', reason: structure.reason }, recheck: false };
    } else {
      await tx.setLeaseState(sub.taskId, sub.miner, 'ok');
      decision = await settleTask(ctx, tx, locked, row, labels);
    }
    await tx.setResultResponse(sub.taskId, sub.miner, JSON.stringify(decision.response));
    return decision;
  });
  if (!('recheck' in outcome)) return outcome;
  if (outcome.recheck) ctx.scheduleRecheck(sub.taskId);
  return outcome.response;
}

async function labelsOf(tx: StoreTx, result: ResultRow, fresh: ResultRow, freshLabels: ParsedRecord[]): Promise<ParsedRecord[]> {
  if (result.miner === fresh.miner) return freshLabels;
  return parseBundle((await tx.resultBody(result.taskId, result.miner))!);
}

/** Decides what a new structurally sound result makes decidable for its task. */
async function settleTask(ctx: ValidatorContext, tx: StoreTx, task: TaskRow, fresh: ResultRow, freshLabels: ParsedRecord[]): Promise<Decision> {
  const results = await tx.resultsOfTask(task.taskId);
  if (task.state === 'checking') return ACCEPTED;
  if (task.state === 'validated') {
    // A late replica of a settled task is checked against the accepted answer.
    const reference = results.find((r) => r.status === 'validated' && r.bodyKept);
    if (reference) {
      const verdict = compareResults(await labelsOf(tx, reference, fresh, freshLabels), freshLabels, ctx.random);
      return settleOne(ctx, tx, fresh, verdict.agree ? null : `disagrees with the accepted result: ${verdict.reason}`, false);
    }
  }
  const live = results.filter((r) => r.status !== 'rejected');
  if (live.length < task.quorum) return ACCEPTED;
  if (task.quorum === 1 && live.length === 1) {
    const miner = await tx.minerForUpdate(fresh.miner);
    if (!shouldCheck(miner?.streak ?? 0, ctx.random)) {
      await tx.setTaskState(task.taskId, 'validated');
      return settleOne(ctx, tx, fresh, null, true);
    }
    return escalate(ctx, tx, task);
  }
  const labels = await Promise.all(live.map((r) => labelsOf(tx, r, fresh, freshLabels)));
  const reasons = new Map<number, string>();
  const agree = pairwise(live.length, (i, j) => {
    const verdict = compareResults(labels[i]!, labels[j]!, ctx.random);
    if (!verdict.agree) {
      reasons.set(i, verdict.reason!);
      reasons.set(j, verdict.reason!);
    }
    return verdict.agree;
  });
  const consensus = findConsensus(live.length, agree);
  if (consensus.kind === 'undecided') return escalate(ctx, tx, task);
  let mine: Decision = ACCEPTED;
  // One copy of an agreed result is enough for the data set; the others' bytes are freed.
  const keep = consensus.winners.find((i) => live[i]!.bodyKept) ?? consensus.winners[0]!;
  for (const i of consensus.winners) {
    const decision = await settleOne(ctx, tx, live[i]!, null, false);
    if (i !== keep) await tx.dropResultBody(task.taskId, live[i]!.miner);
    if (live[i]!.miner === fresh.miner) mine = decision;
  }
  for (const i of consensus.losers) {
    const decision = await settleOne(ctx, tx, live[i]!, `disagrees with the majority of ${consensus.winners.length} miners: ${reasons.get(i) ?? 'outside tolerance'}`, false);
    if (live[i]!.miner === fresh.miner) mine = decision;
  }
  await tx.setTaskState(task.taskId, 'validated');
  return mine;
}

async function settleOne(ctx: ValidatorContext, tx: StoreTx, result: ResultRow, rejection: string | null, unverified: boolean): Promise<Decision> {
  if (rejection === null) {
    await validateResult(ctx, tx, result, unverified);
    return { response: { status: 'validated', creditedTokens: result.tokens }, recheck: false };
  }
  await rejectResult(ctx, tx, result, rejection);
  return { response: { status: 'rejected', reason: rejection }, recheck: false };
}

/**
 * No decision from the results at hand: re-compute when a Recomputer exists, otherwise ask one
 * more miner; past MAX_QUORUM results the task fails without blaming anyone.
 */
async function escalate(ctx: ValidatorContext, tx: StoreTx, task: TaskRow): Promise<Decision> {
  if (ctx.recomputer) {
    await tx.setTaskState(task.taskId, 'checking');
    return { response: { status: 'accepted' }, recheck: true };
  }
  if (task.quorum < MAX_QUORUM) {
    await tx.setTaskState(task.taskId, 'open', Math.max(task.quorum + 1, 2));
    return ACCEPTED;
  }
  for (const r of await tx.resultsOfTask(task.taskId)) {
    if (r.status === 'pending') await rejectResult(ctx, tx, r, `no ${MAX_QUORUM} miners reached a majority on this task`, false);
  }
  await tx.setTaskState(task.taskId, 'failed');
  return { response: { status: 'rejected', reason: 'no majority among the miners' }, recheck: false };
}
