import { randomBytes } from 'node:crypto';
import { API, type LeaseRequest, type LeaseResponse, type Task } from '../../src-shared/protocol';
import { tokenIdsChecksum } from '../../src-node/soft-labels';
import { DEFAULT_TOKENS_PER_S, MAX_TASK_DOCUMENTS, NO_WORK_RETRY_MS, OPEN_LEASES_RETRY_MS, TARGET_TASK_SECONDS } from '../config';
import type { Store, StoreTx, TaskRow } from '../store/store';
import type { Tokenizer } from '../tasks/tokenizer';
import { pickDocuments } from '../tasks/task-sizing';
import { shouldCheck } from '../verify/check-policy';
import type { ValidatorContext } from './context';
import { Refusal } from './errors';
import { afterExpiry, leaseVerdict, type LeaseVerdict } from './lease-limits';
import { replicaChoices } from './replica-choice';

/** Open replica slots the validator chooses among per lease (the oldest ones). */
const REPLICA_CANDIDATES = 32;

const TOKENIZE_BATCH = 256;
// No task is larger than this: a cap that also fits PostgreSQL's INTEGER.
const MAX_TASK_TOKENS = 1 << 30;

function newTaskId(): string {
  return `t-${randomBytes(12).toString('hex')}`;
}

/**
 * Tokenizes a batch of queued documents for a sequence length (the token count and checksum every
 * result is checked against); returns how many it did, 0 when none are left.
 */
export async function prepareDocuments(
  store: Store,
  tokenizer: () => Promise<Tokenizer>,
  seqLen: number,
  limit = TOKENIZE_BATCH,
): Promise<number> {
  const docs = await store.untokenizedDocuments(seqLen, limit);
  if (docs.length === 0) return 0;
  const tok = await tokenizer();
  const rows = docs.map((d) => {
    const ids = tok.encode(d.text, seqLen);
    return { docId: d.docId, tokens: ids.length, tokenIdsChecksum: tokenIdsChecksum(ids) };
  });
  await store.setTokenizations(seqLen, rows);
  return rows.length;
}

/**
 * A lease answer with the task's documents already encoded as JSON by the store
 * (`taskDocumentsJson`); `leaseAnswerBody` writes it out as a LeaseResponse.
 */
export type LeaseAnswer =
  Extract<LeaseResponse, { kind: 'no-work' }> | { kind: 'task'; task: Omit<Task, 'documents'>; documentsJson: Buffer[] };

/** Expires leases past their deadline and counts each against its key (a strike, maybe a cool-down). */
async function expireAndStrike(ctx: ValidatorContext, tx: StoreTx, nowMs: number): Promise<void> {
  const expired = await tx.expireLeases(nowMs);
  const perMiner = new Map<string, number>();
  for (const miner of expired) perMiner.set(miner, (perMiner.get(miner) ?? 0) + 1);
  for (const [miner, count] of perMiner) {
    const standing = afterExpiry(await tx.leaseStandingForUpdate(miner), count, ctx.settings.leaseLimits, nowMs);
    await tx.setLeaseStanding(miner, standing);
  }
}

/**
 * How a struck key's task is sized: `sizeScale` of what its request would get, replicas included
 * (the soft budget shrinks; `pickDocuments` still gives at least one document).
 */
function shrunk(req: LeaseRequest, maxTokens: number, sizeScale: number) {
  if (sizeScale >= 1) return { maxTokens: req.maxTokens, tokensPerS: req.tokensPerS, replicaMaxTokens: maxTokens };
  const budget = Math.min(maxTokens, (req.tokensPerS ?? DEFAULT_TOKENS_PER_S) * TARGET_TASK_SECONDS) * sizeScale;
  return { maxTokens: req.maxTokens, tokensPerS: budget / TARGET_TASK_SECONDS, replicaMaxTokens: Math.max(1, Math.floor(budget)) };
}

/** May this miner take one more lease, and how large (its strikes halve the task)? */
async function verdictFor(ctx: ValidatorContext, tx: StoreTx, miner: string, nowMs: number): Promise<LeaseVerdict> {
  const { leaseLimits, leaseMs } = ctx.settings;
  return leaseVerdict(
    await tx.leaseStandingForUpdate(miner),
    await tx.openLeases(miner),
    () => tx.deliveredTokensSince(miner, nowMs - leaseMs),
    leaseLimits,
    nowMs,
    OPEN_LEASES_RETRY_MS,
  );
}

/**
 * A replica slot this miner may fill, chosen at random among the eligible ones (replica-choice.ts)
 * and locked; null when there is none.
 */
