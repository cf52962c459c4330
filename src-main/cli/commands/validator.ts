import { join, resolve } from 'node:path';
import { DEFAULT_SEQ_LEN } from '../../../src-shared/protocol';
import { parseArgs } from 'node:util';
import { readFineWebShard } from '../../../src-validator/fineweb';
import { writeDataset } from '../../../src-validator/export/write-dataset';
import { validatedRecords } from '../../../src-validator/export-validated';
import { ExecutionProviderChoice } from '../../../src-shared/state';
import {
  allowListFile,
  DEFAULT_AUDIT_QUEUE,
  DEFAULT_AUDIT_SHARE,
  DEFAULT_AUDITS_PER_KEY,
  type Recomputer,
  DEFAULT_KEYS_STORAGE,
  DEFAULT_MINERS_REFRESH_MS,
  DEFAULT_SETTLE_EPOCHS,
  RefreshingMinerRegistry,
  subnetMiners,
  type MinerRegistry,
  DEFAULT_UPLOAD_DEADLINE_MS,
  DEFAULT_UPLOADS_PER_KEY,
  defaultCheckThreads,
  DEFAULT_MODEL_FILE_SERVING,
  openStore,
  prepareDocuments,
  requestRate,
  startValidator,
  teacherTokenizer,
  type TeacherVariantSpec,
} from '../../../src-validator/index';
import { distPath } from '../../../src-node/app-paths';
import { DEFAULT_COMMUNE_RPC } from '../../../src-node/commune-api';
import { defaultDataDir } from '../../../src-node/data-dir';
import { errorMessage, LogHub, type Logger } from '../../../src-node/log';
import { createTeacherHost, modelHash } from '../../teacher';
import { VariantId } from '../../../src-shared/protocol';
import { variantsOf, VariantFlagError } from './validator-variants';

const DEFAULT_PORT = 7431;

