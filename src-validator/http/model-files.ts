import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { API } from '../../src-shared/protocol';
import type { ServedFile, TeacherVariants } from '../model-files/teacher-variants';
import { BandwidthPacer } from './bandwidth';
import { byteRange, notModified, rangeStillValid } from './byte-range';
import { ProtocolError } from './protocol-error';
import { clientAddressOf } from './rate-limit';
import { decodeSegment, echo } from './request-target';
import { UploadSlots } from './upload-slots';

/** How the validator serves its teacher files (`nya validator --serve-mib-per-s` and friends). */
export interface ModelFileServing {
  /** All downloads together, MiB/s; 0: the files are not served (mirrors only). */
  mibPerS: number;
  /** Downloads one remote address may have running; more get 429. */
  perAddress: number;
  /** Downloads running at once in all; more get 429. */
  total: number;
}

/**
 * 25 MiB/s is a fifth of a 1 Gbit/s uplink: a 4.2 GB int4 teacher in under three minutes for one
 * miner, and results (8 MiB at most each) still flow beside it. Four per address lets a few miners
 * behind one NAT download together; sixteen in all keeps each above 1.5 MiB/s.
 */
export const DEFAULT_MODEL_FILE_SERVING: ModelFileServing = { mibPerS: 25, perAddress: 4, total: 16 };

export const MODEL_FILES_PREFIX = API.modelFile('x', 'y').slice(0, -'x/y'.length);

/** When a refused download may try again: a download slot frees up within a file's time. */
const DOWNLOAD_RETRY_AFTER_MS = 10_000;
/** A download that takes nothing for this long gives its slot back: no reader holds one forever. */
const DOWNLOAD_IDLE_MS = 60_000;
const READ_CHUNK_BYTES = 64 * 1024;

/** An answer the router does not encode as JSON: it writes itself. */
export class StreamedAnswer {
  constructor(readonly send: (res: ServerResponse) => void) {}
}

/**
 * `GET|HEAD /v1/model/files/<variant>/<path>`: only the files listed for a variant, found by
 * lookup (nothing of the request's path reaches the file system), with `Range`, `If-Range`,
 * `If-None-Match`, a strong ETag (the file's SHA-256), one shared byte rate and bounded
 * concurrent downloads. No signature: the files are public, and verified by their hashes.
 */
export class ModelFileServer {
  private readonly pacer: BandwidthPacer | null;
  private readonly perAddress: UploadSlots;
  private readonly total: UploadSlots;

  constructor(
    private readonly variants: TeacherVariants,
    private readonly serving: ModelFileServing,
  ) {
    this.pacer = serving.mibPerS > 0 ? new BandwidthPacer(serving.mibPerS * 1024 * 1024) : null;
    // A slot counter per name serves downloads as well as uploads: one per address, one for all.
    this.perAddress = new UploadSlots(serving.perAddress);
    this.total = new UploadSlots(serving.total);
  }

  async answer(req: IncomingMessage, path: string): Promise<StreamedAnswer> {
    const file = this.lookup(path);
    const etag = file.sha256;
    const common: OutgoingHttpHeaders = { etag: `"${etag}"`, 'accept-ranges': 'bytes', 'cache-control': 'no-cache' };
    if (notModified(header(req, 'if-none-match'), etag)) return new StreamedAnswer((res) => res.writeHead(304, common).end());
    const range = rangeStillValid(header(req, 'if-range'), etag) ? byteRange(header(req, 'range'), file.bytes) : { kind: 'whole' as const };
    if (range.kind === 'unsatisfiable') {
      throw new ProtocolError('range-not-satisfiable', `The file is ${file.bytes} bytes; ask for one range inside it.`, null, {
        'content-range': `bytes */${file.bytes}`,
      });
    }
    const [start, end] = range.kind === 'part' ? [range.start, range.end] : [0, file.bytes - 1];
    const headers: OutgoingHttpHeaders = {
      ...common,
      'content-type': 'application/octet-stream',
      'content-length': end - start + 1,
      ...(range.kind === 'part' ? { 'content-range': `bytes ${start}-${end}/${file.bytes}` } : {}),
    };
    const status = range.kind === 'part' ? 206 : 200;
    if (req.method === 'HEAD' || file.bytes === 0) return new StreamedAnswer((res) => res.writeHead(status, headers).end());
    const release = this.takeSlot(req);
    let handle: FileHandle;
    try {
      handle = await this.openUnchanged(file);
    } catch (error) {
      release();
      throw error;
    }
    return new StreamedAnswer((res) => {
      if (res.destroyed) {
        release();
        void handle.close();
        return;
      }
      res.writeHead(status, headers);
      // Now, not with the first paced chunk: a client learns at once that its download started.
      res.flushHeaders();
      res.setTimeout(DOWNLOAD_IDLE_MS, () => res.destroy());
      const body = handle.createReadStream({ start, end, highWaterMark: READ_CHUNK_BYTES });
      const done = () => release();
      if (this.pacer) pipeline(body, this.pacer.paced(), res, done);
      else pipeline(body, res, done);
    });
  }

  private lookup(path: string): ServedFile {
    const [variant = '', ...rest] = path.slice(MODEL_FILES_PREFIX.length).split('/');
    const id = decodeSegment(variant);
    const segments = rest.map(decodeSegment);
    const filePath = segments.join('/');
    const file = segments.some((s) => s.includes('/')) ? undefined : this.variants.served.get(id)?.get(filePath);
    if (!file)
      throw new ProtocolError(
        'not-found',
        `No file '${echo(filePath)}' of variant '${echo(id)}' is served here; GET ${API.model} lists them.`,
      );
    return file;
  }

  private takeSlot(req: IncomingMessage): () => void {
    const address = clientAddressOf(req.socket.remoteAddress);
    const mine = this.perAddress.take(address);
    if (!mine) throw busy(`This address already has ${this.serving.perAddress} downloads running; start the next when one ends.`);
    const any = this.total.take('*');
    if (!any) {
      mine();
      throw busy(`The validator is serving ${this.serving.total} downloads; try again shortly, or use another source.`);
    }
    return () => {
      mine();
      any();
    };
  }

  /** The file as it was hashed: one replaced since start would be served under the wrong hash. */
  private async openUnchanged(file: ServedFile): Promise<FileHandle> {
    const handle = await open(file.path, 'r');
    const now = await handle.stat().catch(() => null);
    if (now?.size === file.bytes && now.mtimeMs === file.mtimeMs) return handle;
    await handle.close();
    throw new ProtocolError('unavailable', "The validator's copy of this file changed since it started; it must restart to serve it.");
  }
}

function busy(message: string): ProtocolError {
  return new ProtocolError('rate-limited', message, DOWNLOAD_RETRY_AFTER_MS);
}

/** One header's value; a repeated one (an array) counts as absent for these conditionals. */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}
