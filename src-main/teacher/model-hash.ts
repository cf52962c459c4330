import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as onnx from './onnx-schema';
import { openModelFolder, readModelProto } from './model-folder';

/**
 * A model's identity, written into every soft-label record. It is the SHA-256 of the ONNX graph
 * file's bytes; when the weights live in external data files, their names and sizes are appended
 * (`\0external-data\0` then `name\tsize\n` per file, sorted). Hashing a 14 GB fp16 export on every
 * start would cost a minute of disk reads; the model manager checks the data files' own SHA-256
 * when it downloads them, and a swapped file of the same name and size is not something this hash
 * defends against. A model without external data hashes exactly like `sha256sum model.onnx`.
 */

/** External data files an ONNX graph refers to, relative to the graph's folder. */
export function externalDataFiles(model: onnx.ModelProto): string[] {
  const files = new Set<string>();
  const visit = (graph: onnx.GraphProto | null | undefined) => {
    for (const tensor of graph?.initializer ?? []) {
      const location = tensor.externalData?.find((e) => e.key === 'location')?.value;
      if (location) files.add(location);
    }
    for (const n of graph?.node ?? []) for (const a of n.attribute ?? []) visit(a.g);
  };
  visit(model.graph);
  return [...files].sort();
}

export async function modelHashOf(modelPath: string, dataFiles: string[]): Promise<string> {
  const graphHash = createHash('sha256');
  for await (const chunk of createReadStream(modelPath, { highWaterMark: 1 << 20 })) graphHash.update(chunk as Buffer);
  if (dataFiles.length === 0) return graphHash.digest('hex');
  graphHash.update('\0external-data\0');
  for (const file of dataFiles) {
    const size = statSync(join(dirname(modelPath), file)).size;
    graphHash.update(`${file.replaceAll('\\', '/')}\t${size}\n`);
  }
  return graphHash.digest('hex');
}

/** The hash of the model in a folder (see above). */
export async function modelHash(modelDir: string): Promise<string> {
  const { modelPath } = openModelFolder(modelDir);
  return modelHashOf(modelPath, externalDataFiles(readModelProto(modelPath)));
}
