import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, statfs, truncate, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ModelFile, ModelVariant } from './catalog';
import { hashFile, readStamp, writeStamp } from './hash-file';
import { ChecksumMismatchError, DiskFullError, HttpStatusError, ModelError } from './errors';

export interface DownloadProgress {
  variantId: string;
  /** The file being fetched, e.g. `model.onnx_data`. */
  file: string;
  bytesDone: number;
  bytesTotal: number;
  /** All files of the variant together. */
  variantBytesDone: number;
  variantBytesTotal: number;
  /** All files of the variant together, 0..1. */
  overall: number;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
}

export interface ModelDownloaderPorts {
  /** `<dataDir>/models`; a variant goes to `<modelsDir>/<variant id>/`. */
  modelsDir: string;
  fetch?: typeof fetch;
  /** Bytes free to this user on the disk holding `dir` (fs.statfs by default). */
  freeBytes?: (dir: string) => Promise<number>;
  /** Tries per file when the connection fails; each try resumes where the last one stopped. */
  maxAttempts?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  retryDelayMs?: number;
  progressIntervalMs?: number;
  now?: () => number;
}

/** Kept free beyond the download itself, so finishing it never fills the disk to the last byte. */
export const DISK_RESERVE_BYTES = 64 * 1024 * 1024;

/** No answer at all from a source (refused, DNS, TLS): the next source is tried without waiting. */
class SourceUnreachableError extends ModelError {
  constructor(url: string, cause: unknown) {
    super('network', `cannot reach ${url}: ${(cause as Error).message}`, { cause });
  }
}

/** One file as fetched from one of its sources. */
type SourcedFile = ModelFile & { url: string };

/** Beside `<file>.part`: which URL and server version its bytes came from, for If-Range. */
interface PartInfo {
  url: string;
  etag: string | null;
  lastModified: string | null;
}

async function statfsFreeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

async function unlinkQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

async function readPartInfo(path: string): Promise<PartInfo | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PartInfo;
  } catch {
    return null;
  }
}

/** `Content-Range: bytes 100-199/1000` → { start: 100, total: 1000 }. */
function parseContentRange(value: string | null): { start: number; total: number | null } | null {
  const m = value && /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(value.trim());
  return m ? { start: Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) } : null;
}

function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return Boolean(signal?.aborted) || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Downloads every file of a model variant into `<modelsDir>/<variant>/`: into `<name>.part`
 * first, resumed over HTTP Range (If-Range with the server's ETag, so a changed file restarts
 * rather than splicing two versions), hashed while it streams, renamed into place only when its
 * sha256 matches. A verified file gets a `<name>.sha256` stamp so the next run skips it without
 * re-reading gigabytes.
 */
export class ModelDownloader {
  private readonly fetch: typeof fetch;
  private readonly freeBytes: (dir: string) => Promise<number>;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly retryDelayMs: number;
  private readonly progressIntervalMs: number;
  private readonly now: () => number;

  constructor(private readonly ports: ModelDownloaderPorts) {
    this.fetch = ports.fetch ?? fetch;
    this.freeBytes = ports.freeBytes ?? statfsFreeBytes;
    this.maxAttempts = ports.maxAttempts ?? 5;
    this.sleep = ports.sleep ?? abortableSleep;
    this.retryDelayMs = ports.retryDelayMs ?? 2000;
    this.progressIntervalMs = ports.progressIntervalMs ?? 250;
    this.now = ports.now ?? Date.now;
  }

  variantDir(variantId: string): string {
    return join(this.ports.modelsDir, variantId);
  }

  /** Resolves to the variant's folder once every file is present and verified. */
  async download(variant: ModelVariant, options: DownloadOptions = {}): Promise<string> {
    if (variant.isDemo) throw new ModelError('no-source', 'the demo model is bundled with the app; there is nothing to download.');
    if (variant.files.length === 0) {
      throw new ModelError(
        'no-source',
        `no download source is configured for ${variant.id}: mine for a validator, or set a model manifest URL (see docs/MODELS.md).`,
      );
    }
    const dir = this.variantDir(variant.id);
    await mkdir(dir, { recursive: true });
    const have = await Promise.all(variant.files.map((f) => this.bytesOnDisk(dir, f)));
    const totalBytes = variant.files.reduce((sum, f) => sum + f.bytes, 0);
    const missing = variant.files.reduce((sum, f, i) => sum + f.bytes - have[i]!, 0);
    if (missing > 0) {
      const free = await this.freeBytes(dir);
      if (free < missing + DISK_RESERVE_BYTES) throw new DiskFullError(dir, missing + DISK_RESERVE_BYTES, free);
    }
    let doneBefore = 0;
    for (const file of variant.files) {
      const report = this.progressReporter(variant.id, file, doneBefore, totalBytes, options.onProgress);
      await this.fetchFromSources(dir, file, report, options.signal);
      doneBefore += file.bytes;
    }
    return dir;
  }

