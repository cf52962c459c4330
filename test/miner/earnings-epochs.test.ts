import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { API, LedgerResponse, MeResponse } from '../../src-shared/protocol';
import { fakeRecomputer } from '../../src-validator/bench/sim/fake-teacher';
import type { SimMiner } from '../../src-validator/bench/sim/sim-miner';
import { earningsFigures } from '../../src-main/miner/earnings';
import { bundleOf, documents, honestLabels, leaseTask, MODEL_HASH, startHarness, tokenizer, type Harness } from '../validator/harness';

beforeAll(async () => {
  await cryptoWaitReady();
});

const EPOCH_MS = 60_000;
const COMAI = 1_000_000_000n;

/**
 * The whole set of earnings figures, from the reference validator in local mode (one miner, a
 * 1-minute epoch, the default settling delay of one epoch) through `earningsFigures`, the one
 * definition the snapshot carries, across an epoch's end and its settling. The ledger row that
 * shrank as its epoch filled (1.0 → 0.17 → …) says it is a projected share until the epoch ends,
 * and stays put after.
 */
describe('earnings figures through an epoch boundary', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  const task = async (miner: SimMiner) => {
    const t = await leaseTask(miner, { maxTokens: 300 });
    await miner.submit(t.taskId, bundleOf(honestLabels(t, 1)));
    await h.validator.idle();
    return t;
  };
  const figures = async (miner: SimMiner) => earningsFigures(MeResponse.parse((await miner.get(API.me)).body));
  const ledger = async (miner: SimMiner) => LedgerResponse.parse((await miner.get(API.ledger)).body).entries;

  it('shows projected credit until the epoch ends, then settling until it settles, then credited; the rate follows the share', async () => {
    h = await startHarness('sqlite', {
      localMode: true,
      redundancy: 1,
      recomputers: [fakeRecomputer(MODEL_HASH, tokenizer)],
      allowDemoModel: true,
      epochMs: EPOCH_MS,
      epochEmissionNano: COMAI,
    });
    const epochStart = h.clock.now - (h.clock.now % EPOCH_MS) + EPOCH_MS;
    h.clock.now = epochStart + 1_000;
    await h.validator.addDocuments(documents(40));
    const miner = h.miner(1);

    // The open epoch: everything is projected, with the epoch's end; a lone miner's share is 1.
    const first = await task(miner);
    const open = await figures(miner);
    expect(open).toMatchObject({
      creditedNano: '0',
      settlingNano: '0',
      projectedNano: COMAI.toString(),
      earnedNano: COMAI.toString(),
      epochEndsAtMs: epochStart + EPOCH_MS,
      epochShare: 1,
      // 1 COMAI a minute at share 1: 60 an hour, 1440 a day (local test credit).
      perHourNano: (60n * COMAI).toString(),
      perDayNano: (1440n * COMAI).toString(),
    });
    const row = async () => (await ledger(miner)).find((e) => e.taskId === first.taskId)!;
    expect(await row()).toMatchObject({
      status: 'validated',
      creditedNano: COMAI.toString(),
      credit: 'projected',
      creditFinalAtMs: epochStart + EPOCH_MS,
    });

    // A second task in the same epoch: the first row's projected share shrinks, the total does not.
    h.clock.now = epochStart + 30_000;
    await task(miner);
    const shrunk = await row();
    expect(BigInt(shrunk.creditedNano)).toBeLessThan(COMAI);
    expect(shrunk.credit).toBe('projected');
    expect((await figures(miner)).projectedNano).toBe(COMAI.toString());

    // The epoch closes: its credit is settling (revocable) until one more epoch has passed.
    h.clock.now = epochStart + EPOCH_MS + 1_000;
    const closed = await figures(miner);
    expect(closed).toMatchObject({
      creditedNano: '0',
      settlingNano: COMAI.toString(),
      settlesAtMs: epochStart + 2 * EPOCH_MS,
      projectedNano: '0',
      earnedNano: COMAI.toString(),
      epochEndsAtMs: epochStart + 2 * EPOCH_MS,
      epochShare: null,
      perHourNano: null,
    });
    expect(await row()).toMatchObject({
      creditedNano: shrunk.creditedNano,
      credit: 'settling',
      creditFinalAtMs: epochStart + 2 * EPOCH_MS,
    });

    // Work in the new epoch leaves the closed epoch's rows as they were.
    await task(miner);
    expect((await row()).creditedNano).toBe(shrunk.creditedNano);
    expect(await figures(miner)).toMatchObject({ settlingNano: COMAI.toString(), projectedNano: COMAI.toString() });

    // Settled: final, and the ledger says credited.
    h.clock.now = epochStart + 2 * EPOCH_MS + 1_000;
    const settled = await figures(miner);
    expect(settled).toMatchObject({ creditedNano: COMAI.toString(), earnedNano: (2n * COMAI).toString(), settlingNano: COMAI.toString() });
    expect(await row()).toMatchObject({ status: 'credited', credit: 'settled', creditedNano: shrunk.creditedNano, creditFinalAtMs: null });
  });
});
