import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { distPath } from '../../../src-node/app-paths';
import { defaultDataDir } from '../../../src-node/data-dir';
import { GpuMonitor } from '../../gpu';
import { errorMessage } from '../../../src-node/log';
import {
  BUILTIN_VARIANTS,
  fetchCatalog,
  findVariant,
  formatBytes,
  ModelDownloader,
  recommendVariant,
  verifyModelDir,
  type DownloadProgress,
  type ModelVariant,
} from '../../model-manager';
import { fetchValidatorVariants } from '../../model-manager/validator-variants';
import { chosenNetwork, loadNetworks } from '../../settings/networks';

const MANIFEST_ENV = 'NYA_MODEL_MANIFEST_URL';

const USAGE = `usage: nya model <command> [options]

commands:
  list                 the model variants, their size and GPU memory need, which are here, which fits
  download [VARIANT]   download a variant into <data dir>/models/VARIANT (resumes; sha256-checked);
                       from a validator, without VARIANT: the one that fits this GPU
  verify DIR           check a model folder: model.onnx, its external data, tokenizer.json

options:
  --data-dir DIR       where models are kept (default ${defaultDataDir()}/models)
  --validator URL      the teacher variants this validator hands out (GET /v1/model) and their sources
  --network NAME       the same, from this network's validator
  --manifest URL       where download URLs and hashes come from otherwise (or ${MANIFEST_ENV})
  --vram MIB           GPU memory to recommend for, instead of asking the GPU

See docs/MODELS.md for how to get a real model.`;

interface Io {
  out(line: string): void;
  err(text: string): void;
  isTty: boolean;
}

const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (text) => process.stderr.write(text),
  isTty: Boolean(process.stderr.isTTY),
};

/** Where the variants come from: a validator (`--validator`, `--network`), a manifest, or neither. */
type Source = { validatorUrl: string } | { manifestUrl: string } | null;

async function catalog(source: Source): Promise<ModelVariant[]> {
  if (source && 'validatorUrl' in source) {
    const variants = await fetchValidatorVariants(source.validatorUrl);
    if (variants.length === 0) throw new Error(`${source.validatorUrl} offers no teacher download`);
    return variants;
  }
  return source ? fetchCatalog(source.manifestUrl) : [...BUILTIN_VARIANTS];
}

/** The source the options name; a usage error (a sentence) when they name an unknown network or two sources. */
function sourceOf(values: { validator?: string; network?: string; manifest?: string }, dataDir: string): Source | string {
  if (values.validator && values.network) return '--validator and --network name two sources; give one';
  if (values.network) {
    const list = loadNetworks(dataDir);
    const network = chosenNetwork({ network: values.network }, list);
    if (!network) return `no network '${values.network}'; known: ${list.networks.map((n) => n.name).join(', ')}`;
    const url = network.validators[0];
    if (!url) return `the network '${network.name}' has no validator to download from (it runs the bundled demo model)`;
    return { validatorUrl: url };
  }
  if (values.validator) return { validatorUrl: values.validator };
  const manifestUrl = values.manifest ?? process.env[MANIFEST_ENV];
  return manifestUrl ? { manifestUrl } : null;
}

async function gpuMemoryMiB(): Promise<number | null> {
  const state = await new GpuMonitor().poll();
  const sizes = state.gpus.map((g) => g.memoryTotalMiB).filter((m): m is number => m !== null);
  return sizes.length ? Math.max(...sizes) : null;
}

function variantStatus(variant: ModelVariant, modelsDir: string): string {
  if (variant.isDemo) return existsSync(distPath('models', 'demo')) ? 'bundled' : 'not built (npm run build)';
  const dir = join(modelsDir, variant.id);
  if (!existsSync(dir)) return variant.files.length ? 'not downloaded' : 'not downloaded (no manifest)';
  const files = variant.files.length ? variant.files.map((f) => f.name) : ['model.onnx'];
  return files.every((name) => existsSync(join(dir, name))) ? `here: ${dir}` : `partly downloaded: ${dir}`;
}

