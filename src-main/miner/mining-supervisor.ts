import type { Settings, StateSnapshot } from '../../src-shared/state';
import { DisposableStore, type Disposable, type Event } from '../../src-node/event';
import { errorMessage, type Logger } from '../../src-node/log';
import type { Hold, StateWriter, ValidatorPort } from './ports';

export type { Hold };

/** What the supervisor needs of a running teacher + validator connection. */
export interface MiningPipeline {
  /** The validator connection, for its state in the snapshot. */
  validator: Pick<ValidatorPort, 'state' | 'onChange'>;
  /** The address the validator knows this miner by (the wallet's key, or the local identity). */
  signingAddress: string;
  close(): Promise<void>;
}

/** The loop the supervisor runs on a pipeline (`Miner`). */
export interface MiningLoop {
  start(): void;
  dispose(): Promise<void>;
  setPaused(paused: boolean, forMs?: number): void;
  setHold(hold: Hold | null): void;
}

export interface MiningSupervisorOptions<P extends MiningPipeline> {
  settings: { get(): Settings; onChange: Event<{ before: Settings; after: Settings }> };
  openPipeline(settings: Settings): Promise<P>;
  createLoop(pipeline: P): MiningLoop;
  /** Shared with the loops it creates: the supervisor writes the status only while none runs. */
  miner: StateWriter<'miner'>;
  validator: StateWriter<'validator'>;
  /** The wallet's mining key changed: a remote validator must see the new identity. */
  onMiningKeyChange: Event<string | null>;
  /**
   * Something mining waits for before a pipeline can open (the teacher download): while `wait`
   * answers, nothing opens and the miner's status says why; `onChange` asks again.
   */
  waitFor?: { wait(settings: Settings): { status: 'starting' | 'error'; reason: string } | null; onChange: Event<void> };
  /**
   * What must hold before anything is waited for or opened (a remote validator's mining key): a
   * user without a key learns it before a teacher download, not after.
   */
  checkFirst?(settings: Settings): Promise<void>;
  log: Logger;
  now?: () => number;
}

/** Settings whose change needs a new teacher or validator connection. */
const PIPELINE_KEYS: readonly (keyof Settings)[] = ['validatorUrl', 'modelDir', 'executionProvider', 'gpuDeviceId'];

/**
 * Owns mining as a whole: builds the teacher + validator pipeline for the current settings and
 * runs the miner loop on it, rebuilds both (one rebuild at a time, in order) when a setting that
 * needs it or the mining key changes, and keeps the user's pause and the desktop's hold across
 * rebuilds. It writes the snapshot's `validator` part; the loop writes the miner's figures.
 */
export class MiningSupervisor<P extends MiningPipeline> {
  private pipeline: P | null = null;
  private loop: MiningLoop | null = null;
  private userPause: { paused: boolean; forMs?: number } = { paused: false };
  private hold: Hold | null = null;
  private rebuilding: Promise<void> = Promise.resolve();
  private rebuildsInFlight = 0;
  private disposed = false;
  private readonly subscriptions = new DisposableStore();
  private pipelineSubscription: Disposable | null = null;
  private readonly now: () => number;

  constructor(private readonly o: MiningSupervisorOptions<P>) {
    this.now = o.now ?? Date.now;
  }

  /** The running pipeline (the IPC handlers and the wallet talk to its validator session). */
  get current(): P | null {
    return this.pipeline;
  }

  async start(): Promise<void> {
    this.subscriptions.add(this.o.settings.onChange(({ before, after }) => this.onSettings(before, after)));
    this.subscriptions.add(
      this.o.onMiningKeyChange(() => {
        if (this.o.settings.get().validatorUrl) void this.rebuild('the mining key changed');
      }),
    );
    if (this.o.waitFor) {
      // A rebuild already queued reads the newest answer itself; a running pipeline waits for nothing.
      this.subscriptions.add(this.o.waitFor.onChange(() => !this.pipeline && this.rebuildsInFlight === 0 && void this.rebuild(null)));
    }
    // Through the queue like any rebuild, so an answer that arrives while this one opens is not a second pipeline.
    await this.rebuild(null);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.subscriptions.dispose();
    await this.rebuilding;
    await this.teardown();
  }

