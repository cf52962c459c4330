import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ProcessUsage, Settings } from '../../src-shared/state';
import { LOCAL_RESULT_RETENTION, startValidator, type RunningValidator } from '../../src-validator';
import { distPath, unpackedPath } from '../../src-node/app-paths';
import { verifyModelDir } from '../model-manager';
import { localIdentity } from '../wallet/keys/local-identity';
import { errorMessage, type LogHub } from '../../src-node/log';
import { CannotMine } from '../miner/cannot-mine';
import { SampleFeeder } from './sample-feeder';
import type { TeacherPort, ValidatorPort } from '../miner/ports';
import { createTeacherHost, modelHash, type WorkerLauncher } from '../teacher';
import { ValidatorSession } from '../validator-client';
import { KeyStore, keyStoreWithoutSecret, NoMiningKey, WrongPassphrase, type RequestSigner, type SecretBox } from '../wallet';

export interface PipelineDeps {
  dataDir: string;
  log: LogHub;
  /** The loaded teacher's hash, sent with every lease request. */
  modelHash: () => string | null;
  clientName: string;
  workerLauncher?: WorkerLauncher;
  secretBox?: SecretBox;
  /** The embedded validator's epoch length (default the validator's hour): shorter to watch epochs close. */
  localEpochMs?: number;
  /** Each teacher worker's CPU and memory (null once it stops), for the snapshot's `resources`. */
  teacherUsage?: (role: 'teacher' | 'recomputeTeacher', usage: ProcessUsage | null) => void;
}

/** One teacher, one validator connection (and the embedded validator when none is configured). */
export interface Pipeline {
  teacher: TeacherPort;
  validator: ValidatorPort;
  session: ValidatorSession;
  embeddedUrl: string | null;
  /** The address the validator knows this miner by. */
  signingAddress: string;
  close(): Promise<void>;
}

const DEMO_MODEL_DIR = () => unpackedPath(distPath('models', 'demo'));

/**
 * Opens what the miner loop needs for the current settings. With no validator URL it starts the
 * embedded local validator (local mode: one miner, checked by re-computing sampled documents with
 * a second teacher) fed with the bundled FineWeb sample, so a fresh install mines offline.
 */
export async function openPipeline(d: PipelineDeps, settings: Settings): Promise<Pipeline> {
  const modelDir = settings.modelDir ?? DEMO_MODEL_DIR();
  // A missing or broken model is a clear sentence before any worker starts, not a crash.
  await verifyModelDir(modelDir).catch((error: unknown) => {
    throw new CannotMine('model-unusable', `The model in ${modelDir} cannot be used: ${errorMessage(error)}`);
  });
  const teacherOptions = {
    modelDir,
    executionProvider: settings.executionProvider,
    gpuDeviceId: settings.gpuDeviceId,
    maxBatchTokens: settings.maxBatchTokens,
    cacheDir: join(d.dataDir, 'teacher-cache'),
    ...(d.workerLauncher ? { launcher: d.workerLauncher } : {}),
  };
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const teacher = createTeacherHost({
      ...teacherOptions,
      log: d.log.logger('teacher'),
      onUsage: (usage) => d.teacherUsage?.('teacher', usage),
    });
    closers.push(() => teacher.dispose());

    let baseUrl: string;
    let signer: RequestSigner;
    let embedded: RunningValidator | null = null;
    if (settings.validatorUrl) {
      baseUrl = settings.validatorUrl;
      signer = await walletSigner(d);
    } else {
      const hash = await modelHash(modelDir);
      // A second worker re-computes sampled documents; one thread keeps it from starving the miner's.
      const recomputer = createTeacherHost({
        ...teacherOptions,
        intraOpThreads: 1,
        log: d.log.logger('local-validator.teacher'),
        onUsage: (usage) => d.teacherUsage?.('recomputeTeacher', usage),
      });
      closers.push(() => recomputer.dispose());
      // Load it now, beside the miner's: the first check should not wait for a model load.
      void recomputer.start().catch((error: unknown) => d.log.logger('local-validator').warn(`re-compute teacher: ${errorMessage(error)}`));
      embedded = await startValidator({
        port: 0,
        dataDir: join(d.dataDir, 'local-validator'),
        modelHash: hash,
        allowDemoModel: true,
        demoModelHash: hash,
        // The validator tokenizes with the model's own tokenizer.json when the folder has one.
        modelDir,
        localMode: true,
        // A miner left running must not fill the disk: keep the newest bodies only.
        resultRetention: LOCAL_RESULT_RETENTION,
        redundancy: 1,
        ...(d.localEpochMs ? { epochMs: d.localEpochMs } : {}),
        recomputers: [recomputer],
        log: d.log.logger('local-validator'),
      });
      closers.push(() => embedded!.close());
      const feeder = new SampleFeeder(embedded, {
        dir: join(d.dataDir, 'local-validator'),
        shard: distPath('fineweb', 'sample-000.parquet'),
        log: d.log.logger('local-validator'),
      });
      await feeder.feedIfLow();
      feeder.start();
      closers.push(async () => feeder.dispose());
      baseUrl = embedded.url;
      signer = await localIdentity(join(d.dataDir, 'local-validator'));
    }
    const session = new ValidatorSession({
      baseUrl,
      signer,
      // One outbox per validator: a result is only ever sent where its lease came from.
      dataDir: join(
        d.dataDir,
        'validators',
        createHash('sha256')
          .update(baseUrl.replace(/:\d+$/, embedded ? ':local' : ''))
          .digest('hex')
          .slice(0, 16),
      ),
      log: d.log.logger('validator-client'),
      clientName: d.clientName,
      modelHash: d.modelHash,
    });
    await session.start();
    closers.push(() => session.dispose());
    return { teacher, validator: session, session, embeddedUrl: embedded?.url ?? null, signingAddress: signer.address, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Throws the CannotMine a remote validator's pipeline would (no mining key, a locked wallet) before anything else starts. */
export async function checkMiningKey(d: Pick<PipelineDeps, 'dataDir' | 'secretBox'>, settings: Settings): Promise<void> {
  if (settings.validatorUrl) await walletSigner(d);
}

async function walletSigner(d: Pick<PipelineDeps, 'dataDir' | 'secretBox'>): Promise<RequestSigner> {
  const noKey = () =>
    new CannotMine(
      'no-mining-key',
      'No mining key yet: create one with `nya wallet create` (or on the Wallet page) before mining for a remote validator.',
    );
  // Without a passphrase the key cannot be opened, but whether there is one can be read: say the right thing first.
  if (!keyStoreWithoutSecret(d.dataDir).info()) throw noKey();
  if (!d.secretBox) {
    throw new CannotMine(
      'wallet-locked',
      'A remote validator needs your mining key: set NYA_WALLET_PASSPHRASE (headless) or unlock the wallet in the app.',
    );
  }
  try {
    return await new KeyStore({ dataDir: d.dataDir, box: d.secretBox }).signer();
  } catch (error) {
    if (error instanceof NoMiningKey) throw noKey();
    if (error instanceof WrongPassphrase) {
      throw new CannotMine('wallet-locked', errorMessage(error));
    }
    throw error;
  }
}
