import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedFile {
  body: Buffer;
  etag: string;
}

export interface FileServerOptions {
  /** Honour `Range` (and `If-Range`); false answers every request with the whole file, as some servers do. */
  ranges?: boolean;
}

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  status: number;
  bytesSent: number;
}

/**
 * A loopback HTTP file server for download tests: real sockets, real Range semantics, and a way
 * to cut the connection after a given number of body bytes, as a flaky network does.
 */
export class FileServer {
  readonly files = new Map<string, ServedFile>();
  readonly requests: RecordedRequest[] = [];
  /** path → body bytes after which the next responses for it are cut (one entry per response). */
  readonly cuts = new Map<string, number[]>();
  /** path → body bytes after which its responses hang, as a stalled mirror does, until `stalls` drops the path. */
  readonly stalls = new Map<string, number>();
  private server: Server | null = null;
  private port = 0;

  constructor(private readonly options: FileServerOptions = {}) {}

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  serve(path: string, body: Buffer, etag = `"v1-${body.length}"`): void {
    this.files.set(path, { body, etag });
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      const file = this.files.get(path);
      const record: RecordedRequest = { path, headers: req.headers, status: 404, bytesSent: 0 };
      this.requests.push(record);
      if (!file) {
        res.writeHead(404).end('not found');
        return;
      }
      let start = 0;
      let status = 200;
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const ifRange = req.headers['if-range'];
      if (this.options.ranges !== false && range && (!ifRange || ifRange === file.etag)) {
        start = Number(range[1]);
        if (start >= file.body.length) {
          record.status = 416;
          res.writeHead(416, { 'content-range': `bytes */${file.body.length}` }).end();
          return;
        }
        status = 206;
      }
      const slice = file.body.subarray(start);
      const headers: Record<string, string> = { 'content-length': String(slice.length), etag: file.etag };
      if (this.options.ranges !== false) headers['accept-ranges'] = 'bytes';
      if (status === 206) headers['content-range'] = `bytes ${start}-${file.body.length - 1}/${file.body.length}`;
      record.status = status;
      res.writeHead(status, headers);
      const stallAt = this.stalls.get(path);
      if (stallAt !== undefined && stallAt < slice.length) {
        res.write(slice.subarray(0, stallAt), () => {
          record.bytesSent = stallAt;
        });
        return;
      }
      const cutAt = this.cuts.get(path)?.shift();
      if (cutAt !== undefined && cutAt < slice.length) {
        record.bytesSent = cutAt;
        res.write(slice.subarray(0, cutAt), () => setTimeout(() => res.socket?.destroy(), 20));
        return;
      }
      record.bytesSent = slice.length;
      res.end(slice);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
