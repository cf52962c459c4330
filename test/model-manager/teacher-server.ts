import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API, type ModelVariantInfo } from '../../src-shared/protocol';
import { ROOT } from '../browser/nya-process';
import { FileServer } from './file-server';

/** The files of the built demo model, served as a teacher variant ("npm run build" makes them). */
const DEMO_FILES = ['model.onnx', 'model.onnx_data', 'config.json'];

export interface ServedVariant {
  id: string;
  minVramMiB: number;
  /** Base URLs before the validator's own copy (`/v1/model/files/<id>/`), e.g. a dead mirror. */
  mirrors?: string[];
}

/**
 * A stand-in for a validator's `GET /v1/model` and its file serving (Range, ETag) over real
 * loopback HTTP: each variant is a copy of the demo model, so a miner can download, verify and
 * load it. Not a validator: it grades nothing.
 */
export async function startTeacherServer(
  variants: ServedVariant[],
): Promise<FileServer & { variantPath(id: string, file: string): string }> {
  const server = new FileServer();
  const bodies = DEMO_FILES.map((path) => ({ path, body: readFileSync(join(ROOT, 'dist', 'models', 'demo', path)) }));
  const infos: ModelVariantInfo[] = variants.map((v) => {
    for (const f of bodies) server.serve(API.modelFile(v.id, f.path), f.body, `"${v.id}-${f.path}"`);
    return {
      id: v.id,
      label: `Test teacher ${v.id}`,
      modelHash: createHash('sha256').update(v.id).digest('hex'),
      minVramMiB: v.minVramMiB,
      files: bodies.map((f) => ({ path: f.path, bytes: f.body.length, sha256: createHash('sha256').update(f.body).digest('hex') })),
      sources: [...(v.mirrors ?? []), `/v1/model/files/${v.id}/`],
    };
  });
  server.serve(API.model, Buffer.from(JSON.stringify({ variants: infos })));
  await server.start();
  return Object.assign(server, { variantPath: (id: string, file: string) => API.modelFile(id, file) });
}
