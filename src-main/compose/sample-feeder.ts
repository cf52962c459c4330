import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningValidator } from '../../src-validator';
import { readFineWebShard } from '../../src-validator/fineweb';
import { writeFileAtomicSync } from '../../src-node/atomic-write';
import { errorMessage, type Logger } from '../../src-node/log';

/** Below this many queued documents (one full task's worth) the next round is queued. */
const LOW_WATER_DOCS = 64;
/** How often the queue is looked at: a count query, so cheap; short, so the demo miner never finds it empty. */
const CHECK_INTERVAL_MS = 2_000;

export interface SampleFeederOptions {
  /** Where the round counter is kept (the embedded validator's folder). */
  dir: string;
  /** The FineWeb-format shard to queue. */
  shard: string;
  log: Logger;
  intervalMs?: number;
}

/**
 * The embedded validator's work: the bundled FineWeb-format sample. Before the local miner has
 * labelled all of it, the sample is queued again as the next round, so the demo keeps mining
 * without a "no work" pause. A round after the first queues the same document rows again rather
 * than copies of them: the demo goes through a round in seconds, and the database must not grow
 * by a copy of the sample each time (issue 19, "a miner left running fills the disk"). The demo
 * model's labels are never real teacher output either way.
 */
export class SampleFeeder {
  private timer: ReturnType<typeof setInterval> | null = null;
  private busy = false;
  private readonly roundFile: string;
  /** Rounds queued so far: read from `roundFile` once, then kept here. */
  private rounds: number | null = null;
  /** The sample's document ids, read from the shard once a run: each later round queues these rows again. */
  private ids: string[] | null = null;

  constructor(
    private readonly validator: Pick<RunningValidator, 'addDocuments'> & {
      store: Pick<RunningValidator['store'], 'queueDepth' | 'requeueSettledDocuments'>;
    },
    private readonly o: SampleFeederOptions,
  ) {
    this.roundFile = join(o.dir, 'sample-round.txt');
  }

  start(): void {
    this.timer = setInterval(() => void this.feedIfLow(), this.o.intervalMs ?? CHECK_INTERVAL_MS);
    this.timer.unref?.();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async feedIfLow(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const depth = await this.validator.store.queueDepth();
      if (depth.queued >= LOW_WATER_DOCS) return;
      const round = (this.rounds ??= this.savedRounds()) + 1;
      let queued = 0;
      if (round === 1 || this.ids === null) {
        if (!existsSync(this.o.shard)) {
          this.o.log.warn(`no sample data at ${this.o.shard}; run \`npm run build\` to generate it`);
          return;
        }
        const ids: string[] = [];
        for await (const docs of readFineWebShard(this.o.shard)) {
          ids.push(...docs.map((doc) => doc.id));
          if (round === 1)
            queued += await this.validator.addDocuments(
              docs.map((doc) => ({ docId: doc.id, url: doc.url, text: doc.text, tokenCount: doc.tokenCount })),
            );
        }
        this.ids = ids;
      }
      if (round > 1) queued = await this.validator.store.requeueSettledDocuments(this.ids);
      // Every document still in an open task: nothing queued, and the round is not over yet.
      if (queued === 0 && round > 1) return;
      writeFileAtomicSync(this.roundFile, `${round}\n`);
      this.rounds = round;
      // The demo model goes through a round in seconds: only the first is news.
      const line = `queued ${queued} sample documents for the local validator (round ${round})`;
      if (round === 1) this.o.log.info(line);
      else this.o.log.debug(line);
    } catch (error) {
      this.o.log.error(`could not queue sample documents: ${errorMessage(error)}`);
    } finally {
      this.busy = false;
    }
  }

  private savedRounds(): number {
    try {
      const n = Number(readFileSync(this.roundFile, 'utf8').trim());
      return Number.isInteger(n) && n >= 0 ? n : 0;
    } catch {
      return 0;
    }
  }
}
