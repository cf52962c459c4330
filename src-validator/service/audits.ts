import { errorMessage } from '../../src-node/log';
import { readFile } from 'node:fs/promises';
import { decodeResultBundle, tokenIdsChecksum } from '../../src-node/soft-labels';
import { epochOf } from '../accounting/earnings';
import { AUDIT_TEACHER_PAUSE_MS } from '../config';
import { judgePrefix, type PrefixVerdict } from '../verify/agreement';
import { parseRecord } from '../verify/record-rows';
import { auditChances, pickAudit, pickConfirmation } from './audit-policy';
import { recomputerFor, type ValidatorContext } from './context';
import { redoWithout, rejectResult } from './settlement';

export interface AuditSettings {
  /** Share of credited tokens re-computed (0: no audits). */
  share: number;
  auditsPerKey: number;
  /** Picked audits waiting for the teacher at most; more are skipped. */
  maxQueued: number;
}

/** What the audits did since start-up (tests, the log). */
export interface AuditStats {
  /** Tasks settled as validated and offered. */
  offered: number;
  /** Their credited tokens (tokens times validated results). */
  creditedTokens: number;
  /** Picked, and queued or skipped. */
  picked: number;
  /** Picked but dropped: the queue was full, or the teacher is off. */
  skipped: number;
  /** Of those, floor audits taken out of a full queue to make room for one picked by share. */
  displaced: number;
  passed: number;
  failed: number;
  /** Near misses (failures within the widened bounds) re-audited on another document before any penalty. */
  confirmations: number;
  /** Of those, the ones the second audit passed: no penalty, the keys audited again on their next task. */
  unconfirmed: number;
  /** Positions the teacher re-computed for audits. */
  recomputedTokens: number;
}

interface AuditJob {
  taskId: string;
  modelHash: string;
  documentPositions: readonly number[];
  docIndex: number;
  prefixPositions: number;
  /**
   * Picked by the task's share of credited tokens (or because its keys are watched), not only by
   * the per-key floor. Many small keys can fill the queue with floor audits; they must not crowd
   * out the audits that scale with what a key is paid.
   */
  byShare: boolean;
}

const SKIP_LOG_INTERVAL_MS = 60_000;

/**
 * Audits settled tasks against the validator's own teacher (docs/PROTOCOL.md, "Audits"). Which
 * tasks is decided after they settled, when every result is in, so a miner cannot tell audited
 * work from unaudited work when it computes. Picked audits wait in a bounded queue and run one at
 * a time; when the teacher falls behind, further picks are skipped and counted, never waited for,
 * so uploads are never held up by an audit.
 */
export class Auditor {
  readonly stats: AuditStats = {
    offered: 0,
    creditedTokens: 0,
    picked: 0,
    skipped: 0,
    displaced: 0,
    passed: 0,
    failed: 0,
    confirmations: 0,
    unconfirmed: 0,
    recomputedTokens: 0,
  };
  private readonly queue: AuditJob[] = [];
  private running: Promise<void> | null = null;
  private readonly deciding = new Set<Promise<void>>();
  /** Per key: tasks settled per epoch, over the settling window. */
  private readonly keyTasks = new Map<string, Map<number, number>>();
  /** Keys of a task whose near miss was not confirmed: their next settled task is audited. */
  private readonly watched = new Set<string>();
  /** Per teacher (by the model it runs): why it is paused, and until when. One teacher failing pauses only its variant's audits. */
  private readonly teacherOff = new Map<string, { why: string; untilMs: number }>();
  private lastSkipLogMs = -Infinity;
  private skippedSinceLog = 0;

  constructor(
    private readonly ctx: ValidatorContext,
    private readonly settings: AuditSettings,
  ) {}

  get share(): number {
    return this.settings.share;
  }

  get enabled(): boolean {
    return this.ctx.recomputers.length > 0 && this.settings.share > 0 && !this.ctx.settings.localMode;
  }

  offer(taskId: string): void {
    if (!this.enabled) return;
    const decision = this.decide(taskId).catch((error: unknown) => this.ctx.log.error(`audit of task ${taskId}: ${errorMessage(error)}`));
    this.deciding.add(decision);
    void decision.finally(() => this.deciding.delete(decision));
  }

  /** Resolves when every offered task is decided and every queued audit has run. */
  async idle(): Promise<void> {
    while (this.deciding.size > 0 || this.running) {
      await Promise.all([...this.deciding]);
      await this.running;
    }
  }

