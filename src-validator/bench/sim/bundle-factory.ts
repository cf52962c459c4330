import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { encodeSoftLabels, tokenIdsChecksum } from '../../../src-node/soft-labels';
import type { Tokenizer } from '../../tasks/tokenizer';
import { fakeLabels } from './fake-teacher';

const FIXED_HEADER_BYTES = 48;

/**
 * Builds full-size result bundles fast enough that a simulated miner does not need a GPU's worth
 * of CPU: each distinct text is labelled and encoded once, then copied per task with its task id
 * and document id written into the header and the record's CRC recomputed (native zlib). The
 * bytes are exactly what an honest miner with the fake teacher would send.
 */
export class BundleFactory {
  private readonly templates = new Map<string, { record: Uint8Array; taskIdBytes: number; docIdBytes: number }>();

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly modelHash: string,
    private readonly noiseSeed: number,
  ) {}

  /** Labels and encodes a text ahead of time, so the first task that uses it costs a copy only. */
  prepare(text: string, k: number, seqLen: number, taskIdBytes: number, docIdBytes: number): void {
    this.template(text, k, seqLen, taskIdBytes, docIdBytes);
  }

  private template(text: string, k: number, seqLen: number, taskIdBytes: number, docIdBytes: number) {
    const key = `${k}:${seqLen}:${taskIdBytes}:${docIdBytes}:${text}`;
    let t = this.templates.get(key);
    if (!t) {
      const ids = this.tokenizer.encode(text, seqLen);
      const { topkIds, topkLogprobs } = fakeLabels(ids, { k, noise: 0.01, noiseSeed: this.noiseSeed, vocabSize: this.tokenizer.vocabSize });
      const header = {
        taskId: 'x'.repeat(taskIdBytes),
        docId: 'x'.repeat(docIdBytes),
        modelHash: this.modelHash,
        k,
        positions: ids.length,
        tokenIdsChecksum: tokenIdsChecksum(ids),
      };
      t = { record: encodeSoftLabels({ header, topkIds, topkLogprobs }), taskIdBytes, docIdBytes };
      this.templates.set(key, t);
    }
    return t;
  }

  /**
   * The bundle for a task, and its SHA-256 (hex) for signing. With `reuse`, the bytes are built in
   * `reuse.buffer` (replaced by `reuse.alloc(size)` when too small): a simulated miner with one submission in flight
   * rebuilds in the same memory instead of faulting in megabytes of fresh pages each time.
   */
  bundle(
    task: { taskId: string; k: number; seqLen: number; documents: { docId: string; text: string }[] },
    reuse?: { buffer?: Buffer; alloc?: (bytes: number) => Buffer },
  ): { body: Uint8Array; sha256Hex: string } {
    const taskId = Buffer.from(task.taskId, 'utf8');
    const parts = task.documents.map((d) => {
      const docId = Buffer.from(d.docId, 'utf8');
      return { docId, template: this.template(d.text, task.k, task.seqLen, taskId.length, docId.length) };
    });
    const total = 12 + parts.reduce((s, p) => s + 4 + p.template.record.length, 0);
    let out: Buffer;
    if (reuse) {
      if (!reuse.buffer || reuse.buffer.length < total) reuse.buffer = reuse.alloc ? reuse.alloc(total) : Buffer.allocUnsafe(total);
      out = reuse.buffer.subarray(0, total);
    } else out = Buffer.allocUnsafe(total);
    out.writeUInt32LE(0x4253594e, 0); // "NYSB"
    out.writeUInt32LE(1, 4); // version 1, reserved zeros
    out.writeUInt32LE(parts.length, 8);
    let o = 12;
    for (const { docId, template } of parts) {
      const length = template.record.length;
      out.writeUInt32LE(length, o);
      const record = out.subarray(o + 4, o + 4 + length);
      record.set(template.record);
      record.set(taskId, FIXED_HEADER_BYTES + 2);
      record.set(docId, FIXED_HEADER_BYTES + 4 + taskId.length);
      record.writeUInt32LE(crc32(record.subarray(0, length - 4)) >>> 0, length - 4);
      o += 4 + length;
    }
    return { body: out, sha256Hex: createHash('sha256').update(out).digest('hex') };
  }
}
