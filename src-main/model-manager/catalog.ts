import { z } from 'zod';
import { ModelFilePath } from '../../src-shared/protocol';

/** One file of a model variant as the manifest describes it. */
export interface ModelFile {
  /** Path inside the variant's folder, e.g. `model.onnx_data` (forward slashes, no `..`). */
  name: string;
  /** Where to fetch it, tried in order (the validator's own copy, mirrors); the sha256 pins the bytes. */
  urls: readonly string[];
  sha256: string;
  bytes: number;
}

export interface ModelVariant {
  /** e.g. `mistral-7b-instruct-v0.3-int4`; also its folder's name under `<data>/models/`. */
  id: string;
  label: string;
  /** The bundled tiny model: never real teacher output. */
  isDemo: boolean;
  /** Weights on disk, all files together. */
  diskBytes: number;
  /** GPU memory needed to run it with a 1024-token batch (weights, KV cache, activations). */
  minVramMiB: number;
  /** Empty until a manifest or a validator says where to download them from. */
  files: ModelFile[];
  /** What the validator that offers it expects as `modelHash`; null when not from a validator. */
  modelHash: string | null;
}

/**
 * What we know without a manifest. Sizes are Mistral-7B-v0.3's 7.25 B parameters: fp16 is 2 bytes
 * each (14.5 GB); MatMulNBits int4 with block size 32 (4 bits plus an fp16 scale per block: 4.5 bits
 * per weight) quantizes the linear layers and the LM head, as the int4 exports do, and keeps only the
 * embedding in fp16: 7.12 B × 4.5 bits + 0.13 B × 2 bytes ≈ 4.27 GB (the ~4.2 GB below). VRAM adds the KV cache and activations
 * for a 1024-token window, about 1.5 GB at batch 4.
 */
export const BUILTIN_VARIANTS: readonly ModelVariant[] = [
  {
    id: 'demo',
    label: 'Demo model (tiny, bundled; not real teacher output)',
    isDemo: true,
    diskBytes: 0,
    minVramMiB: 0,
    files: [],
    modelHash: null,
  },
  {
    id: 'mistral-7b-instruct-v0.3-int4',
    label: 'Mistral-7B-Instruct-v0.3, ONNX int4 (MatMulNBits) for 8–12 GB GPUs',
    isDemo: false,
    diskBytes: 4.2e9,
    minVramMiB: 5.5 * 1024,
    files: [],
    modelHash: null,
  },
  {
    id: 'mistral-7b-instruct-v0.3-fp16',
    label: 'Mistral-7B-Instruct-v0.3, ONNX fp16 for 16 GB+ GPUs',
    isDemo: false,
    diskBytes: 14.5e9,
    // 15 GiB, so that "16 GB" cards, which report 16,376 MiB or a little less, qualify.
    minVramMiB: 15 * 1024,
    files: [],
    modelHash: null,
  },
];

const ManifestFile = z.object({
  // The same rule as a validator's file paths: relative, no `.` or `..` segment.
  name: ModelFilePath,
  url: z.string().min(1),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, '64 hex digits')
    .transform((s) => s.toLowerCase()),
  bytes: z.number().int().nonnegative(),
});

/** `{ "version": 1, "variants": [{ "id": ..., "files": [...] }] }`; relative URLs are relative to the manifest. */
const ModelManifest = z.object({
  version: z.literal(1),
  variants: z.array(
    z.object({
      id: z.enum(['mistral-7b-instruct-v0.3-int4', 'mistral-7b-instruct-v0.3-fp16']),
      files: z.array(ManifestFile).min(1),
    }),
  ),
});
type ModelManifest = z.infer<typeof ModelManifest>;

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

/** The built-in variants with the manifest's files filled in (a variant it omits keeps none). */
export function applyManifest(manifest: unknown, manifestUrl: string, base: readonly ModelVariant[] = BUILTIN_VARIANTS): ModelVariant[] {
  const parsed = ModelManifest.safeParse(manifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ManifestError(`model manifest ${manifestUrl} is malformed at ${issue.path.join('.') || 'the top'}: ${issue.message}`);
  }
  return base.map((variant) => {
    const entry = parsed.data.variants.find((v) => v.id === variant.id);
    if (!entry) return variant;
    const files = entry.files.map(({ url, ...file }) => ({ ...file, urls: [new URL(url, manifestUrl).href] }));
    const names = new Set(files.map((f) => f.name));
    if (names.size !== files.length) throw new ManifestError(`model manifest ${manifestUrl}: ${variant.id} lists a file twice`);
    return { ...variant, files, diskBytes: files.reduce((sum, f) => sum + f.bytes, 0) };
  });
}

export async function fetchCatalog(manifestUrl: string, fetchFn: typeof fetch = fetch, signal?: AbortSignal): Promise<ModelVariant[]> {
  let response: Response;
  try {
    response = await fetchFn(manifestUrl, { signal: signal ?? null });
  } catch (error) {
    throw new ManifestError(`cannot fetch the model manifest ${manifestUrl}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new ManifestError(`the model manifest ${manifestUrl} answered HTTP ${response.status}`);
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new ManifestError(`the model manifest ${manifestUrl} is not JSON`);
  }
  return applyManifest(json, manifestUrl);
}

export function findVariant(id: string, variants: readonly ModelVariant[] = BUILTIN_VARIANTS): ModelVariant | undefined {
  return variants.find((v) => v.id === id);
}
