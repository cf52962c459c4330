import { closeSync, fstatSync, mkdirSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeResultBundle, SoftLabelsError } from '../../src-node/soft-labels';
import { errorMessage } from '../../src-node/log';
import type { BodySource } from '../store/store';
import { assemble, type BodyPiece } from './body-pieces';
import { compareResults } from './agreement';
import { parseRecord, type ParsedRecord } from './record-rows';
import { checkStructure, type ExpectedTask } from './structural';

/**
 * The byte-heavy checks of a submission as plain data in, plain data out, so they run the same on
 * the event loop's thread (`InlineChecker`) and in a worker thread (`CheckPool`): CRC-32 of every
 * record, the structural check, agreement between two results, and writing a body that is kept.
 * Randomness (which rows) is drawn by the caller and passed in; nothing here touches the store.
 */

export interface StructureJob {
  kind: 'structure';
  body: Uint8Array;
  /** Bytes of `body` still to be put in place, first thing (see read-body.ts PooledBody). */
  pieces?: BodyPiece[];
  task: ExpectedTask;
  /** Sampled rows per document (`sampleRows`). */
  rows: Int32Array[];
  /** Where to write the body if it passes (absolute path of a new file), or null to leave it to the store. */
  stageTo: string | null;
  /**
   * The task's other results, compared with this body if it passes (each with its own rows), in
   * the same job: one trip through the pool's queue per submission, not two.
   */
  peers: { key: string; source: BodySource; rows: Int32Array[] }[];
}

export interface CompareJob {
  kind: 'compare';
  a: BodySource;
  b: BodySource;
  rows: Int32Array[];
}

export type CheckJob = StructureJob | CompareJob;

export type StructureAnswer =
  /** The body does not decode or has the wrong document count: a 400 that changes nothing. */
  | { verdict: 'bad-shape'; message: string }
  | { verdict: 'rejected'; reason: string }
  /** `staged`: the body was written to `stageTo`; `agreement`: the verdict per peer key. */
  | { verdict: 'ok'; staged: boolean; agreement: Record<string, CompareAnswer> };

export interface CompareAnswer {
  agree: boolean;
  reason: string | null;
}

class BadShapeError extends Error {}

/** Splits a bundle and checks every record's length and CRC. Throws BadShapeError. */
export function parseBundle(body: Uint8Array, expectedDocuments?: number): ParsedRecord[] {
  try {
    const records = decodeResultBundle(body);
    if (expectedDocuments !== undefined && records.length !== expectedDocuments) {
      throw new BadShapeError(`The bundle holds ${records.length} documents; the task has ${expectedDocuments}.`);
    }
    return records.map((r) => parseRecord(r));
  } catch (error) {
    if (error instanceof SoftLabelsError) throw new BadShapeError(`The result does not decode: ${error.message}`);
    throw error;
  }
}

// Per-thread read buffers, one per side of a comparison: a fresh multi-megabyte buffer per read
// costs more in page faults than reading into it (see http/body-buffers.ts). Jobs run one at a
// time per thread and no view of a read outlives its job.
const readBuffers: [Buffer | null, Buffer | null] = [null, null];

function bytesOf(source: BodySource, side: 0 | 1): Uint8Array {
  if ('bytes' in source) return source.bytes;
  const fd = openSync(source.path, 'r');
  try {
    const size = fstatSync(fd).size;
    let buffer = readBuffers[side];
    if (!buffer || buffer.length < size) buffer = readBuffers[side] = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function checkStructureJob(job: StructureJob): StructureAnswer {
  if (job.pieces) assemble(job.body, job.pieces);
  let records: ParsedRecord[];
  try {
    records = parseBundle(job.body, job.task.documents.length);
  } catch (error) {
    if (error instanceof BadShapeError) return { verdict: 'bad-shape', message: error.message };
    throw error;
  }
  const structure = checkStructure(records, job.task, job.rows);
  if (!structure.ok) return { verdict: 'rejected', reason: structure.reason };
  const agreement: Record<string, CompareAnswer> = {};
  for (const peer of job.peers) agreement[peer.key] = compareWith(peer.source, records, peer.rows);
  return { verdict: 'ok', staged: job.stageTo !== null && stage(job.stageTo, job.body), agreement };
}

function stage(path: string, body: Uint8Array): boolean {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
    return true;
  } catch {
    // Not fatal here: the store writes the body itself inside its transaction and reports a failure there.
    rmSync(path, { force: true });
    return false;
  }
}

function compareWith(source: BodySource, b: ParsedRecord[], rows: Int32Array[]): CompareAnswer {
  let a: ParsedRecord[];
  try {
    a = parseBundle(bytesOf(source, 0));
  } catch (error) {
    return { agree: false, reason: `a stored result is unreadable: ${errorMessage(error)}` };
  }
  return compareResults(a, b, rows);
}

function compareJob(job: CompareJob): CompareAnswer {
  // Both bodies passed the structural check when they arrived; re-checking their CRCs here is
  // what keeps a file damaged on disk from being compared as if it were the miner's answer.
  let b: ParsedRecord[];
  try {
    b = parseBundle(bytesOf(job.b, 1));
  } catch (error) {
    return { agree: false, reason: `a stored result is unreadable: ${errorMessage(error)}` };
  }
  return compareWith(job.a, b, job.rows);
}

export function runCheckJob(job: StructureJob): StructureAnswer;
export function runCheckJob(job: CompareJob): CompareAnswer;
export function runCheckJob(job: CheckJob): StructureAnswer | CompareAnswer;
export function runCheckJob(job: CheckJob): StructureAnswer | CompareAnswer {
  return job.kind === 'structure' ? checkStructureJob(job) : compareJob(job);
}