async function list(io: Io, modelsDir: string, source: Source, vram: number | null | undefined): Promise<number> {
  const variants = await catalog(source);
  const vramMiB = vram === undefined ? await gpuMemoryMiB() : vram;
  const pick = recommendVariant(vramMiB, variants);
  for (const v of variants) {
    const mark = v.id === pick.variant.id ? '*' : ' ';
    const size = v.isDemo ? 'tiny' : formatBytes(v.diskBytes);
    const vramNeed = v.isDemo ? 'any' : `${(v.minVramMiB / 1024).toFixed(1)} GB`;
    io.out(`${mark} ${v.id.padEnd(32)} ${size.padStart(8)} disk, ${vramNeed.padStart(7)} VRAM  ${variantStatus(v, modelsDir)}`);
    io.out(`    ${v.label}`);
  }
  io.out('');
  io.out(`* recommended: ${pick.reason}`);
  return 0;
}

/** A bar redrawn in place on a terminal; whole-percent lines (every 5 %) when piped to a file. */
function progressPrinter(io: Io): (p: DownloadProgress) => void {
  let lastPct = -1;
  let lastFile = '';
  return (p) => {
    const pct = Math.floor(p.overall * 100);
    if (io.isTty) {
      const width = 30;
      const filled = Math.round(p.overall * width);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
      io.err(`\r[${bar}] ${String(pct).padStart(3)}%  ${p.file} ${formatBytes(p.bytesDone)} / ${formatBytes(p.bytesTotal)}   `);
      return;
    }
    if (p.file !== lastFile || pct >= lastPct + 5 || (pct === 100 && lastPct !== 100)) {
      io.err(`${pct}% ${p.file} ${p.bytesDone}/${p.bytesTotal} bytes\n`);
      lastPct = pct;
      lastFile = p.file;
    }
  };
}

async function download(
  io: Io,
  modelsDir: string,
  source: Source,
  id: string | undefined,
  vram: number | null | undefined,
): Promise<number> {
  const fromValidator = source !== null && 'validatorUrl' in source;
  if (!id && !fromValidator) {
    io.err(`nya model download: name a variant (nya model list shows them)\n`);
    return 2;
  }
  const variants = await catalog(source);
  const variant = id ? findVariant(id, variants) : recommendVariant(vram === undefined ? await gpuMemoryMiB() : vram, variants).variant;
  if (!variant) {
    io.err(`nya model download: unknown variant '${id}'; known: ${variants.map((v) => v.id).join(', ')}\n`);
    return 2;
  }
  if (!variant.isDemo && variant.files.length === 0) {
    io.err(
      `nya model download: no download source for ${variant.id}: pass --validator URL, --network NAME or --manifest URL (see docs/MODELS.md)\n`,
    );
    return 2;
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const dir = await new ModelDownloader({ modelsDir }).download(variant, { signal: controller.signal, onProgress: progressPrinter(io) });
    if (io.isTty) io.err('\n');
    io.out(dir);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function verify(io: Io, dir: string | undefined): Promise<number> {
  if (!dir) {
    io.err('nya model verify: name a model folder\n');
    return 2;
  }
  const report = await verifyModelDir(dir);
  io.out(`ok: ${report.modelPath}${report.isDemo ? ' (the demo model: never real teacher output)' : ''}`);
  for (const data of report.externalData) io.out(`  external data ${data.path}: ${formatBytes(data.bytes)}`);
  io.out(`  tokenizer: ${report.tokenizerPath ?? 'none in the folder; the bundled Mistral v0.3 tokenizer is used'}`);
  return 0;
}

export async function run(argv: string[], io: Io = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        validator: { type: 'string' },
        network: { type: 'string' },
        manifest: { type: 'string' },
        vram: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (error) {
    io.err(`nya model: ${errorMessage(error)}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, arg] = positionals;
  if (values.help || !command) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? 0 : 2;
  }
  const vram = values.vram === undefined ? undefined : Number(values.vram);
  if (vram !== undefined && !(Number.isFinite(vram) && vram >= 0)) {
    io.err(`nya model: --vram must be a number of MiB, got '${values.vram}'\n`);
    return 2;
  }
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const modelsDir = join(dataDir, 'models');
  const source = sourceOf(values, dataDir);
  if (typeof source === 'string') {
    io.err(`nya model: ${source}\n`);
    return 2;
  }
  try {
    if (command === 'list') return await list(io, modelsDir, source, vram);
    if (command === 'download') return await download(io, modelsDir, source, arg, vram);
    if (command === 'verify') return await verify(io, arg);
  } catch (error) {
    if (io.isTty) io.err('\n');
    io.err(`nya model ${command}: ${errorMessage(error)}\n`);
    return 1;
  }
  io.err(`nya model: unknown command '${command}'\n\n${USAGE}\n`);
  return 2;
}
