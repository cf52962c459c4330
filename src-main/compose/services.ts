import { join } from 'node:path';
import type { HistoryRange, HistorySeries } from '../../src-shared/ipc';
import type { MinerStatus, Settings, StateSnapshot } from '../../src-shared/state';
import { ThermalGovernor, restAfterBatchMs } from '../thermal/governor';
import { GpuMonitor, gpuClass } from '../gpu';
import { HistoryStore } from '../history';
import { createHandlers } from '../ipc/handlers';
import { createIpcRouter, UserFacingError, type IpcRouter } from '../ipc/router';
import { errorMessage, type LogHub } from '../../src-node/log';
import { renderMetrics, WandbReporter } from '../metrics';
import { ModelCatalogService } from '../model-manager/catalog-service';
import { Miner } from '../miner/miner';
import { TokenLedger } from '../miner/token-ledger';
import { openPipeline, type Pipeline, type PipelineDeps } from './pipeline';
import { SettingsStore } from '../settings/settings-store';
import { initialState } from '../state/initial-state';
import { LogRing } from '../state/log-ring';
import { StateStore } from '../state/state-store';
import type { WorkerLauncher } from '../teacher';
import { BalanceService } from '../wallet/balance';
import { KeyStore, type SecretBox } from '../wallet';
import { WalletService } from '../wallet/wallet-service';
import { terminalMnemonicPresenter, type MnemonicPresenter, type PasswordPrompt } from '../wallet/wallet-service-presenter';

export interface ServicesOptions {
  dataDir: string;
  log: LogHub;
  /** How the teacher worker is started: `child_process.fork` by default, `utilityProcess` in the app. */
  workerLauncher?: WorkerLauncher;
  /** Opens the mining key: safeStorage in the app, a passphrase headless; absent → no wallet. */
  secretBox?: SecretBox;
  /** Shows a new key's recovery phrase once, in main (native dialog; the terminal headless). */
  mnemonicPresenter?: MnemonicPresenter;
  passwordPrompt?: PasswordPrompt;
  /** Command-line settings (`--validator`, `--model`): applied over the saved ones for this run. */
  settingsOverrides?: Partial<Settings>;
  /** The W&B API key (opt-in reporting); read in main only, never put in the snapshot. */
  wandbApiKey?: () => Promise<string | null>;
  /** Tests turn GPU polling off; the real app always polls. */
  gpuMonitor?: GpuMonitor | null;
  clientName?: string;
}

type Hold = { reason: string; status: MinerStatus };

