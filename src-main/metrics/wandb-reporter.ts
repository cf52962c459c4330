import type { StateSnapshot } from '../../src-shared/state';
import { errorMessage, silentLogger, type Logger } from '../../src-node/log';
import { flatFigures, snapshotFigures } from './figures';

/** Something that ships the monitoring figures somewhere on each report. */
export interface MetricsReporter {
  start(): Promise<void>;
  report(snapshot: StateSnapshot): Promise<void>;
  dispose(): Promise<void>;
}

/** The part of `@wandb/sdk`'s default export we use (its documented init / log / finish). */
export interface WandbSdk {
  init(options: { project?: string; config?: Record<string, unknown> }): Promise<unknown>;
  log(data: Record<string, number>): void | Promise<void>;
  finish(): Promise<void>;
}

export interface WandbReporterOptions {
  /** Off unless the user turns it on. */
  enabled: boolean;
  project?: string;
  /** From the main process's secret store; never logged. */
  getApiKey: () => Promise<string | null>;
  /** Loads the SDK; the default imports `@wandb/sdk`, which is an optional install. */
  loadSdk?: () => Promise<WandbSdk>;
  logger?: Logger;
}

// A name in a variable so the bundler leaves the import for run time: the package is optional.
const WANDB_MODULE = '@wandb/sdk';
const loadWandbSdk = async (): Promise<WandbSdk> => {
  const module = (await import(/* @vite-ignore */ WANDB_MODULE)) as { default?: WandbSdk };
  if (!module.default) throw new Error(`${WANDB_MODULE} has no default export`);
  return module.default;
};

/**
 * Opt-in Weights & Biases logging of the same figures /metrics serves. Whatever goes wrong — the
 * SDK not installed, no key, no network — it says so in one log line and turns itself off: a
 * monitoring extra must never disturb mining or fill the log.
 */
export class WandbReporter implements MetricsReporter {
  private sdk: WandbSdk | null = null;
  private readonly log: Logger;

  constructor(private readonly opts: WandbReporterOptions) {
    this.log = opts.logger ?? silentLogger;
  }

  get active(): boolean {
    return this.sdk !== null;
  }

  async start(): Promise<void> {
    if (!this.opts.enabled || this.sdk) return;
    let sdk: WandbSdk;
    try {
      sdk = await (this.opts.loadSdk ?? loadWandbSdk)();
    } catch (error) {
      return this.disable(`W&B logging is on but ${WANDB_MODULE} could not be loaded (${errorMessage(error)}); W&B logging is off`);
    }
    const apiKey = await this.opts.getApiKey().catch(() => null);
    if (!apiKey) return this.disable('W&B logging is on but no W&B API key is set; W&B logging is off');
    // The JS SDK reads its key from the environment only.
    process.env.WANDB_API_KEY = apiKey;
    try {
      await sdk.init({ project: this.opts.project ?? 'nya-miner' });
      this.sdk = sdk;
      this.log.info(`W&B logging to project ${this.opts.project ?? 'nya-miner'}`);
    } catch (error) {
      this.disable(`W&B could not start a run (${errorMessage(error)}); W&B logging is off`);
    }
  }

  async report(snapshot: StateSnapshot): Promise<void> {
    const sdk = this.sdk;
    if (!sdk) return;
    try {
      await sdk.log(flatFigures(snapshotFigures(snapshot)));
    } catch (error) {
      this.sdk = null;
      this.disable(`W&B logging failed (${errorMessage(error)}); W&B logging is off until restart`);
    }
  }

  async dispose(): Promise<void> {
    const sdk = this.sdk;
    this.sdk = null;
    await sdk?.finish().catch((error: unknown) => this.log.debug(`W&B finish failed: ${errorMessage(error)}`));
  }

  private disable(message: string): void {
    this.log.warn(message);
  }
}