const HELP = `usage: nya validator [options]              run the reference validator
       nya validator ingest FILE... [options]  queue FineWeb Parquet shards as work
       nya validator export --out DIR [options] write validated soft labels as Parquet shards

options:
  --port N              HTTP port (default ${DEFAULT_PORT}; 0 picks a free one)
  --host ADDR           listen address (default 127.0.0.1; 0.0.0.0 for all interfaces)
  --data-dir DIR        SQLite database, result files, weights (default ${resolve(defaultDataDir(), 'validator')})
  --database-url URL    postgres://... to share one database between validator processes
  --model DIR           a teacher variant's folder: its labels are accepted (its hash) and its
                        files served; named by its nya-variant.json (id, label, GPU memory),
                        else by the folder (as nya model download names it, e.g.
                        mistral-7b-instruct-v0.3-int4), or 'demo' (accepted, never served: miners
                        have it). Repeatable, one per variant; the first is the default. Its
                        tokenizer is the validator's.
  --variant NAME=DIR    ... a variant named NAME (repeatable)
  --model-source NAME=URL  a mirror of variant NAME's files, pinned to a revision, e.g.
                        https://huggingface.co/ORG/REPO/resolve/COMMIT/ (repeatable; tried
                        before the validator's own copy; every file is checked by its sha256)
  --min-vram NAME=MIB   GPU memory variant NAME needs (default: its nya-variant.json, else the
                        built-in catalog's figure, else its weights plus 1.5 GiB)
  --model-hash HEX      ... or only the SHA-256 of the model whose labels are accepted (nothing
                        served; --model DIR then only names the tokenizer)
  --allow-demo          also accept the bundled demo model (local testing; GET /v1/model never lists
                        it, so miners offered nothing else run their bundled copy)
  --serve-mib-per-s N   serve the variants' files at N MiB/s, all downloads together (default
                        ${DEFAULT_MODEL_FILE_SERVING.mibPerS}; 0: serve none, list the mirrors only)
  --downloads-per-address N  downloads one address may run at once; more get 429 (default ${DEFAULT_MODEL_FILE_SERVING.perAddress})
  --downloads-total N   downloads running at once in all; more get 429 (default ${DEFAULT_MODEL_FILE_SERVING.total})
  --teacher DIR         the validator's own teacher, an accepted variant's folder: re-computes
                        disagreements, new keys' results and audits of settled tasks of its
                        variant (docs/PROTOCOL.md, "Audits"); repeatable, one per variant;
                        without --model or --variant the teachers are the accepted variants
  --ep auto|cpu|cuda|dml  (with --teacher) its execution provider (default auto)
  --audit-share S       (with --teacher) share of credited tokens the teacher re-computes, on
                        settled tasks picked at random after their results are in (default ${DEFAULT_AUDIT_SHARE}; 0: none)
  --audits-per-key N    (with --teacher) audits each key faces per settling window at least (default ${DEFAULT_AUDITS_PER_KEY})
  --audit-queue N       (with --teacher) audits waiting for the teacher at most; more are skipped
                        and logged, per-key floor audits first (default ${DEFAULT_AUDIT_QUEUE})
  --redundancy N        miners per task (default 2)
  --established-key ADDR  a key established from its first lease: the operator's own miners,
                        which new keys' work waits for (repeatable; docs/PROTOCOL.md, "Who checks whom")
  --first-seen-apart-minutes N  keys first seen less than N minutes apart never check each other (default 10)
  --replica-network V4/V6  keys leasing from one IPv4 /V4 or IPv6 /V6 network never check each other
                        (e.g. 24/48; default off: behind a reverse proxy every client has one address)
  --epoch-minutes N     epoch length (default 60)
  --emission-nano N     emission per epoch in nano-COMAI (default 1000000000)
  --settle-epochs N     epochs an epoch's credit stays revocable after it closes, before its
                        weights are written (default ${DEFAULT_SETTLE_EPOCHS}; 0: at once)
  --refuse-payout ADDR  refuse this payout address (repeatable)
  --check-threads N     worker threads that check result bytes (default: cores - 1, at least 2;
                        0 checks on the main thread)
  --open-leases N       open leases any key may hold (default 3)
  --max-open-leases N   ... and a key that delivers fast enough (default 8)
  --cool-down-minutes N no leases for a key after 3 expired leases (default 10)
  --key-rate N          signed requests per second per key, burst of 5 s (default 20; 0: off)
  --address-rate N      requests per second per remote address, burst of 5 s (default 0: off;
                        behind a reverse proxy every client has the proxy's address)
  --upload-deadline-s S a request body must arrive within S seconds, else 408 (default ${DEFAULT_UPLOAD_DEADLINE_MS / 1000})
  --uploads-per-key N   result uploads one key may have in flight; more get 429 (default ${DEFAULT_UPLOADS_PER_KEY})
  --miners-from FILE    lease and take results only from the keys in FILE (one SS58 address a
                        line, # comments; re-read when it changes); others get 403 not-registered
  --miners-from chain   ... only from the module keys registered on --subnet N
  --subnet N            (with --miners-from chain) the Commune subnet's netuid
  --commune-rpc URL     (with --miners-from chain) the node to read (default ${DEFAULT_COMMUNE_RPC})
  --miners-storage P.I  (with --miners-from chain) the keys storage (default ${DEFAULT_KEYS_STORAGE})
  --miners-refresh-s S  read the registered miners again every S seconds (default ${DEFAULT_MINERS_REFRESH_MS / 1000})
  --keep-results-days N free the soft labels of validated results after N days (default: keep them,
                        they are the data set \`export\` writes; export first). Rejected results and
                        second copies are freed when decided; ledger, totals and credit always stay
  --out DIR             (export) output folder
  --shard-rows N        (export) rows per Parquet shard (default 4096)
  --variant ID          (export) only this teacher variant's labels (default: all)

Weights per settled epoch go to <data-dir>/weights/; setting them on chain is not done here.`;

