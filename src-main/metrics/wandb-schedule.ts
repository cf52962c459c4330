import type { Settings, StateSnapshot } from '../../src-shared/state';
import type { Disposable, Event } from '../../src-node/event';
import type { Logger } from '../../src-node/log';
import { WandbReporter, type WandbReporterOptions } from './wandb-reporter';

export interface WandbScheduleOptions {
  settings: { get(): Settings; onChange: Event<{ before: Settings; after: Settings }> };
  snapshot: () => StateSnapshot;
  getApiKey: () => Promise<string | null>;
  logger: Logger;
  everyMs?: number;
  /** Tests give a fake SDK; the app loads `@wandb/sdk`. */
  loadSdk?: WandbReporterOptions['loadSdk'];
}

/**
 * The opt-in W&B run: one reporter for the current settings (a new run when the user turns it on
 * or changes the project) fed with the snapshot's figures every 30 s.
 */
export class WandbSchedule {
  private reporter: WandbReporter;
  private timer: ReturnType<typeof setInterval> | null = null;
  private subscription: Disposable | null = null;
  private switching: Promise<void> = Promise.resolve();

  constructor(private readonly o: WandbScheduleOptions) {
    this.reporter = this.reporterFor(o.settings.get());
  }

  start(): void {
    if (this.timer) return;
    // The first figures go out as soon as the run exists, not a period later.
    void this.reporter.start().then(() => this.report());
    this.subscription = this.o.settings.onChange(({ before, after }) => {
      if (before.wandbEnabled !== after.wandbEnabled || before.wandbProject !== after.wandbProject) this.switchTo(after);
    });
    this.timer = setInterval(() => this.report(), this.o.everyMs ?? 30_000);
    this.timer.unref?.();
  }

  async dispose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.subscription?.dispose();
    await this.switching;
    await this.reporter.dispose();
  }

  private report(): void {
    if (this.reporter.active) void this.reporter.report(this.o.snapshot());
  }

  private switchTo(settings: Settings): void {
    const old = this.reporter;
    this.reporter = this.reporterFor(settings);
    const next = this.reporter;
    this.switching = this.switching.then(() => old.dispose()).then(() => next.start());
  }

  private reporterFor(s: Settings): WandbReporter {
    return new WandbReporter({
      enabled: s.wandbEnabled,
      ...(s.wandbProject ? { project: s.wandbProject } : {}),
      getApiKey: this.o.getApiKey,
      logger: this.o.logger,
      ...(this.o.loadSdk ? { loadSdk: this.o.loadSdk } : {}),
    });
  }
}