  /** Bytes of `file` already here: all of it when stamped as verified, else what `.part` holds. */
  private async bytesOnDisk(dir: string, file: ModelFile): Promise<number> {
    const path = join(dir, file.name);
    if (await this.isStamped(path, file)) return file.bytes;
    const part = await sizeOf(`${path}.part`);
    return part !== null && part <= file.bytes ? part : 0;
  }

  private async isStamped(path: string, file: ModelFile): Promise<boolean> {
    if ((await sizeOf(path)) !== file.bytes) return false;
    return (await readStamp(path)) === file.sha256;
  }

  private progressReporter(
    variantId: string,
    file: ModelFile,
    doneBefore: number,
    totalBytes: number,
    onProgress?: (p: DownloadProgress) => void,
  ) {
    let lastAtMs = -Infinity;
    return (bytesDone: number, force = false) => {
      if (!onProgress) return;
      const atMs = this.now();
      if (!force && atMs - lastAtMs < this.progressIntervalMs) return;
      lastAtMs = atMs;
      const variantBytesDone = doneBefore + bytesDone;
      const overall = totalBytes === 0 ? 1 : variantBytesDone / totalBytes;
      onProgress({
        variantId,
        file: file.name,
        bytesDone,
        bytesTotal: file.bytes,
        variantBytesDone,
        variantBytesTotal: totalBytes,
        overall,
      });
    };
  }

  /**
   * Each source in order until one delivers the file. A source that cannot be reached or answers
   * an error status is left at once; one whose connection breaks is retried (it was working) up
   * to `maxAttempts` first. The part file carries over between sources: the sha256 decides.
   */
  private async fetchFromSources(
    dir: string,
    file: ModelFile,
    report: (done: number, force?: boolean) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const failures: string[] = [];
    for (const [i, url] of file.urls.entries()) {
      try {
        return await this.fetchWithRetries(dir, { ...file, url }, report, signal);
      } catch (error) {
        const last = i === file.urls.length - 1;
        if (!(error instanceof ModelError) || ['aborted', 'disk-full'].includes(error.code)) throw error;
        if (last && failures.length === 0) throw error;
        failures.push(error.message);
        if (last) throw new ModelError(error.code, `no source could deliver ${file.name}: ${failures.join(' / ')}`, { cause: error });
      }
    }
    throw new ModelError('no-source', `${file.name} has no download source.`);
  }