type Values = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string', default: String(DEFAULT_PORT) },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      'model-hash': { type: 'string' },
      model: { type: 'string', multiple: true, default: [] },
      variant: { type: 'string', multiple: true, default: [] },
      'model-source': { type: 'string', multiple: true, default: [] },
      'min-vram': { type: 'string', multiple: true, default: [] },
      'serve-mib-per-s': { type: 'string', default: String(DEFAULT_MODEL_FILE_SERVING.mibPerS) },
      'downloads-per-address': { type: 'string', default: String(DEFAULT_MODEL_FILE_SERVING.perAddress) },
      'downloads-total': { type: 'string', default: String(DEFAULT_MODEL_FILE_SERVING.total) },
      'allow-demo': { type: 'boolean', default: false },
      teacher: { type: 'string', multiple: true, default: [] },
      ep: { type: 'string', default: 'auto' },
      'audit-share': { type: 'string', default: String(DEFAULT_AUDIT_SHARE) },
      'audits-per-key': { type: 'string', default: String(DEFAULT_AUDITS_PER_KEY) },
      'audit-queue': { type: 'string', default: String(DEFAULT_AUDIT_QUEUE) },
      redundancy: { type: 'string', default: '2' },
      'established-key': { type: 'string', multiple: true, default: [] },
      'first-seen-apart-minutes': { type: 'string', default: '10' },
      'replica-network': { type: 'string' },
      'epoch-minutes': { type: 'string', default: '60' },
      'emission-nano': { type: 'string', default: '1000000000' },
      'settle-epochs': { type: 'string', default: String(DEFAULT_SETTLE_EPOCHS) },
      'refuse-payout': { type: 'string', multiple: true, default: [] },
      'check-threads': { type: 'string', default: String(defaultCheckThreads()) },
      'open-leases': { type: 'string', default: '3' },
      'max-open-leases': { type: 'string', default: '8' },
      'cool-down-minutes': { type: 'string', default: '10' },
      'key-rate': { type: 'string', default: '20' },
      'address-rate': { type: 'string', default: '0' },
      'upload-deadline-s': { type: 'string', default: String(DEFAULT_UPLOAD_DEADLINE_MS / 1000) },
      'uploads-per-key': { type: 'string', default: String(DEFAULT_UPLOADS_PER_KEY) },
      'miners-from': { type: 'string' },
      subnet: { type: 'string' },
      'commune-rpc': { type: 'string', default: DEFAULT_COMMUNE_RPC },
      'miners-storage': { type: 'string', default: DEFAULT_KEYS_STORAGE },
      'miners-refresh-s': { type: 'string', default: String(DEFAULT_MINERS_REFRESH_MS / 1000) },
      'keep-results-days': { type: 'string' },
      out: { type: 'string' },
      'shard-rows': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
}

class UsageError extends Error {}

function positiveInt(name: string, raw: string, min = 1): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

/** Seconds in (0, 3600]: a longer deadline buys nothing, and timers past 2^31 ms fire at once. */
function positiveSeconds(name: string, raw: string): number {
  const s = Number(raw);
  if (!(s > 0 && s <= 3600)) throw new UsageError(`--${name} must be a number of seconds in (0, 3600], got '${raw}'`);
  return s;
}

/** `--miners-from`: null lets any key lease, as without it. */
function minersOf(v: Values, log: Logger): MinerRegistry | null {
  const from = v['miners-from'];
  if (from === undefined) {
    if (v.subnet !== undefined) throw new UsageError('--subnet takes effect with --miners-from chain');
    return null;
  }
  const refreshS = Number(v['miners-refresh-s']);
  if (!(refreshS >= 1 && refreshS <= 86_400))
    throw new UsageError(`--miners-refresh-s must be a number of seconds in [1, 86400], got '${v['miners-refresh-s']}'`);
  let source;
  if (from === 'chain') {
    if (v.subnet === undefined) throw new UsageError('--miners-from chain needs --subnet N (the netuid)');
    const netuid = positiveInt('subnet', v.subnet, 0);
    if (netuid > 0xffff) throw new UsageError(`--subnet is a netuid (0-65535), got '${v.subnet}'`);
    source = subnetMiners({ endpoint: v['commune-rpc'], netuid, storage: v['miners-storage'] });
  } else {
    if (v.subnet !== undefined) throw new UsageError(`--subnet takes effect with --miners-from chain, not a file ('${from}')`);
    source = allowListFile(resolve(from));
  }
  return new RefreshingMinerRegistry(source, refreshS * 1000, log);
}

