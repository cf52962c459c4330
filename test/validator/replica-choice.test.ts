import { describe, expect, it } from 'vitest';
import { mayReplicate, replicaChoices, sameNetwork, type ReplicaRules } from '../../src-validator/service/replica-choice';
import type { ReplicaHolder } from '../../src-validator/store/store';

const RULES: ReplicaRules = { firstSeenApartMs: 600_000, networkPrefix: { ipv4Bits: 24, ipv6Bits: 48 } };
const key = (miner: string, over: Partial<ReplicaHolder> = {}): ReplicaHolder => ({
  miner,
  firstSeenMs: 0,
  remoteAddress: null,
  established: true,
  ...over,
});

describe('replica eligibility', () => {
  it('refuses the same key, keys first seen within the window, and a new key checking a new key', () => {
    const first = key('a');
    expect(mayReplicate(key('a', { firstSeenMs: 10_000_000 }), [first], RULES)).toBe(false);
    expect(mayReplicate(key('b', { firstSeenMs: 599_999 }), [first], RULES)).toBe(false);
    expect(mayReplicate(key('b', { firstSeenMs: 600_000 }), [first], RULES)).toBe(true);
    const fresh = key('n', { established: false });
    expect(mayReplicate(key('m', { firstSeenMs: 600_000, established: false }), [fresh], RULES)).toBe(false);
    expect(mayReplicate(key('b', { firstSeenMs: 600_000 }), [fresh], RULES)).toBe(true);
    // A new key may check an established key's work, and so become established by agreeing.
    expect(mayReplicate(key('m', { firstSeenMs: 600_000, established: false }), [first], RULES)).toBe(true);
  });

  it('refuses keys of one network when the prefix check is on, and ignores addresses when it is off', () => {
    const first = key('a', { remoteAddress: '203.0.113.7' });
    const near = key('b', { firstSeenMs: 600_000, remoteAddress: '::ffff:203.0.113.200' });
    expect(mayReplicate(near, [first], RULES)).toBe(false);
    expect(mayReplicate(near, [first], { ...RULES, networkPrefix: null })).toBe(true);
    expect(mayReplicate({ ...near, remoteAddress: '203.0.114.7' }, [first], RULES)).toBe(true);
  });

  it('compares IPv6 addresses by their prefix', () => {
    const prefix = { ipv4Bits: 24, ipv6Bits: 48 };
    expect(sameNetwork('2001:db8:1::1', '2001:db8:1:ffff::2', prefix)).toBe(true);
    expect(sameNetwork('2001:db8:1::1', '2001:db8:2::1', prefix)).toBe(false);
    expect(sameNetwork('2001:db8:1::1', '10.0.0.1', prefix)).toBe(false);
  });

  it('orders the eligible slots by the validator’s random draw, not by age', () => {
    const candidates = ['t1', 't2', 't3'].map((id, i) => ({
      task: { taskId: id, createdAtMs: i, k: 16, seqLen: 64, modelHash: 'x', tokens: 1, quorum: 2, state: 'open' as const },
      holders: [key(`h${i}`)],
    }));
    const asker = key('me', { firstSeenMs: 10_000_000 });
    const ids = (random: () => number) => replicaChoices(asker, candidates, RULES, random).map((c) => c.task.taskId);
    expect(ids(() => 0)).toEqual(['t2', 't3', 't1']);
    expect(ids(() => 0.99)).toEqual(['t1', 't2', 't3']);
  });
});
