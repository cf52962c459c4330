import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { silentLogger } from '../../src-node/log';
import { bundleOf, documents, honestLabels, leaseTask, startHarness, type Harness } from './harness';

beforeAll(async () => {
  await cryptoWaitReady();
});

const EPOCH_MS = 3_600_000;

/** What the validator says when an epoch settles: issue 19 saw "weights for 0 miners written" at every start. */
describe('weights publisher log', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  const logged = () => {
    const lines: string[] = [];
    const log = { ...silentLogger, info: (m: string) => lines.push(`info ${m}`), debug: (m: string) => lines.push(`debug ${m}`) };
    return { lines, log };
  };

  it('says nothing at info level when an epoch settles with nobody in it, and still writes its (empty) weights', async () => {
    const { lines, log } = logged();
    h = await startHarness('sqlite', { epochMs: EPOCH_MS, log });
    await h.validator.publishWeights();
    expect(lines.filter((l) => l.startsWith('info') && /settled/.test(l))).toEqual([]);
    expect(lines.some((l) => /^debug epoch \d+ settled with no validated work/.test(l))).toBe(true);
    expect(existsSync(join(h.dataDir, 'weights', 'latest.json'))).toBe(true);
  });

  it('counts the miners of an epoch that had work, in words that agree with the number', async () => {
    const { lines, log } = logged();
    h = await startHarness('sqlite', { epochMs: EPOCH_MS, redundancy: 2, log });
    h.clock.now = 1_760_000_000_000 - (1_760_000_000_000 % EPOCH_MS) + 60_000;
    await h.validator.addDocuments(documents(8));
    const [a, b] = [h.miner(1), h.miner(2)];
    const t = await leaseTask(a, { maxTokens: 300 });
    expect((await leaseTask(b, { maxTokens: 300 })).taskId).toBe(t.taskId);
    await a.submit(t.taskId, bundleOf(honestLabels(t, 1)));
    await b.submit(t.taskId, bundleOf(honestLabels(t, 2)));
    h.clock.now += 2 * EPOCH_MS;
    await h.validator.publishWeights();
    expect(lines).toContainEqual(expect.stringMatching(/^info epoch \d+ settled: weights for 2 miners written$/));
  });
});