export interface Services {
  state: StateStore;
  router: IpcRouter;
  logs: LogRing;
  miner: {
    setPaused(paused: boolean, forMs?: number): StateSnapshot['miner'];
    setHold(hold: Hold | null): void;
  };
  /** Prometheus text for `GET /metrics`. */
  metrics(): Promise<string>;
  /** The embedded validator's URL while it runs (tests and the CLI print it). */
  embeddedValidatorUrl(): string | null;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** Without a SecretBox (headless with no passphrase) the key store can be read, not opened. */
const lockedBox: SecretBox = {
  kind: 'locked',
  seal: () => Promise.reject(new Error('The wallet is locked: start nya mine with NYA_WALLET_PASSPHRASE set to create or use a mining key.')),
  open: () => Promise.reject(new Error('The wallet is locked: start nya mine with NYA_WALLET_PASSPHRASE set to use the mining key.')),
};

/** Headless without a terminal (a service, CI): nowhere to show a phrase, so say how instead. */
const noTerminal: MnemonicPresenter = {
  show: () => Promise.reject(new Error('nya mine has no terminal to show a recovery phrase on: use `nya wallet create` / `nya wallet export` in a terminal.')),
};

/** Settings whose change needs a new teacher or validator connection. */
const PIPELINE_KEYS: (keyof Settings)[] = ['validatorUrl', 'modelDir', 'executionProvider', 'gpuDeviceId'];
const HISTORY_SAMPLE_MS = 1000;

/**
 * The one object graph both composition roots share (headless `nya mine` and the Electron app):
 * stores, the miner loop and its teacher/validator pipeline, telemetry, history and the IPC
 * handlers. Built by hand, no container; everything Electron-specific comes in through options.
 */
export async function createServices(o: ServicesOptions): Promise<Services> {
  const log = o.log.logger('main');
  const logs = new LogRing();
  const detachLogs = o.log.attach(logs.sink);
  const settings = new SettingsStore(o.dataDir, o.log.logger('settings'), o.settingsOverrides);
  const state = new StateStore(initialState(settings.get(), o.dataDir), { logTail: () => logs.tail(200), logSeq: () => logs.lastSeq });
  const detachTouch = o.log.attach(() => state.touch());
  const ledger = new TokenLedger(o.dataDir, o.log.logger('ledger'));
  const history = new HistoryStore({ file: join(o.dataDir, 'history.json'), logger: o.log.logger('history') });
  const models = new ModelCatalogService({
    modelsDir: join(o.dataDir, 'models'),
    manifestUrl: () => settings.get().modelManifestUrl,
    vramMiB: () => {
      const g = state.get().gpu.gpus.find((x) => x.index === settings.get().gpuDeviceId);
      return g?.memoryTotalMiB ?? null;
    },
    log: o.log.logger('models'),
  });
  const detachModels = models.onChange((download) => {
    state.update({ modelDownload: download });
    // A finished download becomes the teacher: the settings change restarts the pipeline.
    if (download.status === 'done' && download.dir && settings.get().modelDir !== download.dir) {
      void updateSettings({ modelDir: download.dir });
    }
  });
  const balance = new BalanceService({
    ...(settings.get().communeRpcUrl ? { endpoint: settings.get().communeRpcUrl! } : {}),
    log: o.log.logger('balance'),
  });
  const wallet = new WalletService({
    dataDir: o.dataDir,
    keyStore: new KeyStore({ dataDir: o.dataDir, box: o.secretBox ?? lockedBox }),
    balance,
    presenter: o.mnemonicPresenter ?? (process.stdin.isTTY ? terminalMnemonicPresenter() : noTerminal),
    ...(o.passwordPrompt ? { passwordPrompt: o.passwordPrompt } : {}),
    validator: () => pipeline?.session ?? null,
    log: o.log.logger('wallet'),
  });
  const WANDB_EVERY_MS = 30_000;
  const makeReporter = (s: Settings) =>
    new WandbReporter({
      enabled: s.wandbEnabled,
      ...(s.wandbProject ? { project: s.wandbProject } : {}),
      getApiKey: o.wandbApiKey ?? (async () => process.env.NYA_WANDB_API_KEY ?? null),
      logger: o.log.logger('wandb'),
    });
  let reporter = makeReporter(settings.get());
  let lastReportAtMs = 0;
  let walletAddress = wallet.status().miningAddress;
  const detachWallet = wallet.onChange(() => {
    const w = wallet.status();
    state.update((s) => ({ wallet: { ...s.wallet, payoutAddress: w.payoutAddress, payoutLinked: w.payoutLinked } }));
    // A new or removed key signs differently: a remote validator must see the new identity.
    if (w.miningAddress !== walletAddress) {
      walletAddress = w.miningAddress;
      if (settings.get().validatorUrl) void rebuild();
    }
  });
  const gpu = o.gpuMonitor === undefined ? new GpuMonitor({ logger: o.log.logger('gpu') }) : o.gpuMonitor;

  let userPause: { paused: boolean; forMs?: number } = { paused: false };
  let hold: Hold | null = null;
  let pipeline: Pipeline | null = null;
  let miner: Miner | null = null;
  // One writer for every Miner a rebuild creates: the store lets each key be claimed once.
  const minerState = state.writer('miner', 'miner', 'task', 'tokensPerS', 'tokens', 'earnings', 'teacher');
  let detachValidatorState: (() => void) | null = null;
  let rebuilding: Promise<void> = Promise.resolve();
  let disposed = false;
  let sampler: ReturnType<typeof setInterval> | null = null;

  // Fed by every GPU reading; the miner asks it how long to rest after each task.
  let governor = new ThermalGovernor({ maxTempC: settings.get().maxGpuTempC, maxPowerW: settings.get().maxGpuPowerW });
  let lastReadingAtMs: number | null = null;
  const throttle = {
    restAfter(taskMs: number) {
      const out = governor.output;
      const ms = Math.min(60_000, restAfterBatchMs(taskMs, out.duty));
      if (ms < 50) return null;
      const what = out.limitedBy === 'power' ? 'power draw' : 'temperature';
      return { ms, reason: `Holding the GPU under its ${what} limit: working ${Math.round(out.duty * 100)} % of the time` };
    },
    sizeScale: () => governor.output.batchScale,
  };

  const pipelineDeps: PipelineDeps = {
    dataDir: o.dataDir,
    log: o.log,
    state,
    clientName: o.clientName ?? 'nya-miner',
    ...(o.workerLauncher ? { workerLauncher: o.workerLauncher } : {}),
    ...(o.secretBox ? { secretBox: o.secretBox } : {}),
  };

  async function buildPipeline(): Promise<void> {
    const current = settings.get();
    try {
      pipeline = await openPipeline(pipelineDeps, current);
    } catch (error) {
      const message = errorMessage(error);
      log.error(`cannot start mining: ${message}`);
      state.update((s) => ({
        miner: { ...s.miner, status: 'error', reason: message },
        validator: { ...s.validator, connection: 'offline', lastError: message },
      }));
      return;
    }
    // A stand-in until the supervisor owns the validator's part of the snapshot.
    const session = pipeline.validator;
    const publishValidator = () => {
      const v = session.state;
      state.update((s) => ({
        validator: { ...s.validator, connection: v.connection, lastError: v.lastError, retryAtMs: v.retryAtMs, outboxPending: v.outboxPending },
      }));
    };
    detachValidatorState = session.onChange(publishValidator);
    publishValidator();
    miner = new Miner({
      teacher: pipeline.teacher,
      validator: pipeline.validator,
      state: minerState,
      ledger,
      log: o.log.logger('miner'),
      maxBatchTokens: () => settings.get().maxBatchTokens,
      gpuClass: () => gpuClass(state.get().gpu.gpus),
      throttle,
    });
    if (userPause.paused) miner.setPaused(true, userPause.forMs);
    miner.setHold(hold);
    miner.start();
  }

  async function teardownPipeline(): Promise<void> {
    const m = miner;
    const p = pipeline;
    miner = null;
    pipeline = null;
    detachValidatorState?.();
    detachValidatorState = null;
    await m?.dispose();
    await p?.close();
  }

  function rebuild(): Promise<void> {
    rebuilding = rebuilding.then(async () => {
      if (disposed) return;
      log.info('settings changed: restarting the teacher and the validator connection');
      await teardownPipeline();
      if (!disposed) await buildPipeline();
    });
    return rebuilding;
  }

  function sampleHistory(): void {
    const s = state.get();
    const g = s.gpu.gpus;
    const avg = (pick: (x: (typeof g)[number]) => number | null) => {
      const values = g.map(pick).filter((v): v is number => v !== null);
      return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
    };
    if (reporter.active && Date.now() - lastReportAtMs >= WANDB_EVERY_MS) {
      lastReportAtMs = Date.now();
      void reporter.report(s);
    }
    history.record({
      gpuLoadPct: avg((x) => x.utilizationPct),
      tempC: avg((x) => x.tempC),
      powerW: g.length ? g.reduce((a, x) => a + (x.powerW ?? 0), 0) : null,
      tokensPerS: s.tokensPerS,
      earnedNano: s.earnings.earnedNano,
      validatedTokens: s.tokens.validated,
    });
  }

  function historySeries(range: HistoryRange): HistorySeries {
    const h = history.series(range);
    const nano = h.values.earnedNano;
    return {
      range,
      tMs: h.tMs,
      series: {
        gpuLoadPct: h.values.gpuLoadPct,
        tempC: h.values.tempC,
        powerW: h.values.powerW,
        tokensPerS: h.values.tokensPerS,
        validatedTokens: h.values.validatedTokens,
        earnedComai: nano.map((v) => (v === null ? null : v / 1e9)),
      },
    };
  }

  async function updateSettings(patch: Partial<Settings>): Promise<Settings> {
    const before = settings.get();
    let next: Settings;
    try {
      next = settings.update(patch);
    } catch (error) {
      throw new UserFacingError('bad-request', `Settings not saved: ${errorMessage(error)}`);
    }
    state.update((s) => ({
      settings: next,
      validator: { ...s.validator, mode: next.validatorUrl ? 'remote' : 'embedded', url: next.validatorUrl },
    }));
    if (before.maxGpuTempC !== next.maxGpuTempC || before.maxGpuPowerW !== next.maxGpuPowerW) {
      governor = new ThermalGovernor({ maxTempC: next.maxGpuTempC, maxPowerW: next.maxGpuPowerW });
    }
    if (before.wandbEnabled !== next.wandbEnabled || before.wandbProject !== next.wandbProject) {
      const old = reporter;
      reporter = makeReporter(next);
      void old.dispose().then(() => reporter.start());
    }
    if (PIPELINE_KEYS.some((k) => before[k] !== next[k])) void rebuild();
    return next;
  }

  const minerFacade: Services['miner'] = {
    setPaused(paused, forMs) {
      userPause = forMs ? { paused, forMs } : { paused };
      if (miner) return miner.setPaused(paused, forMs);
      state.update((s) => ({
        miner: { ...s.miner, userPaused: paused, pausedUntilMs: paused && forMs ? Date.now() + forMs : null },
      }));
      return state.get().miner;
    },
    setHold(next) {
      hold = next;
      miner?.setHold(next);
    },
  };

  const router = createIpcRouter(
    createHandlers({
      state,
      logs,
      setPaused: (paused, forMs) => minerFacade.setPaused(paused, forMs),
      updateSettings,
      history: historySeries,
      validator: () => pipeline?.session ?? null,
      modelCatalog: () => models.catalog(),
      downloadModel: (variantId) => models.download(variantId),
      cancelModelDownload: () => models.cancel(),
      wallet,
    }),
    o.log.logger('ipc'),
  );

  return {
    state,
    router,
    logs,
    miner: minerFacade,
    metrics: () => renderMetrics(state.get()),
    embeddedValidatorUrl: () => pipeline?.embeddedUrl ?? null,
    async start() {
      history.start();
      wallet.start();
      void reporter.start();
      if (gpu) {
        gpu.onChange((g) => {
          state.update({ gpu: g });
          const now = Date.now();
          const device = g.gpus.find((x) => x.index === settings.get().gpuDeviceId) ?? g.gpus[0];
          if (device) governor.update({ tempC: device.tempC, powerW: device.powerW }, lastReadingAtMs === null ? 0 : (now - lastReadingAtMs) / 1000);
          lastReadingAtMs = now;
        });
        gpu.start();
      }
      sampler = setInterval(sampleHistory, HISTORY_SAMPLE_MS);
      sampler.unref?.();
      log.info(`data folder: ${o.dataDir}`);
      await buildPipeline();
    },
    async dispose() {
      disposed = true;
      if (sampler) clearInterval(sampler);
      await rebuilding;
      await teardownPipeline();
      gpu?.dispose();
      history.dispose();
      detachModels();
      detachWallet();
      await reporter.dispose();
      await wallet.dispose();
      await balance.dispose();
      models.dispose();
      state.dispose();
      detachTouch();
      detachLogs();
    },
  };
}