  private async decide(taskId: string): Promise<void> {
    const { store } = this.ctx;
    const task = await store.taskForUpdate(taskId);
    // A variant without a teacher here is checked by its miners only (docs/PROTOCOL.md, "Teacher variants").
    if (!task || task.state !== 'validated' || !recomputerFor(this.ctx, task.modelHash)) return;
    const credited = (await store.resultsOfTask(taskId)).filter((r) => r.status === 'validated');
    if (credited.length === 0) return;
    const positions = (await store.taskDocumentChecks(taskId)).map((d) => d.tokens);
    const creditedTokens = task.tokens * credited.length;
    this.stats.offered++;
    this.stats.creditedTokens += creditedTokens;
    const keyTasksInWindow = credited.map((r) => this.countTask(r.miner));
    const watched = credited.filter((r) => this.watched.delete(r.miner)).length > 0;
    const chances = auditChances({
      share: this.settings.share,
      documentPositions: positions,
      creditedTokens,
      auditsPerKey: this.settings.auditsPerKey,
      keyTasksInWindow,
    });
    const draw = this.ctx.random();
    if (!watched && draw >= chances.total) return;
    this.stats.picked++;
    const job = {
      taskId,
      modelHash: task.modelHash,
      documentPositions: positions,
      ...pickAudit(positions, this.ctx.random),
      byShare: watched || draw < chances.byShare,
    };
    if (this.pausedFor(task.modelHash) || !this.admit(job)) {
      this.skip(task.modelHash);
      return;
    }
    this.running ??= this.drain().finally(() => (this.running = null));
  }

  /**
   * Queues a picked audit, ahead of every floor audit if it was picked by share. A full queue
   * takes one by share in place of its newest floor audit; otherwise the pick is refused.
   */
  private admit(job: AuditJob): boolean {
    let firstFloor = this.queue.findIndex((j) => !j.byShare);
    if (this.queue.length >= this.settings.maxQueued) {
      if (!job.byShare || firstFloor < 0) return false;
      const [dropped] = this.queue.splice(this.queue.length - 1, 1);
      this.stats.displaced++;
      this.skip(dropped!.modelHash);
      if (firstFloor === this.queue.length) firstFloor = -1;
    }
    if (job.byShare && firstFloor >= 0) this.queue.splice(firstFloor, 0, job);
    else this.queue.push(job);
    return true;
  }

  /** Whether a teacher's audits are paused after a failure; a pause that has run out ends here, and its teacher is tried again. */
  private pausedFor(modelHash: string): boolean {
    const off = this.teacherOff.get(modelHash);
    if (!off) return false;
    if (this.ctx.clock() < off.untilMs) return true;
    this.teacherOff.delete(modelHash);
    this.ctx.log.info(`audits on again: trying the ${this.variantName(modelHash)} teacher again`);
    return false;
  }

  private variantName(modelHash: string): string {
    return this.ctx.settings.variants.find((v) => v.modelHash === modelHash)?.id ?? modelHash.slice(0, 12);
  }

  /** Counts a settled task for a key and returns its tasks in the settling window. */
  private countTask(miner: string): number {
    const { epochMs, settleEpochs } = this.ctx.settings;
    const epoch = epochOf(this.ctx.clock(), epochMs);
    let perEpoch = this.keyTasks.get(miner);
    if (!perEpoch) this.keyTasks.set(miner, (perEpoch = new Map()));
    perEpoch.set(epoch, (perEpoch.get(epoch) ?? 0) + 1);
    let sum = 0;
    for (const [e, n] of perEpoch) {
      if (e < epoch - settleEpochs) perEpoch.delete(e);
      else sum += n;
    }
    return sum;
  }

  private skip(modelHash: string): void {
    this.stats.skipped++;
    this.skippedSinceLog++;
    const now = this.ctx.clock();
    if (now - this.lastSkipLogMs < SKIP_LOG_INTERVAL_MS) return;
    this.lastSkipLogMs = now;
    const why = this.teacherOff.get(modelHash)?.why ?? `the teacher re-computes slower than --audit-share ${this.settings.share} asks`;
    this.ctx.log.warn(`skipped ${this.skippedSinceLog} audits (${this.stats.skipped} in all): ${why}`);
    this.skippedSinceLog = 0;
  }

  private async drain(): Promise<void> {
    for (let job; (job = this.queue.shift());) {
      if (this.pausedFor(job.modelHash)) {
        this.skip(job.modelHash);
        continue;
      }
      try {
        await this.audit(job);
      } catch (error) {
        this.ctx.log.error(`audit of task ${job.taskId} failed: ${errorMessage(error)}`);
      }
    }
  }

