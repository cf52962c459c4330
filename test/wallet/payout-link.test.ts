import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAddress } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatorFailureOf, type ValidatorSession } from '../../src-main/validator-client';
import { PayoutLinker, PayoutLinkError, type PayoutValidatorPort } from '../../src-main/wallet/payout-link/payout-linker';
import { extensionSign, minerSession, rawSign, realValidator, testPair, type TestValidator } from './payout-fixtures';

type Pair = Awaited<ReturnType<typeof testPair>>;
let miner: Pair, payout: Pair, other: Pair, refused: Pair;
let validator: TestValidator;
let session: ValidatorSession;
const EXCHANGE = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';

beforeAll(async () => {
  [miner, payout, other, refused] = await Promise.all([testPair('miner'), testPair('payout'), testPair('other'), testPair('refused')]);
  validator = await realValidator([refused.address]);
  session = minerSession(validator.url, miner, mkdtempSync(join(tmpdir(), 'nya-payout-')));
});
afterAll(async () => {
  await session.dispose();
  await validator.close();
});

/** Counts the validator calls, so a test can show that nothing reached it. */
function counted(port: PayoutValidatorPort) {
  const calls = { challenge: 0, link: 0 };
  const wrapped: PayoutValidatorPort = {
    payoutChallenge: () => (calls.challenge++, port.payoutChallenge()),
    linkPayout: (req) => (calls.link++, port.linkPayout(req)),
  };
  return { calls, port: wrapped };
}

const linkerFor = (port: PayoutValidatorPort, extra: Partial<ConstructorParameters<typeof PayoutLinker>[0]> = {}) =>
  new PayoutLinker({
    validator: port,
    validatorFailure: validatorFailureOf,
    miningAddress: () => miner.address,
    deniedAddresses: [EXCHANGE],
    ...extra,
  });

async function failure(promise: Promise<unknown>): Promise<PayoutLinkError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof PayoutLinkError)) throw new Error(`expected a PayoutLinkError, got ${String(error)}`);
  return error;
}

