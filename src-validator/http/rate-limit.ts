import type { IncomingMessage } from 'node:http';
import { HEADER_KEY } from '../../src-shared/protocol';
import { RATE_BURST_SECONDS } from '../config';
import { ipv6Groups, unmapIPv4 } from '../ip-address';
import { ProtocolError } from './protocol-error';

/** A token bucket's refill rate and size, in requests. */
export interface RequestRate {
  perS: number;
  burst: number;
}

/** `perS` requests a second with a burst of RATE_BURST_SECONDS of them; null for 0 (no limit). */
export function requestRate(perS: number): RequestRate | null {
  return perS > 0 ? { perS, burst: Math.max(1, Math.round(perS * RATE_BURST_SECONDS)) } : null;
}

export interface RateLimits {
  /** Signed requests per key; null: unlimited. */
  perKey: RequestRate | null;
  /**
   * Requests per remote address (an IPv6 client's /64), signed or not; null: unlimited. Off by
   * default: miners behind one NAT, or every client of a validator behind a reverse proxy, share an address.
   */
  perAddress: RequestRate | null;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/** Buckets this many or more are swept of full ones (a full bucket is the same as none). */
const SWEEP_AT_BUCKETS = 10_000;

/** One token bucket per name, created on first use. */
class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: RequestRate,
    private readonly clock: () => number,
  ) {}

  /** Milliseconds until `name` may make a request (0: now), without spending anything. */
  waitMs(name: string): number {
    const bucket = this.buckets.get(name);
    return bucket ? this.shortfallMs(this.refilled(bucket)) : 0;
  }

  /** Spends a token of `name`'s bucket; returns 0, or the milliseconds until one is there (nothing spent). */
  take(name: string): number {
    const bucket = this.buckets.get(name) ?? this.add(name);
    const tokens = this.refilled(bucket);
    bucket.atMs = this.clock();
    bucket.tokens = tokens;
    if (tokens < 1) return this.shortfallMs(tokens);
    bucket.tokens -= 1;
    return 0;
  }

  /** Returns a token spent by `take` (never past the burst). */
  give(name: string): void {
    const bucket = this.buckets.get(name);
    if (bucket) bucket.tokens = Math.min(this.rate.burst, bucket.tokens + 1);
  }

  private refilled(bucket: Bucket): number {
    const elapsedS = Math.max(0, this.clock() - bucket.atMs) / 1000;
    return Math.min(this.rate.burst, bucket.tokens + elapsedS * this.rate.perS);
  }

  private shortfallMs(tokens: number): number {
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.rate.perS) * 1000);
  }

  private add(name: string): Bucket {
    if (this.buckets.size >= SWEEP_AT_BUCKETS) {
      for (const [other, bucket] of this.buckets) if (this.refilled(bucket) >= this.rate.burst) this.buckets.delete(other);
    }
    const bucket = { tokens: this.rate.burst, atMs: this.clock() };
    this.buckets.set(name, bucket);
    return bucket;
  }
}

/** The address a client is limited by: IPv4 as is (also when mapped into IPv6), IPv6 by its /64, which one host is given whole. */
export function clientAddressOf(remote: string | undefined): string {
  if (!remote) return 'unknown';
  const address = unmapIPv4(remote);
  const groups = ipv6Groups(address);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : address;
}

function refusal(whose: string, waitMs: number): ProtocolError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new ProtocolError('rate-limited', `Too many requests from this ${whose}; try again in ${seconds} s.`, seconds * 1000);
}

/**
 * Request rates per key and per address (429 `rate-limited` with Retry-After). A key's bucket is
 * spent only by requests whose signature verified, so nobody can drain another miner's by sending
 * its key unsigned; a request naming a key whose bucket is already empty is refused before its
 * body is read or its signature checked, the cheap way.
 */
export class RequestRateLimiter {
  private readonly keys: TokenBuckets | null;
  private readonly addresses: TokenBuckets | null;

  constructor(limits: RateLimits, clock: () => number) {
    this.keys = limits.perKey ? new TokenBuckets(limits.perKey, clock) : null;
    this.addresses = limits.perAddress ? new TokenBuckets(limits.perAddress, clock) : null;
  }

  /** Before anything of the request is read. Throws a 429 refusal. */
  admit(req: IncomingMessage): void {
    const addressWaitMs = this.addresses?.take(clientAddressOf(req.socket.remoteAddress)) ?? 0;
    if (addressWaitMs > 0) throw refusal('address', addressWaitMs);
    const key = req.headers[HEADER_KEY];
    const keyWaitMs = typeof key === 'string' ? (this.keys?.waitMs(key) ?? 0) : 0;
    if (keyWaitMs > 0) throw refusal('key', keyWaitMs);
  }

  /**
   * Gives back what a request that brought work cost its key (a lease answered with a task, a
   * stored result): work is bounded by the open-lease limit, so only requests that bring none
   * (refused or empty leases, reads, refused uploads) use up the rate, and a fast miner is never
   * slowed by it.
   */
  refund(miner: string): void {
    this.keys?.give(miner);
  }

  /** A request whose signature verified, charged to its key; throws a 429 refusal when the key's bucket is empty. */
  charged<T extends { miner: string }>(request: T): T {
    const waitMs = this.keys?.take(request.miner) ?? 0;
    if (waitMs > 0) throw refusal('key', waitMs);
    return request;
  }
}