  /** The user's pause (dashboard, tray). `forMs` resumes by itself afterwards. */
  setPaused(paused: boolean, forMs?: number): StateSnapshot['miner'] {
    this.userPause = forMs ? { paused, forMs } : { paused };
    if (this.loop) this.loop.setPaused(paused, forMs);
    else
      this.o.miner.update(({ miner }) => ({
        miner: { ...miner, userPaused: paused, pausedUntilMs: paused && forMs ? this.now() + forMs : null },
      }));
    return this.o.miner.get().miner;
  }

  /** A pause that is not the user's (the desktop policy); `null` lifts it. */
  setHold(hold: Hold | null): void {
    this.hold = hold;
    this.loop?.setHold(hold);
  }

  /** Waits for any rebuild in flight (tests, shutdown). */
  settled(): Promise<void> {
    return this.rebuilding;
  }

  private onSettings(before: Settings, after: Settings): void {
    if (before.validatorUrl !== after.validatorUrl) {
      this.o.validator.update(({ validator }) => ({
        validator: { ...validator, mode: after.validatorUrl ? 'remote' : 'embedded', url: after.validatorUrl },
      }));
    }
    if (PIPELINE_KEYS.some((k) => before[k] !== after[k])) void this.rebuild('settings changed');
  }

  /** `why` null: nothing was running (waiting for the teacher), so there is nothing to say. */
  private rebuild(why: string | null): Promise<void> {
    this.rebuildsInFlight++;
    this.rebuilding = this.rebuilding.then(async () => {
      try {
        if (this.disposed) return;
        if (why) this.o.log.info(`${why}: restarting the teacher and the validator connection`);
        await this.teardown();
        if (!this.disposed) await this.build();
      } finally {
        this.rebuildsInFlight--;
      }
    });
    return this.rebuilding;
  }

  private async build(): Promise<void> {
    try {
      await this.o.checkFirst?.(this.o.settings.get());
    } catch (error) {
      this.cannotStart(error);
      return;
    }
    const wait = this.o.waitFor?.wait(this.o.settings.get());
    if (wait) {
      this.o.miner.update(({ miner }) => ({ miner: { ...miner, status: wait.status, reason: wait.reason } }));
      return;
    }
    let pipeline: P;
    try {
      pipeline = await this.o.openPipeline(this.o.settings.get());
    } catch (error) {
      this.cannotStart(error);
      return;
    }
    this.pipeline = pipeline;
    this.pipelineSubscription = this.mirrorConnection(pipeline);
    const loop = this.o.createLoop(pipeline);
    this.loop = loop;
    if (this.userPause.paused) loop.setPaused(true, this.userPause.forMs);
    loop.setHold(this.hold);
    loop.start();
  }

  private cannotStart(error: unknown): void {
    const message = errorMessage(error);
    this.o.log.error(`cannot start mining: ${message}`);
    this.o.miner.update(({ miner }) => ({ miner: { ...miner, status: 'error', reason: message } }));
    this.o.validator.update(({ validator }) => ({ validator: { ...validator, connection: 'offline', lastError: message } }));
  }

  private mirrorConnection(pipeline: P): Disposable {
    const publish = () => {
      const v = pipeline.validator.state;
      this.o.validator.update(({ validator }) => ({
        validator: {
          ...validator,
          connection: v.connection,
          lastError: v.lastError,
          retryAtMs: v.retryAtMs,
          outboxPending: v.outboxPending,
          signingAddress: pipeline.signingAddress,
        },
      }));
    };
    const subscription = pipeline.validator.onChange(publish);
    publish();
    return subscription;
  }

  private async teardown(): Promise<void> {
    const loop = this.loop;
    const pipeline = this.pipeline;
    this.loop = null;
    this.pipeline = null;
    this.pipelineSubscription?.dispose();
    this.pipelineSubscription = null;
    await loop?.dispose();
    await pipeline?.close();
  }
}