describe('PayoutLinker against the reference validator', () => {
  it('links with a raw signature pasted from elsewhere, and the validator records it', async () => {
    const linker = linkerFor(session);
    const challenge = await linker.begin();
    expect(challenge.message).toContain(`mining:${miner.address}`);
    const linked = await linker.submit({
      payoutAddress: payout.address,
      challengeId: challenge.challengeId,
      signature: rawSign(payout, challenge.message),
    });
    expect(linked).toEqual({ payoutAddress: payout.address, signedForm: 'raw' });
    expect(await validator.payoutAddressOf(miner.address)).toBe(payout.address);
    expect((await session.me()).payoutAddress).toBe(payout.address);
  });

  it('refuses a wrong signature before the validator sees it, so the same challenge still works', async () => {
    const { calls, port } = counted(session);
    const linker = linkerFor(port);
    const challenge = await linker.begin();
    const wrong = await failure(
      linker.submit({ payoutAddress: payout.address, challengeId: challenge.challengeId, signature: rawSign(other, challenge.message) }),
    );
    expect(wrong.code).toBe('bad-signature');
    expect(wrong.challengeStillUsable).toBe(true);
    const edited = await failure(
      linker.submit({
        payoutAddress: payout.address,
        challengeId: challenge.challengeId,
        signature: rawSign(payout, `${challenge.message} `),
      }),
    );
    expect(edited.code).toBe('bad-signature');
    expect(calls.link).toBe(0);
    await linker.submit({ payoutAddress: other.address, challengeId: challenge.challengeId, signature: rawSign(other, challenge.message) });
    expect(await validator.payoutAddressOf(miner.address)).toBe(other.address);
    // A challenge is single use.
    expect(
      (
        await failure(
          linker.submit({ payoutAddress: other.address, challengeId: challenge.challengeId, signature: rawSign(other, challenge.message) }),
        )
      ).code,
    ).toBe('no-challenge');
  });

  it('refuses a deny-listed address in any SS58 prefix without asking the validator, and maps the validator refusal', async () => {
    const { calls, port } = counted(session);
    const linker = linkerFor(port);
    const challenge = await linker.begin();
    const asKusama = encodeAddress(EXCHANGE, 2);
    const denied = await failure(
      linker.submit({ payoutAddress: asKusama, challengeId: challenge.challengeId, signature: `0x${'00'.repeat(64)}` }),
    );
    expect(denied.code).toBe('refused-address');
    expect(denied.message).toContain(EXCHANGE);
    expect(calls.link).toBe(0);
    expect(
      (await failure(linker.submit({ payoutAddress: 'not-an-address', challengeId: challenge.challengeId, signature: '0x00' }))).code,
    ).toBe('bad-address');
    // The validator's own refused list: the signature is good, the validator says no.
    const byValidator = await failure(
      linker.submit({ payoutAddress: refused.address, challengeId: challenge.challengeId, signature: rawSign(refused, challenge.message) }),
    );
    expect(byValidator.code).toBe('refused-address');
    expect(calls.link).toBe(1);
    expect(await validator.payoutAddressOf(miner.address)).not.toBe(refused.address);
    expect(
      () =>
        new PayoutLinker({
          validator: port,
          validatorFailure: validatorFailureOf,
          miningAddress: () => miner.address,
          deniedAddresses: ['nope'],
        }),
    ).toThrow(/deny list holds 'nope'/);
  });

  it('accepts any SS58 prefix and links the prefix-42 form', async () => {
    const linker = linkerFor(session);
    const challenge = await linker.begin();
    const polkadotForm = encodeAddress(payout.publicKey, 0);
    const linked = await linker.submit({
      payoutAddress: polkadotForm,
      challengeId: challenge.challengeId,
      signature: rawSign(payout, challenge.message),
    });
    expect(linked.payoutAddress).toBe(payout.address);
    expect(await validator.payoutAddressOf(miner.address)).toBe(payout.address);
  });

  it('links with a wallet-extension (<Bytes>-wrapped) signature', async () => {
    const linker = linkerFor(session);
    const challenge = await linker.begin();
    const linked = await linker.submit({
      payoutAddress: other.address,
      challengeId: challenge.challengeId,
      signature: extensionSign(other, challenge.message),
    });
    expect(linked).toMatchObject({ payoutAddress: other.address, signedForm: 'wrapped' });
    expect(await validator.payoutAddressOf(miner.address)).toBe(other.address);
  });

  it('fails clearly without a mining key, on an expired challenge, a foreign message, or no validator', async () => {
    expect((await failure(linkerFor(session, { miningAddress: () => null }).begin())).code).toBe('no-mining-key');

    let nowMs = Date.now();
    const late = linkerFor(session, { now: () => nowMs });
    const challenge = await late.begin();
    nowMs = challenge.expiresAtMs + 1;
    expect(late.challenge(challenge.challengeId)).toBeNull();
    expect(
      (
        await failure(
          late.submit({ payoutAddress: payout.address, challengeId: challenge.challengeId, signature: rawSign(payout, challenge.message) }),
        )
      ).code,
    ).toBe('challenge-expired');

    const liar: PayoutValidatorPort = {
      payoutChallenge: async () => ({ challengeId: 'x1', message: 'Transfer everything to Mallory', expiresAtMs: Date.now() + 60_000 }),
      linkPayout: () => Promise.reject(new Error('not called')),
    };
    expect((await failure(linkerFor(liar).begin())).code).toBe('challenge-mismatch');

    const gone = minerSession('http://127.0.0.1:9', miner, mkdtempSync(join(tmpdir(), 'nya-payout-')));
    try {
      expect((await failure(linkerFor(gone).begin())).code).toBe('validator-unreachable');
    } finally {
      await gone.dispose();
    }
  });
});
