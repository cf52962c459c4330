import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { TokenTotals } from '../../src-shared/state';
import { writeFileAtomicSync } from '../../src-node/atomic-write';
import type { Logger } from '../../src-node/log';
import type { Ledger, MinerStats, SubmissionOutcome } from './ports';

const Persisted = z.object({
  computed: z.number().int().nonnegative(),
  tasksCompleted: z.number().int().nonnegative(),
  localValidated: z.number().int().nonnegative(),
  localRejected: z.number().int().nonnegative(),
  day: z.string(),
  today: z.number().int().nonnegative(),
});
type Persisted = z.infer<typeof Persisted>;

/**
 * The miner's own token counts, kept on disk so they survive a restart. Validated, pending and
 * rejected tokens are the validator's to say: once it has answered, its figures win over the
 * tally of outcomes seen in this data folder.
 */
export class TokenLedger implements Ledger {
  private data: Persisted;
  private validator: MinerStats | null = null;
  private readonly path: string;

  constructor(
    dataDir: string,
    private readonly log: Logger,
  ) {
    this.path = join(dataDir, 'token-totals.json');
    this.data = this.load();
  }

  addComputed(tokens: number, nowMs: number): void {
    this.rollDay(nowMs);
    this.data.computed += tokens;
    this.data.today += tokens;
    this.data.tasksCompleted += 1;
    this.save();
  }

  addOutcome(outcome: SubmissionOutcome, _nowMs: number): void {
    if (outcome.status === 'validated') this.data.localValidated += outcome.creditedTokens ?? outcome.tokens;
    if (outcome.status === 'rejected') this.data.localRejected += outcome.tokens;
    this.save();
  }

  setValidatorTotals(stats: MinerStats): void {
    this.validator = stats;
  }

  totals(nowMs: number): TokenTotals {
    this.rollDay(nowMs);
    const validated = this.validator?.validatedTokens ?? this.data.localValidated;
    const rejected = this.validator?.rejectedTokens ?? this.data.localRejected;
    const pending = this.validator?.pendingTokens ?? Math.max(0, this.data.computed - validated - rejected);
    return {
      computed: this.data.computed,
      pending,
      validated,
      rejected,
      today: this.data.today,
      tasksCompleted: this.data.tasksCompleted,
    };
  }

  private rollDay(nowMs: number): void {
    const day = localDay(nowMs);
    if (day !== this.data.day) {
      this.data.day = day;
      this.data.today = 0;
    }
  }

  private load(): Persisted {
    const fresh: Persisted = { computed: 0, tasksCompleted: 0, localValidated: 0, localRejected: 0, day: '', today: 0 };
    if (!existsSync(this.path)) return fresh;
    try {
      return Persisted.parse(JSON.parse(readFileSync(this.path, 'utf8')));
    } catch (error) {
      this.log.warn(`token totals file unreadable (${(error as Error).message}); counting from zero`);
      return fresh;
    }
  }

  private save(): void {
    try {
      writeFileAtomicSync(this.path, JSON.stringify(this.data));
    } catch (error) {
      this.log.warn(`could not save token totals: ${(error as Error).message}`);
    }
  }
}

function localDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}