  private async fetchWithRetries(
    dir: string,
    file: SourcedFile,
    report: (done: number, force?: boolean) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.fetchFile(dir, file, report, signal);
      } catch (error) {
        if (isAbort(error, signal))
          throw new ModelError('aborted', `the download of ${file.name} was cancelled; it resumes where it stopped next time.`);
        if (!(error instanceof ModelError) || error.code !== 'network' || attempt >= this.maxAttempts) throw error;
        if (error instanceof SourceUnreachableError && file.urls.length > 1) throw error; // Another source may answer.
        await this.sleep(this.retryDelayMs * attempt, signal).catch(() => {
          throw new ModelError('aborted', `the download of ${file.name} was cancelled; it resumes where it stopped next time.`);
        });
      }
    }
  }

  private async fetchFile(
    dir: string,
    file: SourcedFile,
    report: (done: number, force?: boolean) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const path = join(dir, file.name);
    const partPath = `${path}.part`;
    const infoPath = `${path}.part.json`;
    await mkdir(dirname(path), { recursive: true });
    if (await this.isStamped(path, file)) return report(file.bytes, true);
    if ((await sizeOf(path)) === file.bytes && (await hashFile(path)).digest('hex') === file.sha256) {
      // Put there by hand (or stamped by an older run): verified now, no need to fetch it.
      await writeStamp(path, file.sha256);
      return report(file.bytes, true);
    }

    const info = await readPartInfo(infoPath);
    let offset = (await sizeOf(partPath)) ?? 0;
    // Bytes from any of the file's sources resume: they all serve the bytes its sha256 names.
    if (offset > file.bytes || (offset > 0 && !(info && file.urls.includes(info.url)))) offset = 0;
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (offset > 0) {
      headers.range = `bytes=${offset}-`;
      // A weak ETag may not be used with If-Range (RFC 9110 13.1.5); Last-Modified can. Another
      // server's validators mean nothing here.
      const validator = info?.url !== file.url ? null : info.etag && !info.etag.startsWith('W/') ? info.etag : info.lastModified;
      if (validator) headers['if-range'] = validator;
    }

    let response: Response;
    try {
      response = await this.fetch(file.url, { headers, signal: signal ?? null });
    } catch (error) {
      if (isAbort(error, signal)) throw error;
      throw new SourceUnreachableError(file.url, error);
    }
    let actualSha256: string;
    if (response.status === 416 && offset === file.bytes) {
      // The part already holds every byte (the last run stopped before verifying it).
      await response.body?.cancel();
      actualSha256 = (await hashFile(partPath)).digest('hex');
    } else {
      offset = await this.startOffset(response, offset, file);
      const etag = response.headers.get('etag');
      const lastModified = response.headers.get('last-modified');
      await writeFile(infoPath, JSON.stringify({ url: file.url, etag, lastModified } satisfies PartInfo));
      actualSha256 = await this.receive(response, partPath, offset, file, report, dir);
    }
    await this.verifyAndPlace(partPath, infoPath, path, file, actualSha256);
    report(file.bytes, true);
  }

  /** Where the response's bytes go in the part file: the resume offset for a 206, zero for a 200. */
  private async startOffset(response: Response, offset: number, file: SourcedFile): Promise<number> {
    if (response.status === 206 && offset > 0) {
      const range = parseContentRange(response.headers.get('content-range'));
      if (range && range.start === offset && (range.total === null || range.total === file.bytes)) return offset;
      await response.body?.cancel();
      if (range?.total != null && range.total !== file.bytes) {
        throw new ModelError(
          'corrupt',
          `${file.url} is ${range.total} bytes on the server, the manifest says ${file.bytes}: the manifest is out of date.`,
        );
      }
      throw new ModelError(
        'network',
        `${file.url} answered a range request with the wrong range (${response.headers.get('content-range')}).`,
      );
    }
    if (response.status === 200) return 0; // No Range support, or the file changed (If-Range): start over.
    await response.body?.cancel();
    throw new HttpStatusError(file.url, response.status);
  }

  /** Appends the body to the part file from `offset`, hashing as it goes; resolves to the whole file's sha256. */
  private async receive(
    response: Response,
    partPath: string,
    offset: number,
    file: SourcedFile,
    report: (done: number, force?: boolean) => void,
    dir: string,
  ): Promise<string> {
    if (!response.body) throw new ModelError('network', `${file.url} sent no body.`);
    if (offset === 0) await writeFile(partPath, new Uint8Array(0));
    else await truncate(partPath, offset);
    const hash = offset === 0 ? createHash('sha256') : await hashFile(partPath);
    const handle = await open(partPath, 'a');
    let done = offset;
    report(done, true);
    try {
      const reader = response.body.getReader();
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (error instanceof Error && error.name === 'AbortError') throw error;
          throw new ModelError(
            'network',
            `the connection to ${file.url} broke at ${done} of ${file.bytes} bytes: ${(error as Error).message}`,
            { cause: error },
          );
        }
        if (chunk.done) break;
        done += chunk.value.byteLength;
        if (done > file.bytes) {
          await reader.cancel();
          throw new ModelError(
            'corrupt',
            `${file.url} sent more than the ${file.bytes} bytes the manifest says: the manifest is out of date.`,
          );
        }
        hash.update(chunk.value);
        await handle.write(chunk.value).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOSPC') throw new DiskFullError(dir, file.bytes - done, await this.freeBytes(dir).catch(() => 0));
          throw error;
        });
        report(done);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (done !== file.bytes) {
      throw new ModelError('network', `the connection to ${file.url} closed at ${done} of ${file.bytes} bytes.`);
    }
    return hash.digest('hex');
  }

  private async verifyAndPlace(partPath: string, infoPath: string, path: string, file: ModelFile, actual: string): Promise<void> {
    if (actual !== file.sha256) {
      await unlinkQuietly(partPath);
      await unlinkQuietly(infoPath);
      throw new ChecksumMismatchError(path, file.sha256, actual);
    }
    await rename(partPath, path);
    await writeStamp(path, file.sha256);
    await unlinkQuietly(infoPath);
  }
}
