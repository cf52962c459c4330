import { Emitter, type Event } from '../../src-node/event';
import type { ModelVariant } from './catalog';
import type { DownloadProgress, ModelDownloader } from './downloader';
import { ModelError, type ModelErrorCode } from './errors';
import { verifyModelDir } from './verify';

/** The model download as the state snapshot shows it; JSON-safe. */
export interface ModelDownloadState {
  status: 'idle' | 'downloading' | 'done' | 'error';
  variantId: string | null;
  file: string | null;
  bytesDone: number;
  bytesTotal: number;
  variantBytesDone: number;
  variantBytesTotal: number;
  /** All files of the variant, 0..1. */
  overall: number;
  /** The folder, once done. */
  dir: string | null;
  error: string | null;
  errorCode: ModelErrorCode | null;
}

export const IDLE_DOWNLOAD: ModelDownloadState = {
  status: 'idle',
  variantId: null,
  file: null,
  bytesDone: 0,
  bytesTotal: 0,
  variantBytesDone: 0,
  variantBytesTotal: 0,
  overall: 0,
  dir: null,
  error: null,
  errorCode: null,
};

/** Checks a downloaded folder before it is reported done (`verifyModelDir` with the variant's files). */
export type VerifyDownload = (dir: string, variant: ModelVariant) => Promise<unknown>;

const verifyDownloaded: VerifyDownload = (dir, variant) => verifyModelDir(dir, { expectedFiles: variant.files });

/**
 * One download at a time, as a state the app pushes to its views: progress while it runs, the
 * folder once every file is there and the folder passes `verifyModelDir`, a sentence when it
 * fails. A failure is a state, never a crash; the miner stays paused until a verified model is there.
 */
export class ModelDownloadService {
  private current: ModelDownloadState = IDLE_DOWNLOAD;
  private readonly changed = new Emitter<ModelDownloadState>();
  readonly onChange: Event<ModelDownloadState> = this.changed.event;
  private running: { controller: AbortController; done: Promise<ModelDownloadState> } | null = null;

  constructor(
    private readonly downloader: ModelDownloader,
    private readonly verify: VerifyDownload = verifyDownloaded,
  ) {}

  get state(): ModelDownloadState {
    return this.current;
  }

  start(): void {}

  dispose(): void {
    this.cancel();
    this.changed.dispose();
  }

  /** Starts downloading `variant` (or joins the download already running for it). */
  download(variant: ModelVariant): Promise<ModelDownloadState> {
    if (this.running) {
      if (this.current.variantId === variant.id) return this.running.done;
      return Promise.resolve(
        this.fail(variant.id, new ModelError('no-source', `${this.current.variantId} is downloading; cancel it first.`), false),
      );
    }
    const controller = new AbortController();
    this.set({ ...IDLE_DOWNLOAD, status: 'downloading', variantId: variant.id, variantBytesTotal: variant.diskBytes });
    const done = this.downloader
      .download(variant, { signal: controller.signal, onProgress: (p) => this.progress(p) })
      .then(async (dir) => {
        await this.verify(dir, variant);
        return dir;
      })
      .then(
        (dir) => this.set({ ...this.current, status: 'done', overall: 1, variantBytesDone: this.current.variantBytesTotal, dir }),
        (error: unknown) => this.fail(variant.id, error, true),
      )
      .finally(() => {
        this.running = null;
      });
    this.running = { controller, done };
    return done;
  }

  cancel(): void {
    this.running?.controller.abort();
  }

  /** A failure before any download could start (the validator could not say which teacher): shown like one. */
  failed(variantId: string | null, error: unknown): ModelDownloadState {
    if (this.running) return this.current;
    return this.set({ ...this.fail(variantId ?? '', error, false), variantId });
  }

  private progress(p: DownloadProgress): void {
    this.set({
      ...this.current,
      file: p.file,
      bytesDone: p.bytesDone,
      bytesTotal: p.bytesTotal,
      variantBytesDone: p.variantBytesDone,
      variantBytesTotal: p.variantBytesTotal,
      overall: p.overall,
    });
  }

  private fail(variantId: string, error: unknown, replace: boolean): ModelDownloadState {
    const code = error instanceof ModelError ? error.code : 'network';
    const message = error instanceof Error ? error.message : String(error);
    const failed: ModelDownloadState = {
      ...(replace ? this.current : IDLE_DOWNLOAD),
      status: 'error',
      variantId,
      error: message,
      errorCode: code,
    };
    return replace ? this.set(failed) : failed;
  }

  private set(next: ModelDownloadState): ModelDownloadState {
    this.current = next;
    this.changed.fire(next);
    return next;
  }
}
