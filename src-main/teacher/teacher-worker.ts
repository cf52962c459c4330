import { errorMessage, type Logger } from '../../src-node/log';
import { LabelCancelledError, labelTask } from './labeller';
import { ModelFolderError } from './model-folder';
import { OutOfMemoryError, TeacherSession } from './teacher-session';
import { loadTokenizer, TokenizerLoadError, type MistralTokenizer } from '../../src-node/tokenizer';
import { HostToWorker, type WorkerErrorCode, type WorkerToHost } from './worker-protocol';

/**
 * The batch budget on the CPU. Before the top-k, a batch holds its logits over the whole
 * vocabulary several times (the model's, their float32 cast, the log-softmax), 3 × 4 B × 32,768 per
 * position: 4,096 tokens made the demo's worker peak at 1.4 GiB, 1,024 at 0.5 GiB, with no gain in
 * speed that survived a re-run (docs/PERFORMANCE.md, "Teacher memory on the CPU"). A GPU keeps the
 * setting, since its batches are what keep it busy.
 */
const CPU_MAX_BATCH_TOKENS = 1024;

/**
 * The teacher process' side of the protocol: one model, one label request at a time, cancellable
 * between forward passes. Transport-free (`post` is given), so the entry file only wires it to
 * child_process IPC or Electron's parentPort.
 */
export class TeacherWorker {
  private session: TeacherSession | null = null;
  private tokenizer: MistralTokenizer | null = null;
  private running: { seq: number; cancelled: boolean } | null = null;
  /** Log lines travel to the host as messages, where they join the app's log. */
  private readonly logger: Logger = {
    debug: (message) => this.post({ type: 'log', level: 'debug', message }),
    info: (message) => this.post({ type: 'log', level: 'info', message }),
    warn: (message) => this.post({ type: 'log', level: 'warn', message }),
    error: (message) => this.post({ type: 'log', level: 'error', message }),
    child: () => this.logger,
  };

  constructor(
    private readonly post: (message: WorkerToHost) => void,
    private readonly exit: () => void,
  ) {}

  async handle(raw: unknown): Promise<void> {
    const parsed = HostToWorker.safeParse(raw);
    if (!parsed.success) {
      const seq = typeof (raw as { seq?: unknown })?.seq === 'number' ? (raw as { seq: number }).seq : 0;
      this.post({ type: 'failed', seq, code: 'bad-request', message: `malformed request: ${parsed.error.message}` });
      return;
    }
    const message = parsed.data;
    switch (message.type) {
      case 'load':
        return this.load(message);
      case 'label':
        return this.label(message);
      case 'cancel':
        if (this.running?.seq === message.seq) this.running.cancelled = true;
        return;
      case 'shutdown':
        await this.session?.release().catch(() => undefined);
        this.exit();
    }
  }

  private async load(m: Extract<HostToWorker, { type: 'load' }>): Promise<void> {
    try {
      await this.session?.release();
      this.session = null;
      this.session = await TeacherSession.load({
        modelDir: m.modelDir,
        cacheDir: m.cacheDir,
        executionProvider: m.provider,
        gpuDeviceId: m.gpuDeviceId,
        ...(m.intraOpThreads ? { intraOpThreads: m.intraOpThreads } : {}),
        log: this.logger,
      });
      this.tokenizer = await loadTokenizer(m.modelDir);
      const s = this.session;
      this.post({
        type: 'loaded',
        seq: m.seq,
        model: {
          modelName: s.folder.name,
          modelHash: s.modelHash,
          isDemo: s.folder.isDemo,
          executionProvider: s.executionProvider,
          providerReason: s.providerReason,
          tokenizerSource: this.tokenizer.source,
          fullLogitsBytesPerPosition: s.fullLogitsBytesPerPosition,
        },
      });
    } catch (error) {
      this.fail(m.seq, error);
    }
  }

  private async label(m: Extract<HostToWorker, { type: 'label' }>): Promise<void> {
    if (!this.session || !this.tokenizer) {
      this.post({ type: 'failed', seq: m.seq, code: 'bad-request', message: 'no model is loaded' });
      return;
    }
    if (this.running) {
      this.post({ type: 'failed', seq: m.seq, code: 'bad-request', message: `request ${this.running.seq} is still running` });
      return;
    }
    const running = { seq: m.seq, cancelled: false };
    this.running = running;
    try {
      const { stats } = await labelTask(this.session, this.tokenizer, m.task, {
        maxBatchTokens: this.session.provider === 'cpu' ? Math.min(m.maxBatchTokens, CPU_MAX_BATCH_TOKENS) : m.maxBatchTokens,
        isCancelled: () => running.cancelled,
        onProgress: (p) => this.post({ type: 'progress', seq: m.seq, ...p }),
        onEncoded: (docs) => this.post({ type: 'labelled-docs', seq: m.seq, docs }),
        onBatchTokens: (maxBatchTokens, reason) => this.post({ type: 'batch-tokens', seq: m.seq, maxBatchTokens, reason }),
      });
      this.post({ type: 'labelled', seq: m.seq, stats });
    } catch (error) {
      this.fail(m.seq, error);
    } finally {
      this.running = null;
    }
  }

  private fail(seq: number, error: unknown): void {
    const code: WorkerErrorCode =
      error instanceof LabelCancelledError
        ? 'cancelled'
        : error instanceof OutOfMemoryError
          ? 'oom'
          : error instanceof ModelFolderError || error instanceof TokenizerLoadError
            ? 'model'
            : error instanceof RangeError
              ? 'bad-request'
              : 'internal';
    this.post({ type: 'failed', seq, code, message: errorMessage(error) });
  }
}
