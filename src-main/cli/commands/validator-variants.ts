import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { VariantId } from '../../../src-shared/protocol';
import type { TeacherVariantSpec } from '../../../src-validator/index';
import { findVariant, verifyModelDir } from '../../model-manager';
import { modelHash } from '../../teacher';
import { readVariantManifest, type VariantManifest } from '../../teacher/variant-manifest';

/**
 * GPU memory beyond the weights for a 1024-token batch (KV cache and activations), as the
 * catalog's figures allow it (src-main/model-manager/catalog.ts): the estimate for a variant the
 * catalog does not know and no `--min-vram` names.
 */
const ACTIVATIONS_MIB = 1536;

/** What the operator said about the variants (`--model`, `--variant`, `--model-source`, `--min-vram`). */
export interface VariantFlags {
  models: string[];
  /** NAME=DIR */
  named: string[];
  /** NAME=URL */
  sources: string[];
  /** NAME=MIB */
  minVram: string[];
}

export class VariantFlagError extends Error {}

function pairs(flag: string, values: string[]): [string, string][] {
  return values.map((raw) => {
    const eq = raw.indexOf('=');
    if (eq <= 0 || eq === raw.length - 1) throw new VariantFlagError(`--${flag} takes NAME=VALUE, got '${raw}'`);
    return [raw.slice(0, eq), raw.slice(eq + 1)];
  });
}

/**
 * The files a miner downloads: the graph, its external data, and the folder's JSON files (config,
 * tokenizer, variant manifest), not a download's leftover `.part.json`. None for the demo model:
 * every miner has it bundled, so `GET /v1/model` never lists it (its hash is accepted all the same).
 */
async function folderFiles(dir: string): Promise<{ files: string[]; weightsBytes: number; isDemo: boolean }> {
  const verified = await verifyModelDir(dir);
  const graph = [verified.modelPath, ...verified.externalData.map((e) => e.path)];
  const weightsBytes = graph.reduce((sum, p) => sum + statSync(p).size, 0);
  if (verified.isDemo) return { files: [], weightsBytes, isDemo: true };
  const json = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.part.json') && statSync(join(dir, f)).isFile());
  const files = [...new Set([...graph.map((p) => relative(dir, p).replaceAll('\\', '/')), ...json])].sort();
  return { files, weightsBytes, isDemo: false };
}

function variantName(dir: string, isDemo: boolean, manifest: VariantManifest | null): string {
  if (isDemo) return 'demo';
  if (manifest) return manifest.id;
  const name = basename(dir);
  if (VariantId.safeParse(name).success) return name;
  throw new VariantFlagError(`cannot name the variant in ${dir} from its folder; name it: --variant NAME=${dir}`);
}

/** A tokenizer.json's digest, or null: every variant must tokenize alike, since a task's token ids are checked once. */
function tokenizerDigest(dir: string): string | null {
  const path = join(dir, 'tokenizer.json');
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : null;
}

/**
 * The teacher variants of `--model DIR` (named by its `nya-variant.json`, else by the folder, as
 * `nya model download` names it, or 'demo') and `--variant NAME=DIR`, in the order given (the first
 * is the default): each folder verified and hashed; its label and GPU need from the flags, else its
 * manifest, else the built-in catalog, else (GPU need) its weights plus ACTIVATIONS_MIB; its
 * mirrors from `--model-source`.
 */
export async function variantsOf(flags: VariantFlags): Promise<TeacherVariantSpec[]> {
  const folders: [string | null, string][] = [
    ...flags.models.map((dir): [string | null, string] => [null, resolve(dir)]),
    ...pairs('variant', flags.named).map(([name, dir]): [string | null, string] => [name, resolve(dir)]),
  ];
  const mirrors = pairs('model-source', flags.sources);
  const vram = new Map(pairs('min-vram', flags.minVram));
  const specs: TeacherVariantSpec[] = [];
  for (const [named, dir] of folders) {
    const { files, weightsBytes, isDemo } = await folderFiles(dir);
    let manifest: VariantManifest | null;
    try {
      manifest = readVariantManifest(dir);
    } catch (error) {
      throw new VariantFlagError((error as Error).message);
    }
    const id = named ?? variantName(dir, isDemo, manifest);
    const known = findVariant(id);
    const vramFlag = vram.get(id);
    if (vramFlag !== undefined && !/^\d{1,7}$/.test(vramFlag)) throw new VariantFlagError(`--min-vram ${id}= takes MiB, got '${vramFlag}'`);
    specs.push({
      id,
      label: manifest?.label ?? known?.label ?? id,
      modelHash: await modelHash(dir),
      minVramMiB:
        vramFlag !== undefined
          ? Number(vramFlag)
          : isDemo
            ? 0
            : (manifest?.minVramMiB ?? known?.minVramMiB ?? Math.ceil(weightsBytes / 2 ** 20) + ACTIVATIONS_MIB),
      dir,
      files,
      mirrors: mirrors.filter(([name]) => name === id).map(([, url]) => mirrorBase(url)),
    });
  }
  for (const [name] of [...mirrors, ...vram]) {
    if (!specs.some((s) => s.id === name))
      throw new VariantFlagError(`no variant is named '${name}'; the variants are ${specs.map((s) => s.id).join(', ') || 'none'}`);
  }
  const tokenizers = new Set(specs.map((s) => tokenizerDigest(s.dir!)));
  if (tokenizers.size > 1)
    throw new VariantFlagError('the variants tokenize differently (their tokenizer.json files differ); one validator serves one tokenizer');
  return specs;
}

/** An absolute http(s) base URL ending in '/', as a file's path is appended to it. */
function mirrorBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VariantFlagError(`--model-source takes an absolute URL, got '${url}'`);
  }
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.search || parsed.hash)
    throw new VariantFlagError(`--model-source takes an http(s) URL without query or fragment, got '${url}'`);
  return parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`;
}
