/**
 * How many result uploads each key has in flight. A slot is taken when an upload's headers arrive,
 * before its body is read, and given back when it is answered, fails, is aborted or times out, so
 * one key cannot hold an unbounded number of pooled buffers and sockets open.
 *
 * The key is the one the request claims (x-nya-key): the signature covers the body, so it cannot
 * be verified before the body is read. Someone who knows a miner's address can therefore hold that
 * miner's slots for up to the upload deadline at a time; the miner is answered 429 with
 * retry-after and tries again.
 */
export class UploadSlots {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly perKey: number) {}

  /** A release function (safe to call more than once), or null when `key` already holds every slot. */
  take(key: string): (() => void) | null {
    const held = this.inFlight.get(key) ?? 0;
    if (held >= this.perKey) return null;
    this.inFlight.set(key, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.inFlight.get(key)! - 1;
      if (left > 0) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
    };
  }
}