/** `--replica-network V4/V6`: the prefix lengths two keys' addresses are compared at. */
function networkPrefixOf(raw: string | undefined): { ipv4Bits: number; ipv6Bits: number } | null {
  if (raw === undefined) return null;
  const m = /^(\d+)\/(\d+)$/.exec(raw);
  if (!m || Number(m[1]) > 32 || Number(m[2]) > 128)
    throw new UsageError(`--replica-network is IPv4 bits/IPv6 bits (e.g. 24/48), got '${raw}'`);
  return { ipv4Bits: Number(m[1]), ipv6Bits: Number(m[2]) };
}

function dataDirOf(v: Values): string {
  return resolve(v['data-dir'] ?? resolve(defaultDataDir(), 'validator'));
}

/**
 * The accepted variants: --model/--variant folders, or --model-hash (with --model only for the
 * tokenizer), else the demo model with --allow-demo. `tokenizerDir`: the folder whose tokenizer
 * the validator uses.
 */
async function modelOf(
  v: Values,
): Promise<{ variants: TeacherVariantSpec[] | null; hash: string | null; tokenizerDir: string | null; demoHash: string | null }> {
  const demoDir = distPath('models', 'demo');
  const demoHash = v['allow-demo'] ? await modelHash(demoDir).catch(() => null) : null;
  if (v['model-hash']) {
    if (!/^[0-9a-f]{64}$/.test(v['model-hash']))
      throw new UsageError(`--model-hash must be 64 lowercase hex characters, got '${v['model-hash']}'`);
    if (v.model.length > 1 || v.variant.length > 0)
      throw new UsageError('--model-hash names one model; for several variants use --model or --variant');
    return { variants: null, hash: v['model-hash'], tokenizerDir: v.model[0] ? resolve(v.model[0]) : null, demoHash };
  }
  const flags = { models: v.model, named: v.variant, sources: v['model-source'], minVram: v['min-vram'] };
  if (flags.models.length + flags.named.length === 0) flags.models = v.teacher;
  if (flags.models.length + flags.named.length === 0) {
    if (!demoHash)
      throw new UsageError(
        v['allow-demo']
          ? `the demo model is not built (${demoDir}); run npm run build`
          : 'name the accepted model: --model DIR (repeatable), --variant NAME=DIR or --model-hash HEX (or --allow-demo for local tests)',
      );
    flags.models = [demoDir];
  }
  try {
    const variants = await variantsOf(flags);
    return { variants, hash: null, tokenizerDir: variants[0]!.dir, demoHash };
  } catch (error) {
    if (error instanceof VariantFlagError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * The tokenizer's folder for ingest and export, as serving picks it: the first --model, else the
 * first --variant NAME=DIR, else the demo model's with --allow-demo.
 */
function tokenizerDirOf(v: Values): string | null {
  const named = v.variant.find((x) => x.includes('='));
  const dir = v.model[0] ?? named?.slice(named.indexOf('=') + 1);
  if (dir) return resolve(dir);
  return v['allow-demo'] ? distPath('models', 'demo') : null;
}

function auditShareOf(raw: string): number {
  const share = Number(raw);
  if (!(share >= 0 && share <= 1)) throw new UsageError(`--audit-share must be a share in [0, 1], got '${raw}'`);
  return share;
}

/**
 * `--teacher DIR` (repeatable): the validator's own teachers, each an accepted variant (else
 * nothing it computes could judge a miner). A teacher that cannot load is said once; its variant
 * is then checked by miners only, as without --teacher.
 */
async function teachersOf(
  v: Values,
  acceptedHashes: readonly string[],
  dataDir: string,
  log: Logger,
): Promise<{ recomputers: Recomputer[]; close(): Promise<void> }> {
  const ep = ExecutionProviderChoice.safeParse(v.ep);
  if (!ep.success) throw new UsageError(`--ep must be auto, cpu, cuda or dml, got '${v.ep}'`);
  const recomputers: Recomputer[] = [];
  const hosts: { dispose(): Promise<void> }[] = [];
  const close = async () => void (await Promise.all(hosts.map((h) => h.dispose().catch(() => undefined))));
  for (const raw of v.teacher) {
    const dir = resolve(raw);
    let hash: string;
    try {
      hash = await modelHash(dir);
    } catch (error) {
      log.error(`the teacher in ${dir} cannot be read (${errorMessage(error)}); its variant is checked by miners only`);
      continue;
    }
    if (!acceptedHashes.includes(hash)) {
      await close();
      throw new UsageError(
        `the teacher in ${dir} is model ${hash.slice(0, 12)}…, not an accepted variant: its labels could not judge a miner's`,
      );
    }
    if (recomputers.some((r) => r.modelHash === hash)) {
      await close();
      throw new UsageError(`two --teacher folders are the same model ${hash.slice(0, 12)}…`);
    }
    const teacher = createTeacherHost({
      modelDir: dir,
      executionProvider: ep.data,
      cacheDir: join(dataDir, 'teacher-cache', hash.slice(0, 16)),
      log: log.child(`teacher ${hash.slice(0, 12)}`),
    });
    try {
      await teacher.start();
    } catch (error) {
      await teacher.dispose().catch(() => undefined);
      log.error(`the teacher in ${dir} did not load (${errorMessage(error)}); its variant is checked by miners only`);
      continue;
    }
    hosts.push(teacher);
    log.info(`teacher ${hash.slice(0, 12)}… loaded from ${dir}`);
    recomputers.push({ modelHash: hash, label: (task) => teacher.label(task) });
  }
  return { recomputers, close };
}

async function serve(v: Values): Promise<number> {
  const port = Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got '${v.port}'`);
  const model = await modelOf(v);
  const hub = new LogHub();
  hub.attach((r) => console.error(`${new Date(r.atMs).toISOString()} ${r.level.padEnd(5)} ${r.source}: ${r.message}`));
  const audits = {
    share: auditShareOf(v['audit-share']),
    auditsPerKey: positiveInt('audits-per-key', v['audits-per-key'], 0),
    maxQueued: positiveInt('audit-queue', v['audit-queue']),
  };
  const acceptedHashes = model.variants?.map((x) => x.modelHash) ?? [model.hash!];
  const teacher = await teachersOf(v, acceptedHashes, dataDirOf(v), hub.logger('validator'));
  let validator;
  try {
    validator = await startValidator({
      recomputers: teacher.recomputers,
      audits,
      port,
      host: v.host,
      dataDir: dataDirOf(v),
      databaseUrl: v['database-url'] ?? null,
      ...(model.variants ? { variants: model.variants } : { modelHash: model.hash! }),
      modelFiles: {
        mibPerS: positiveInt('serve-mib-per-s', v['serve-mib-per-s'], 0),
        perAddress: positiveInt('downloads-per-address', v['downloads-per-address']),
        total: positiveInt('downloads-total', v['downloads-total']),
      },
      allowDemoModel: v['allow-demo'],
      demoModelHash: model.demoHash,
      modelDir: model.tokenizerDir,
      redundancy: positiveInt('redundancy', v.redundancy),
      establishedKeys: v['established-key'],
      replicaRules: {
        firstSeenApartMs: positiveInt('first-seen-apart-minutes', v['first-seen-apart-minutes'], 0) * 60_000,
        networkPrefix: networkPrefixOf(v['replica-network']),
      },
      epochMs: positiveInt('epoch-minutes', v['epoch-minutes']) * 60_000,
      epochEmissionNano: BigInt(positiveInt('emission-nano', v['emission-nano'], 0)),
      settleEpochs: positiveInt('settle-epochs', v['settle-epochs'], 0),
      refusedPayoutAddresses: v['refuse-payout'],
      checkThreads: positiveInt('check-threads', v['check-threads'], 0),
      leaseLimits: {
        baseOpenLeases: positiveInt('open-leases', v['open-leases']),
        maxOpenLeases: positiveInt('max-open-leases', v['max-open-leases']),
        coolDownMs: positiveInt('cool-down-minutes', v['cool-down-minutes'], 0) * 60_000,
      },
      rateLimits: {
        perKey: requestRate(positiveInt('key-rate', v['key-rate'], 0)),
        perAddress: requestRate(positiveInt('address-rate', v['address-rate'], 0)),
      },
      uploadDeadlineMs: positiveSeconds('upload-deadline-s', v['upload-deadline-s']) * 1000,
      uploadsPerKey: positiveInt('uploads-per-key', v['uploads-per-key']),
      miners: minersOf(v, hub.logger('miners')),
      resultRetention: {
        keepDays: v['keep-results-days'] === undefined ? null : positiveInt('keep-results-days', v['keep-results-days'], 0),
        keepBytes: null,
      },
      log: hub.logger('validator'),
    });
  } catch (error) {
    await teacher.close();
    throw error;
  }
  const accepted = model.variants?.map((x) => `${x.id} ${x.modelHash.slice(0, 12)}…`).join(', ') ?? `model ${model.hash!.slice(0, 12)}…`;
  console.log(`nya validator: listening on ${validator.url} (${accepted})`);
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.error('nya validator: stopping...');
  await validator.close();
  await teacher.close();
  return 0;
}

async function ingest(v: Values, files: string[]): Promise<number> {
  if (files.length === 0) throw new UsageError('ingest needs at least one FineWeb Parquet file');
  const tokenizer = teacherTokenizer(tokenizerDirOf(v));
  const store = await openStore({ dataDir: dataDirOf(v), databaseUrl: v['database-url'] ?? null });
  try {
    let added = 0;
    let seen = 0;
    for (const file of files) {
      for await (const batch of readFineWebShard(resolve(file), {
        onProgress: ({ rowsDone, rowsTotal }) => process.stderr.write(`\r${file}: ${rowsDone}/${rowsTotal} rows`),
      })) {
        seen += batch.length;
        added += await store.addDocuments(batch.map((d) => ({ docId: d.id, url: d.url, text: d.text, tokenCount: d.tokenCount })));
      }
      process.stderr.write('\n');
    }
    let tokenized = 0;
    for (let n; (n = await prepareDocuments(store, tokenizer, DEFAULT_SEQ_LEN)) > 0;) {
      tokenized += n;
      process.stderr.write(`\rtokenized ${tokenized} documents`);
    }
    process.stderr.write('\n');
    console.log(`nya validator: ${added} new documents queued (${seen - added} already known)`);
    return 0;
  } finally {
    await store.close();
  }
}

async function exportDataset(v: Values): Promise<number> {
  if (!v.out) throw new UsageError('export needs --out DIR');
  const tokenizer = await teacherTokenizer(tokenizerDirOf(v))();
  if (v.variant.length > 1 || v.variant.some((x) => !VariantId.safeParse(x).success))
    throw new UsageError(`export --variant takes one variant id, got '${v.variant.join("', '")}'`);
  const store = await openStore({ dataDir: dataDirOf(v), databaseUrl: v['database-url'] ?? null });
  try {
    const written = await writeDataset(resolve(v.out), validatedRecords(store, tokenizer, v.variant[0] ?? null), {
      ...(v['shard-rows'] ? { shardRows: positiveInt('shard-rows', v['shard-rows']) } : {}),
      onProgress: (rows) => process.stderr.write(`\rexported ${rows} documents`),
    });
    process.stderr.write('\n');
    console.log(`nya validator: ${written.rows} documents in ${written.shards.length} shards; manifest ${written.manifestPath}`);
    return 0;
  } finally {
    await store.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`nya validator: ${errorMessage(error)}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [sub, ...rest] = positionals;
  try {
    if (sub === undefined) return await serve(values);
    if (sub === 'ingest') return await ingest(values, rest);
    if (sub === 'export') return await exportDataset(values);
    throw new UsageError(`unknown subcommand '${sub}'`);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`nya validator: ${error.message}\n\n${HELP}`);
      return 2;
    }
    console.error(`nya validator: ${errorMessage(error)}`);
    return 1;
  }
}