async function chosenReplica(
  ctx: ValidatorContext,
  tx: StoreTx,
  asker: { miner: string; firstSeenMs: number; remoteAddress: string | null; established: boolean },
  modelHash: string,
  maxTokens: number,
): Promise<TaskRow | null> {
  const candidates = await tx.replicaCandidates(asker.miner, modelHash, maxTokens, REPLICA_CANDIDATES);
  for (const choice of replicaChoices(asker, candidates, ctx.settings.replicaRules, ctx.random)) {
    const task = await tx.openReplicaSlotForUpdate(choice.task.taskId);
    if (task) return task;
  }
  return null;
}

/**
 * Hands a miner one task: first an open task that still needs a replica, one the validator chose
 * among those this miner may check (never held, and see "Who checks whom" in docs/PROTOCOL.md),
 * else a new task from the queue, sized to the miner. Expired leases are released on the way,
 * which re-opens their replica slots. `remoteAddress`: where the request came from. The model
 * hash the request names picks the teacher variant: a task is that variant's from its first lease
 * on, and its replicas go only to keys leasing with the same hash.
 */
export async function leaseTask(
  ctx: ValidatorContext,
  miner: string,
  req: LeaseRequest,
  remoteAddress: string | null = null,
): Promise<LeaseAnswer> {
  const { settings, store } = ctx;
  const modelHash = req.modelHash ?? settings.modelHash;
  const variant = settings.variants.find((v) => v.modelHash === modelHash);
  if (!variant) {
    const accepted = settings.variants.map((v) => `${v.id} (${v.modelHash.slice(0, 12)}…)`).join(', ');
    throw new Refusal(
      'wrong-model',
      `This validator accepts labels from the teacher variants ${accepted}; the miner runs ${modelHash}. GET ${API.model} lists them and where to get them.`,
    );
  }
  const now = ctx.clock();
  const maxTokens = Math.min(req.maxTokens ?? MAX_TASK_TOKENS, MAX_TASK_TOKENS);
  for (let attempt = 0; attempt < 2; attempt++) {
    const leased = await store.transaction(async (tx) => {
      const row = await tx.upsertMiner(miner, { name: req.name, gpuClass: req.gpuClass, nowMs: now });
      const established = await tx.recordOrigin(miner, remoteAddress, settings.establishedKeys.has(miner));
      await expireAndStrike(ctx, tx, now);
      const verdict = await verdictFor(ctx, tx, miner, now);
      if (verdict.kind === 'refuse') return verdict;
      const sizing = shrunk(req, maxTokens, verdict.sizeScale);
      const asker = { miner, firstSeenMs: row.createdAtMs, remoteAddress, established };
      let task = await chosenReplica(ctx, tx, asker, modelHash, sizing.replicaMaxTokens);
      if (!task) {
        const ready = await tx.readyDocumentsForUpdate(settings.seqLen, MAX_TASK_DOCUMENTS * 4);
        const picked = pickDocuments(ready, sizing);
        if (picked.length === 0) return null;
        // Only an established key's work may go unchecked: a streak earned before it was established proves nothing.
        const quorum = settings.localMode || (established && !shouldCheck(row.streak, ctx.random)) ? 1 : settings.redundancy;
        task = {
          taskId: newTaskId(),
          createdAtMs: now,
          k: settings.k,
          seqLen: settings.seqLen,
          modelHash,
          tokens: picked.reduce((s, d) => s + d.tokens, 0),
          quorum,
          state: 'open',
        } satisfies TaskRow;
        await tx.markDocumentsAssigned(picked.map((d) => d.docId));
        await tx.insertTask(task, variant.id, picked);
      }
      await tx.insertLease({ taskId: task.taskId, miner, leasedAtMs: now, deadlineAtMs: now + settings.leaseMs, state: 'active' });
      return { task, documentsJson: await tx.taskDocumentsJson(task.taskId) };
    });
    if (leased && 'reason' in leased) return { kind: 'no-work', retryAfterMs: leased.retryAfterMs, reason: leased.reason };
    if (leased) {
      const { taskId, k, seqLen, tokens } = leased.task;
      const task = { taskId, k, seqLen, modelHash: leased.task.modelHash, deadlineAtMs: now + settings.leaseMs, tokens };
      return { kind: 'task', task, documentsJson: leased.documentsJson };
    }
    // Nothing ready: tokenize a batch of queued documents and try once more.
    if (attempt === 0 && (await prepareDocuments(store, ctx.tokenizer, settings.seqLen)) === 0) break;
  }
  return { kind: 'no-work', retryAfterMs: NO_WORK_RETRY_MS, reason: 'queue-empty' };
}
