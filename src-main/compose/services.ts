import { isAbsolute, join, relative } from 'node:path';
import { CodedError } from '../../src-shared/result';
import type { Settings, StateSnapshot } from '../../src-shared/state';
import { errorMessage, type LogHub, type Logger } from '../../src-node/log';
import { DisposableStore, Emitter, toDisposable, type Event } from '../../src-node/event';
import { deviceMemoryMiB, GpuMonitor, gpuClass, gpuMemoryOverrideMiB } from '../gpu';
import { diagnosticsFacts, diagnosticsReport, writeDiagnosticsFile } from '../diagnostics';
import { HistorySampler, HistoryStore } from '../history';
import { createHandlers } from '../ipc/handlers';
import { createIpcRouter, type IpcRouter } from '../ipc/router';
import { renderMetrics, WandbSchedule } from '../metrics';
import { ModelCatalogService } from '../model-manager/catalog-service';
import { TeacherProvisioner } from '../model-manager/teacher-provisioner';
import type { ModelDownloaderPorts } from '../model-manager';
import { effectiveSettings, loadNetworks } from '../settings/networks';
import { CannotMine } from '../miner/cannot-mine';
import { Miner } from '../miner/miner';
import { MiningSummary } from '../miner/mining-summary';
import { MiningSupervisor, type Hold } from '../miner/mining-supervisor';
import { TokenLedger } from '../miner/token-ledger';
import { ResourceMonitor } from '../resources/resource-monitor';
import { SettingsStore } from '../settings/settings-store';
import { initialState } from '../state/initial-state';
import { LogRing } from '../state/log-ring';
import { StateStore } from '../state/state-store';
import type { WorkerLauncher } from '../teacher';
import { ThermalThrottle } from '../thermal/thermal-throttle';
import { validatorFailureOf } from '../validator-client';
import { BalanceService } from '../wallet/balance/balance-service';
import { KeyStore, type SecretBox } from '../wallet';
import { WalletService } from '../wallet/wallet-service';
import { terminalMnemonicPresenter, type MnemonicPresenter, type PasswordPrompt } from '../wallet/wallet-service-presenter';
import { checkMiningKey, openPipeline, type Pipeline, type PipelineDeps } from './pipeline';

/** Enough to show what led up to a problem, small enough to paste into an issue. */
const DIAGNOSTICS_LOG_LINES = 300;

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
  /** The embedded validator's epoch length (`nya mine --local-epoch-s`); default one hour. */
  localEpochMs?: number;
  /** Tests turn GPU polling off; the real app always polls. */
  gpuMonitor?: GpuMonitor | null;
  /** The GPU memory to choose the teacher for (`--gpu-memory-mib`, else NYA_GPU_MEMORY_MIB, else the card's). */
  gpuMemoryMiB?: number | null;
  /** Tests shrink the disk or the download's retry waits. */
  modelDownloader?: Omit<ModelDownloaderPorts, 'modelsDir' | 'fetch'>;
  clientName?: string;
  /** Values scrubbed from a diagnostics report (the wallet passphrase headless). */
  diagnosticsSecrets?: string[];
}

