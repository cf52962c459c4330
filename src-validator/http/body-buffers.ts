/**
 * Reused SharedArrayBuffers for result uploads. A fresh multi-megabyte buffer costs more than the
 * checks of the bytes in it: every page is faulted in and zeroed on first touch (a new 3.7 MiB
 * SharedArrayBuffer measured ~12 ms to fill here, a reused one 0.04 ms). Shared, so a check
 * worker reads the upload without a copy. A lease is held from the first byte until the request
 * is answered; nothing may keep a view of the bytes past `release`.
 */
export interface BodyLease {
  bytes: Buffer;
  release(): void;
}

const GRANULE = 1 << 20;

export class BodyBuffers {
  private readonly free: SharedArrayBuffer[] = [];

  /** `keep`: at most this many idle buffers are kept (the rest are left to the GC). */
  constructor(private readonly keep = 8) {}

  /** A buffer of exactly `size` bytes (a view of a pooled one at least that large). */
  acquire(size: number): BodyLease {
    // The most recently released buffer that fits: the likeliest to still be in the CPU's cache.
    let i = this.free.length - 1;
    while (i >= 0 && this.free[i]!.byteLength < size) i--;
    const backing = i >= 0 ? this.free.splice(i, 1)[0]! : new SharedArrayBuffer(Math.ceil(Math.max(size, 1) / GRANULE) * GRANULE);
    let released = false;
    return {
      bytes: Buffer.from(backing, 0, size),
      release: () => {
        if (released) return;
        released = true;
        if (this.free.length < this.keep) this.free.push(backing);
      },
    };
  }
}
