import type { Settings } from '../../src-shared/state';
import { backoffDelayMs, type BackoffPolicy } from '../../src-node/backoff';
import { Emitter, type Disposable, type Event } from '../../src-node/event';
import { errorMessage, type Logger } from '../../src-node/log';
import type { ModelCatalogService } from './catalog-service';
import { formatBytes } from './errors';
import { recommendVariant } from './recommend';

export interface TeacherProvisionerOptions {
  /** The settings as the miner runs them (the network's validator filled in). */
  settings: { get(): Settings; onChange: Event<{ before: Settings; after: Settings }> };
  models: Pick<ModelCatalogService, 'variants' | 'fetch' | 'downloads'>;
  /** The GPU memory to choose for (the GPU monitor's reading, or an override). */
  vramMiB: () => Promise<number | null>;
  log: Logger;
  /** Waits between tries after a failure; a user's cancel is not retried. */
  retry?: BackoffPolicy;
  random?: () => number;
}

/** Why mining cannot start yet, as the miner's status shows it. */
export interface TeacherWait {
  status: 'starting' | 'error';
  reason: string;
}

type Phase =
  | { kind: 'idle' }
  | { kind: 'asking'; url: string }
  | { kind: 'downloading'; url: string; label: string; bytes: number }
  /** The validator offers no download (a validator from before `GET /v1/model`): run what is here. */
  | { kind: 'none-offered'; url: string }
  | { kind: 'failed'; url: string; message: string; retryAtMs: number | null };

const RETRY: BackoffPolicy = { baseMs: 10_000, capMs: 10 * 60_000, floorMs: 5_000 };

const needsTeacher = (s: Settings): s is Settings & { validatorUrl: string } => s.validatorUrl !== null && s.modelDir === null;

/**
 * Gets the teacher the validator asks for, by itself: with a validator and no model configured it
 * asks `GET /v1/model`, picks the largest variant that fits the GPU (`recommendVariant`), and
 * downloads it with the model manager (resumable, verified, progress in the snapshot). The
 * finished download becomes the settings' model folder, on which the mining supervisor rebuilds.
 * Until then `wait()` tells the supervisor why nothing mines; a failure is retried with backoff.
 */
export class TeacherProvisioner {
  private phase: Phase = { kind: 'idle' };
  private readonly changed = new Emitter<void>();
  /** The answer of `wait()` may have changed. */
  readonly onChange: Event<void> = this.changed.event;
  private subscription: Disposable | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  /** Bumped whenever a run is abandoned, so its late answers change nothing. */
  private generation = 0;

  constructor(private readonly o: TeacherProvisionerOptions) {}

  start(): void {
    this.subscription = this.o.settings.onChange(() => this.check());
    this.check();
  }

  dispose(): void {
    this.subscription?.dispose();
    this.abandon();
    this.changed.dispose();
  }

  /** Why mining cannot start with these settings yet; null when it can. */
  wait(settings: Settings): TeacherWait | null {
    if (!needsTeacher(settings)) return null;
    const p = this.phase;
    if (p.kind === 'none-offered' && p.url === settings.validatorUrl) return null;
    if (p.kind === 'failed' && p.url === settings.validatorUrl) {
      const sentence = /[.!?]$/.test(p.message) ? p.message : `${p.message}.`;
      const retry = p.retryAtMs === null ? '' : ` Trying again at ${new Date(p.retryAtMs).toLocaleTimeString()}.`;
      return { status: 'error', reason: `Could not get the teacher: ${sentence}${retry}` };
    }
    if (p.kind === 'downloading') return { status: 'starting', reason: `Getting the teacher: ${p.label} (${formatBytes(p.bytes)})` };
    return { status: 'starting', reason: 'Asking the validator which teacher to run' };
  }

  private check(): void {
    const s = this.o.settings.get();
    if (!needsTeacher(s)) return this.abandon();
    if (this.phase.kind !== 'idle' && this.phase.url === s.validatorUrl) return;
    this.abandon();
    this.failures = 0;
    void this.run(s.validatorUrl, this.generation);
  }

  private abandon(): void {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.phase.kind === 'downloading') this.o.models.downloads.cancel();
    if (this.phase.kind !== 'idle') this.set({ kind: 'idle' });
  }

  private async run(url: string, generation: number): Promise<void> {
    const current = () => generation === this.generation;
    this.set({ kind: 'asking', url });
    try {
      const variants = await this.o.models.variants(true);
      if (!current()) return;
      if (variants.length === 0) {
        this.o.log.warn(`${url} offers no teacher download; mining with the model that is here (the bundled demo model)`);
        return this.set({ kind: 'none-offered', url });
      }
      const pick = recommendVariant(await this.o.vramMiB(), variants);
      if (!current()) return;
      this.o.log.info(`the validator offers ${variants.map((v) => v.id).join(', ')}; ${pick.reason}`);
      this.set({ kind: 'downloading', url, label: pick.variant.label, bytes: pick.variant.diskBytes });
      // Done, the download's mirror makes the folder the teacher (services.ts); the settings change ends this run.
      const outcome = await this.o.models.fetch(pick.variant);
      if (!current() || outcome.status === 'done') return;
      this.failed(url, generation, outcome.error ?? 'the download failed', outcome.errorCode !== 'aborted');
    } catch (error) {
      if (!current()) return;
      this.o.models.downloads.failed(null, error);
      this.failed(url, generation, errorMessage(error), true);
    }
  }

  private failed(url: string, generation: number, message: string, retry: boolean): void {
    const delayMs = retry ? backoffDelayMs(this.failures++, this.o.random ?? Math.random, this.o.retry ?? RETRY) : null;
    this.set({ kind: 'failed', url, message, retryAtMs: delayMs === null ? null : Date.now() + delayMs });
    if (delayMs === null) return;
    this.o.log.warn(`could not get the teacher (${message}); trying again in ${Math.round(delayMs / 1000)} s`);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (generation === this.generation) void this.run(url, generation);
    }, delayMs);
    this.timer.unref?.();
  }

  private set(phase: Phase): void {
    this.phase = phase;
    this.changed.fire();
  }
}