  /**
   * A pass or a gross failure decides at once. A near miss (within the widened bounds honest
   * jitter could reach) is confirmed first by a second audit of another document: only if that
   * fails too are the keys penalised, since a failed audit costs a key all its unsettled credit.
   */
  private async audit(job: AuditJob): Promise<void> {
    const first = await this.judge(job);
    if (first === null) return;
    const failed = `failed an audit of document ${job.docIndex} (first ${job.prefixPositions} positions)`;
    if (first.outcome !== 'near-miss') return this.settle(job, first.outcome === 'pass' ? null : `${failed}: ${first.reason}`);
    this.stats.confirmations++;
    const confirmation = { ...job, ...pickConfirmation(job.documentPositions, job.docIndex, this.ctx.random) };
    const second = await this.judge(confirmation);
    if (second === null) return;
    if (second.outcome !== 'pass') {
      const confirmed = `confirmed on document ${confirmation.docIndex} (first ${confirmation.prefixPositions} positions): ${second.reason}`;
      return this.settle(job, `${failed}, a near miss (${first.reason}), ${confirmed}`);
    }
    this.stats.unconfirmed++;
    const keys = (await this.ctx.store.resultsOfTask(job.taskId)).filter((r) => r.status === 'validated').map((r) => r.miner);
    for (const key of keys) this.watched.add(key);
    this.ctx.log.warn(
      `task ${job.taskId} ${failed} by a near miss (${first.reason}), not confirmed on document ${confirmation.docIndex}: no penalty`,
    );
  }

  /** The teacher's labels of the job's prefix against the kept copy; null when nothing is left to audit or the teacher failed. */
  private async judge(job: AuditJob): Promise<PrefixVerdict | null> {
    const { store } = this.ctx;
    const task = await store.taskForUpdate(job.taskId);
    if (!task || task.state !== 'validated') return null;
    const doc = (await store.taskDocuments(job.taskId))[job.docIndex];
    const kept = (await store.resultsOfTask(job.taskId)).find((r) => r.status === 'validated' && r.bodyKept);
    if (!doc || !kept) return null;
    const prefixIds = (await this.ctx.tokenizer()).encode(doc.text, job.prefixPositions);
    let reference;
    try {
      const [labelled] = await recomputerFor(this.ctx, task.modelHash)!.label({
        taskId: job.taskId,
        k: task.k,
        seqLen: job.prefixPositions,
        documents: [{ docId: doc.docId, text: doc.text }],
      });
      reference = parseRecord(labelled!.encoded);
      const { positions, tokenIdsChecksum: checksum } = reference.header;
      if (positions !== prefixIds.length || checksum !== tokenIdsChecksum(prefixIds)) {
        throw new Error(`its re-computation of ${doc.docId} does not match the validator's tokenization`);
      }
    } catch (error) {
      // This teacher's audits pause, the validator and the other teachers do not: said once per
      // pause, and every pick of its variant meanwhile is counted as skipped.
      const minutes = Math.round(AUDIT_TEACHER_PAUSE_MS / 60_000);
      const why = `the ${this.variantName(task.modelHash)} teacher failed (${errorMessage(error)}); no audits of its variant for ${minutes} minutes`;
      this.teacherOff.set(task.modelHash, { why, untilMs: this.ctx.clock() + AUDIT_TEACHER_PAUSE_MS });
      this.ctx.log.error(`audits off: ${why}`);
      this.skip(task.modelHash);
      return null;
    }
    this.stats.recomputedTokens += reference.header.positions;
    const source = await store.resultBodySource(job.taskId, kept.miner);
    if (!source) return null;
    // Read without blocking the event loop, and only the audited record parsed (its CRC): not the whole bundle.
    // A body revoked meanwhile is gone: nothing left to audit.
    const body = 'bytes' in source ? source.bytes : await readFile(source.path).catch(() => null);
    if (!body) return null;
    try {
      return judgePrefix(parseRecord(decodeResultBundle(body)[job.docIndex]!), reference);
    } catch (error) {
      return { outcome: 'gross', reason: errorMessage(error) };
    }
  }

  /**
   * A pass establishes the task's keys, as a re-computation does. A failure rejects every validated
   * result of the task (they agreed with the failing body: the same wrong labels), revokes those
   * keys' credit of every epoch not yet settled, and puts the task back for re-work.
   */
  private async settle(job: AuditJob, failure: string | null): Promise<void> {
    await this.ctx.store.transaction(async (tx) => {
      const task = await tx.taskForUpdate(job.taskId);
      if (task?.state !== 'validated') return;
      const credited = (await tx.resultsOfTask(job.taskId)).filter((r) => r.status === 'validated');
      if (failure === null) {
        for (const r of credited) await tx.setEstablished(r.miner, true);
        return;
      }
      for (const r of credited) await rejectResult(this.ctx, tx, r, failure, 'unsettled');
      await redoWithout(this.ctx, tx, job.taskId);
    });
    if (failure === null) this.stats.passed++;
    else {
      this.stats.failed++;
      this.ctx.log.warn(`task ${job.taskId} ${failure}`);
    }
  }
}