export interface Services {
  state: StateStore;
  settings: SettingsStore;
  router: IpcRouter;
  logs: LogRing;
  miner: {
    setPaused(paused: boolean, forMs?: number): StateSnapshot['miner'];
    setHold(hold: Hold | null): void;
  };
  /** Prometheus text for `GET /metrics`. */
  metrics(): Promise<string>;
  /** Mining cannot go on until the user acts (no key, an unusable model, another model wanted): `nya mine` exits. */
  onCannotMine: Event<CannotMine>;
  /** The embedded validator's URL while it runs (tests and the CLI print it). */
  embeddedValidatorUrl(): string | null;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** Without a SecretBox (headless with no passphrase) the key store can be read, not opened. */
const lockedBox: SecretBox = {
  kind: 'locked',
  seal: () =>
    Promise.reject(new Error('The wallet is locked: start nya mine with NYA_WALLET_PASSPHRASE set to create or use a mining key.')),
  open: () => Promise.reject(new Error('The wallet is locked: start nya mine with NYA_WALLET_PASSPHRASE set to use the mining key.')),
};

/** Headless without a terminal (a service, CI): nowhere to show a phrase, so say how instead. */
const noTerminal: MnemonicPresenter = {
  show: () =>
    Promise.reject(
      new Error('nya mine has no terminal to show a recovery phrase on: use `nya wallet create` / `nya wallet export` in a terminal.'),
    ),
};

/**
 * The one object graph both composition roots share (headless `nya mine` and the Electron app).
 * It only wires: each service subscribes to what it needs and writes its own part of the
 * snapshot (docs/ARCHITECTURE.md lists the owners). Everything Electron-specific comes in
 * through options.
 */
export async function createServices(o: ServicesOptions): Promise<Services> {
  const log = o.log.logger('main');
  const logs = new LogRing();
  // Released at dispose, newest first, after the services that still write have stopped.
  const owned = new DisposableStore();
  owned.add(toDisposable(o.log.attach(logs.sink)));
  const settings = new SettingsStore(o.dataDir, o.log.logger('settings'), o.settingsOverrides);
  const networks = loadNetworks(o.dataDir);
  if (networks.problem) log.warn(networks.problem);
  // What the miner runs on: the user's settings with the chosen network's validator and RPC filled in.
  const running = {
    get: () => effectiveSettings(settings.get(), networks),
    onChange: (listener: (e: { before: Settings; after: Settings }) => unknown) =>
      settings.onChange(({ before, after }) =>
        listener({ before: effectiveSettings(before, networks), after: effectiveSettings(after, networks) }),
      ),
  };
  const state = new StateStore(initialState(settings.get(), o.dataDir, running.get().validatorUrl), {
    logTail: () => logs.tail(200),
    logSeq: () => logs.lastSeq,
  });
  owned.add(state);
  owned.add(toDisposable(o.log.attach(() => state.touch())));
  owned.add(mirrorSettings(settings, state));

  const { gpu, gpuMirror, throttle } = openGpu(o, settings, state);
  owned.add(throttle);
  if (gpu) owned.add(gpu);
  if (gpuMirror) owned.add(gpuMirror);
  const gpuOverrideMiB = o.gpuMemoryMiB ?? gpuMemoryOverrideMiB();
  const vramMiB = async () =>
    // Before the monitor's first reading the answer would be "no GPU": wait for it.
    gpuOverrideMiB ??
    (gpu ? deviceMemoryMiB(gpu.state.status === 'unknown' ? await gpu.poll() : gpu.state, settings.get().gpuDeviceId) : null);
  const models = new ModelCatalogService({
    modelsDir: join(o.dataDir, 'models'),
    validatorUrl: () => running.get().validatorUrl,
    manifestUrl: () => settings.get().modelManifestUrl,
    vramMiB,
    log: o.log.logger('models'),
    ...(o.modelDownloader ? { downloader: o.modelDownloader } : {}),
  });
  owned.add(models);
  owned.add(mirrorModelDownloads(models, settings, state, o.log.logger('models')));
  owned.add(forgetDownloadedTeacher(settings, running, join(o.dataDir, 'models'), o.log.logger('models')));
  const teacher = new TeacherProvisioner({ settings: running, models, vramMiB, log: o.log.logger('models') });
  owned.add(teacher);
  const { wallet, balance, walletMirror, miningKey } = openWallet(o, running, state, () => mining.current?.session ?? null);

  owned.add(miningKey);
  owned.add(walletMirror);
  const cannotMine = new Emitter<CannotMine>((error) => log.error(`a cannot-mine listener failed: ${errorMessage(error)}`));
  owned.add(cannotMine);
  const resources = new ResourceMonitor({ state: state.writer('resource monitor', 'resources') });
  owned.add(resources);
  const mining = openMining(o, {
    settings: running,
    state,
    throttle,
    miningKey: miningKey.event,
    cannotMine,
    resources,
    log,
    waitFor: teacher,
  });

  const { history, wandb } = openTelemetry(o, settings, state);
  const summary = new MiningSummary({ snapshot: () => state.get(), log: o.log.logger('miner') });
  owned.add(summary);
  owned.add(history);
  const router = createIpcRouter(
    createHandlers({
      state,
      logs,
      setPaused: (paused, forMs) => mining.setPaused(paused, forMs),
      updateSettings: (patch) => updateSettings(settings, patch),
      history: (range) => history.series(range),
      validator: () => mining.current?.session ?? null,
      modelCatalog: () => models.catalog(),
      downloadModel: (variantId) => models.download(variantId),
      cancelModelDownload: () => models.cancel(),
      networks: () => networks,
      exportDiagnostics: () => exportDiagnostics(o, state, logs),
      wallet,
    }),
    o.log.logger('ipc'),
  );

  return {
    state,
    settings,
    router,
    logs,
    miner: mining,
    metrics: () => renderMetrics(state.get()),
    onCannotMine: cannotMine.event,
    embeddedValidatorUrl: () => mining.current?.embeddedUrl ?? null,
    async start() {
      history.start();
      wallet.start();
      wandb.start();
      gpu?.start();
      summary.start();
      resources.start();
      log.info(`data folder: ${o.dataDir}`);
      teacher.start();
      await mining.start();
    },
    async dispose() {
      await mining.dispose();
      await wandb.dispose();
      await wallet.dispose();
      await balance.dispose();
      owned.dispose();
    },
  };
}

/** The charts' history and the opt-in W&B run, both fed from the snapshot. */
function openTelemetry(o: ServicesOptions, settings: SettingsStore, state: StateStore) {
  const history = new HistorySampler({
    store: new HistoryStore({ file: join(o.dataDir, 'history.json'), logger: o.log.logger('history') }),
    snapshot: () => state.get(),
  });
  const wandb = new WandbSchedule({
    settings,
    snapshot: () => state.get(),
    getApiKey: o.wandbApiKey ?? (async () => process.env.NYA_WANDB_API_KEY ?? null),
    logger: o.log.logger('wandb'),
  });
  return { history, wandb };
}

/** The GPU monitor, its copy in the snapshot, and the throttle that listens to it. */
function openGpu(o: ServicesOptions, settings: SettingsStore, state: StateStore) {
  const gpu = o.gpuMonitor === undefined ? new GpuMonitor({ logger: o.log.logger('gpu') }) : o.gpuMonitor;
  const writer = state.writer('gpu monitor', 'gpu');
  const gpuMirror = gpu?.onChange((g) => writer.update({ gpu: g })) ?? null;
  const throttle = new ThermalThrottle({ settings, gpu: gpu ? gpu.onChange : () => toDisposable(() => undefined) });
  return { gpu, gpuMirror, throttle };
}

/** The settings as the miner runs them (`effectiveSettings`): what the pipeline and the wallet's RPC read. */
type RunningSettings = Pick<SettingsStore, 'get' | 'onChange'>;

interface MiningDeps {
  settings: RunningSettings;
  state: StateStore;
  throttle: ThermalThrottle;
  miningKey: Event<string | null>;
  cannotMine: Emitter<CannotMine>;
  resources: ResourceMonitor;
  log: Logger;
  waitFor: TeacherProvisioner;
}

/** The supervisor that opens the teacher + validator pipeline and runs a `Miner` on it. */
function openMining(o: ServicesOptions, d: MiningDeps): MiningSupervisor<Pipeline> {
  const ledger = new TokenLedger(o.dataDir, o.log.logger('ledger'));
  // The supervisor writes the miner's status only while no loop runs; one writer for both.
  const figures = d.state.writer('miner', 'miner', 'task', 'tokensPerS', 'tokens', 'earnings', 'teacher');
  const pipelineDeps: PipelineDeps = {
    dataDir: o.dataDir,
    log: o.log,
    clientName: o.clientName ?? 'nya-miner',
    modelHash: () => d.state.get().teacher.modelHash,
    teacherUsage: (role, usage) => d.resources.report(role, usage),
    ...(o.workerLauncher ? { workerLauncher: o.workerLauncher } : {}),
    ...(o.secretBox ? { secretBox: o.secretBox } : {}),
    ...(o.localEpochMs ? { localEpochMs: o.localEpochMs } : {}),
  };
  return new MiningSupervisor<Pipeline>({
    settings: d.settings,
    openPipeline: (current) =>
      openPipeline(pipelineDeps, current).catch((error: unknown) => {
        if (error instanceof CannotMine) d.cannotMine.fire(error);
        throw error;
      }),
    createLoop: (pipeline) =>
      new Miner({
        teacher: pipeline.teacher,
        validator: pipeline.validator,
        state: figures,
        ledger,
        log: o.log.logger('miner'),
        maxBatchTokens: () => d.settings.get().maxBatchTokens,
        gpuClass: () => gpuClass(d.state.get().gpu.gpus),
        throttle: d.throttle,
        onCannotMine: (error) => d.cannotMine.fire(error),
      }),
    miner: figures,
    validator: d.state.writer('mining supervisor', 'validator'),
    onMiningKeyChange: d.miningKey,
    waitFor: d.waitFor,
    checkFirst: (current) =>
      checkMiningKey(pipelineDeps, current).catch((error: unknown) => {
        if (error instanceof CannotMine) d.cannotMine.fire(error);
        throw error;
      }),
    log: d.log,
  });
}

/** The snapshot's copy of the settings (the validator's mode and URL are the mining supervisor's to write). */
function mirrorSettings(settings: SettingsStore, state: StateStore) {
  const writer = state.writer('settings store', 'settings');
  return settings.onChange(({ after }) => writer.update({ settings: after }));
}

/** Download progress into the snapshot; a finished download becomes the teacher. */
function mirrorModelDownloads(models: ModelCatalogService, settings: SettingsStore, state: StateStore, log: Logger) {
  const writer = state.writer('model downloads', 'modelDownload');
  return models.onChange((download) => {
    writer.update({ modelDownload: download });
    // The settings change restarts the pipeline on the new model.
    if (download.status === 'done' && download.dir && settings.get().modelDir !== download.dir) {
      try {
        settings.update({ modelDir: download.dir });
      } catch (error) {
        log.error(`could not switch to the downloaded model: ${errorMessage(error)}`);
      }
    }
  });
}

/**
 * A teacher downloaded for one validator is that validator's choice: when the validator changes
 * (another network), the model folder is cleared so the new one says what to run. A folder the
 * user picked outside `<data>/models/` stays.
 */
function forgetDownloadedTeacher(settings: SettingsStore, running: RunningSettings, modelsDir: string, log: Logger) {
  return running.onChange(({ before, after }) => {
    const dir = after.modelDir;
    if (
      before.validatorUrl === after.validatorUrl ||
      !dir ||
      relative(modelsDir, dir).startsWith('..') ||
      isAbsolute(relative(modelsDir, dir))
    )
      return;
    log.info(`the validator changed to ${after.validatorUrl ?? 'the local one'}: it chooses the teacher again`);
    settings.update({ modelDir: null });
  });
}

function openWallet(o: ServicesOptions, settings: RunningSettings, state: StateStore, validator: () => Pipeline['session'] | null) {
  const rpcUrl = settings.get().communeRpcUrl;
  const balance = new BalanceService({
    ...(rpcUrl ? { endpoint: rpcUrl } : {}),
    log: o.log.logger('balance'),
  });
  const wallet = new WalletService({
    dataDir: o.dataDir,
    keyStore: new KeyStore({ dataDir: o.dataDir, box: o.secretBox ?? lockedBox }),
    balance,
    presenter: o.mnemonicPresenter ?? (process.stdin.isTTY ? terminalMnemonicPresenter() : noTerminal),
    ...(o.passwordPrompt ? { passwordPrompt: o.passwordPrompt } : {}),
    validator,
    validatorFailure: validatorFailureOf,
    log: o.log.logger('wallet'),
  });
  const writer = state.writer('wallet', 'wallet');
  const miningKey = new Emitter<string | null>();
  let address = wallet.status().miningAddress;
  const publish = () => {
    const w = wallet.status();
    writer.update({ wallet: { miningAddress: w.miningAddress, payoutAddress: w.payoutAddress, payoutLinked: w.payoutLinked } });
    if (w.miningAddress !== address) {
      address = w.miningAddress;
      miningKey.fire(address);
    }
  };
  publish();
  const walletMirror = new DisposableStore();
  walletMirror.add(wallet.onChange(publish));
  walletMirror.add(
    settings.onChange(({ before, after }) => before.communeRpcUrl !== after.communeRpcUrl && balance.setEndpoint(after.communeRpcUrl)),
  );
  return { wallet, balance, miningKey, walletMirror };
}

function exportDiagnostics(o: ServicesOptions, state: StateStore, logs: LogRing): { path: string } {
  const snapshot = state.get();
  const report = diagnosticsReport(
    diagnosticsFacts({
      dataDir: o.dataDir,
      gpu: snapshot.gpu,
      teacher: snapshot.teacher,
      settings: snapshot.settings,
      logs: logs.tail(DIAGNOSTICS_LOG_LINES),
      secrets: o.diagnosticsSecrets ?? [],
    }),
  );
  const path = writeDiagnosticsFile(o.dataDir, report);
  o.log.logger('diagnostics').info(`diagnostics written to ${path}`);
  return { path };
}

async function updateSettings(settings: SettingsStore, patch: Partial<Settings>): Promise<Settings> {
  try {
    return settings.update(patch);
  } catch (error) {
    throw new CodedError('bad-request', `Settings not saved: ${errorMessage(error)}`);
  }
}
