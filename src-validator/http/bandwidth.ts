import { Transform } from 'node:stream';

/**
 * One byte rate shared by every download: each chunk is sent when the rate has room for it, so
 * serving weights takes a bounded share of the uplink and the check traffic keeps the rest. A
 * paused chunk waits in a timer, not a loop, and backpressure stops the file read behind it.
 */
export class BandwidthPacer {
  private nextFreeAtMs = 0;
  private readonly bytesPerMs: number;

  constructor(
    bytesPerS: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.bytesPerMs = bytesPerS / 1000;
  }

  /** Reserves the rate for `bytes`; returns how long to wait before sending them. */
  reserve(bytes: number): number {
    const now = this.clock();
    const start = Math.max(now, this.nextFreeAtMs);
    this.nextFreeAtMs = start + bytes / this.bytesPerMs;
    return start - now;
  }

  /** A pass-through stream that paces what flows through it. */
  paced(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        const waitMs = this.reserve(chunk.length);
        if (waitMs < 1) done(null, chunk);
        else setTimeout(() => done(null, chunk), waitMs);
      },
    });
  }
}
