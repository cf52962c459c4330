import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { WeightsResponse } from '../../src-shared/protocol';
import { writeFileAtomicSync } from '../../src-node/atomic-write';
import { errorMessage } from '../../src-node/log';
import { lastSettledEpoch } from './earnings';
import { weightsOf } from '../service/accounts';
import type { ValidatorContext } from '../service/context';

const WEIGHTS_DIR = 'weights';
const CHECK_EVERY_MS = 10_000;

/**
 * Publishes settled epochs: once an epoch is over and its settling delay has passed (so no
 * revocation can change its credit any more, see `revokeUnverified`), its weights (uid → u16) go to
 * `<dataDir>/weights/epoch-<n>.json` and `latest.json`, and GET /v1/weights serves them. With
 * several validator processes on one database, `claimEpochPublication` lets one of them do it.
 * Setting weights on chain is not implemented: a Commune validator key would read these files.
 */
export class WeightsPublisher {
  private timer: NodeJS.Timeout | null = null;
  private lastEpoch: number | null = null;
  private latest: WeightsResponse = { epoch: null, weights: [] };

  constructor(
    private readonly ctx: ValidatorContext,
    private readonly dataDir: string,
  ) {}

  start(): void {
    this.timer = setInterval(
      () => void this.tick().catch((e: unknown) => this.ctx.log.error(`publishing weights failed: ${errorMessage(e)}`)),
      Math.min(CHECK_EVERY_MS, this.ctx.settings.epochMs),
    );
    this.timer.unref();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The last settled epoch's weights (computed from the store, so every process serves the same). */
  async current(): Promise<WeightsResponse> {
    const { epochMs, settleEpochs } = this.ctx.settings;
    const settled = lastSettledEpoch(this.ctx.clock(), epochMs, settleEpochs);
    if (settled < 0) return this.latest;
    if (this.lastEpoch !== settled) {
      this.latest = await weightsOf(this.ctx, settled);
      this.lastEpoch = settled;
    }
    return this.latest;
  }

  async tick(): Promise<void> {
    const weights = await this.current();
    if (weights.epoch === null) return;
    if (!(await this.ctx.store.claimEpochPublication(weights.epoch, this.ctx.clock()))) return;
    const dir = join(this.dataDir, WEIGHTS_DIR);
    mkdirSync(dir, { recursive: true });
    const text = `${JSON.stringify(weights, null, 2)}\n`;
    writeFileAtomicSync(join(dir, `epoch-${weights.epoch}.json`), text);
    writeFileAtomicSync(join(dir, 'latest.json'), text);
    const miners = weights.weights.length;
    // An epoch nobody worked in (every fresh start settles one) is not news: no line at the default level.
    if (miners === 0) this.ctx.log.debug(`epoch ${weights.epoch} settled with no validated work: empty weights written`);
    else this.ctx.log.info(`epoch ${weights.epoch} settled: weights for ${miners} miner${miners === 1 ? '' : 's'} written`);
  }
}
