import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { VariantId } from '../../src-shared/protocol';

/**
 * `nya-variant.json`: what a model folder says about itself as a teacher variant, for whoever
 * serves it (`nya validator --model DIR`). The test-model generator writes it; a validator lists it
 * with the folder's files, so a miner's downloaded copy carries it and can be served again as the
 * same variant. A real export has none and is named by its folder and the built-in catalog.
 */
export const VARIANT_MANIFEST_FILE = 'nya-variant.json';

const VariantManifest = z.object({
  id: VariantId,
  label: z.string().min(1).max(200),
  minVramMiB: z.number().int().min(0).max(10_000_000),
  precision: z.enum(['fp16', 'int4']).optional(),
  seed: z.number().int().optional(),
});
export type VariantManifest = z.infer<typeof VariantManifest>;

/** The folder's manifest, or null when it has none; a malformed one is an error naming the file. */
export function readVariantManifest(dir: string): VariantManifest | null {
  const path = join(dir, VARIANT_MANIFEST_FILE);
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`${path} is not JSON; fix or delete it`);
  }
  const parsed = VariantManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join('.') || 'the top'}: ${issue.message}`);
  }
  return parsed.data;
}
