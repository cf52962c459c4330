import { randomBytes } from 'node:crypto';
import { u8aWrapBytes } from '@polkadot/util';
import { checkAddress, decodeAddress, sr25519Verify } from '@polkadot/util-crypto';
import {
  payoutChallengeMessage,
  SS58_PREFIX,
  type PayoutChallengeResponse,
  type PayoutLinkRequest,
  type PayoutLinkResponse,
} from '../../src-shared/protocol';
import { PAYOUT_CHALLENGE_TTL_MS } from '../config';
import type { ValidatorContext } from './context';
import { Refusal } from './errors';

export async function payoutChallenge(ctx: ValidatorContext, miner: string): Promise<PayoutChallengeResponse> {
  const challengeId = randomBytes(16).toString('hex');
  const expiresAtMs = ctx.clock() + PAYOUT_CHALLENGE_TTL_MS;
  await ctx.store.transaction(async (tx) => {
    await tx.upsertMiner(miner, { nowMs: ctx.clock() });
    await tx.insertChallenge({ challengeId, miner, expiresAtMs, used: false });
  });
  return { challengeId, message: payoutChallengeMessage(miner, challengeId, expiresAtMs), expiresAtMs };
}

/**
 * Links a payout address to the mining key: the payout key must have signed this miner's unused,
 * unexpired challenge. A challenge is spent by any attempt, so a wrong signature cannot be retried
 * against it.
 */
export async function linkPayout(ctx: ValidatorContext, miner: string, req: PayoutLinkRequest): Promise<PayoutLinkResponse> {
  const [valid, problem] = checkAddress(req.payoutAddress, SS58_PREFIX);
  if (!valid)
    throw new Refusal('bad-request', `'${req.payoutAddress}' is not an SS58 address with prefix ${SS58_PREFIX}: ${problem ?? 'invalid'}.`);
  if (ctx.settings.refusedPayoutAddresses.has(req.payoutAddress)) {
    throw new Refusal(
      'refused-address',
      `This validator does not pay to ${req.payoutAddress} (it is on the refused list, e.g. an exchange deposit address).`,
    );
  }
  const expiresAtMs = await ctx.store.transaction(async (tx) => {
    const challenge = await tx.challengeForUpdate(req.challengeId);
    if (!challenge || challenge.miner !== miner) throw new Refusal('bad-payout-proof', 'Unknown payout challenge; ask for a new one.');
    if (challenge.used) throw new Refusal('bad-payout-proof', 'This payout challenge was already used; ask for a new one.');
    if (challenge.expiresAtMs < ctx.clock()) throw new Refusal('bad-payout-proof', 'This payout challenge expired; ask for a new one.');
    await tx.markChallengeUsed(req.challengeId);
    return challenge.expiresAtMs;
  });
  const message = new TextEncoder().encode(payoutChallengeMessage(miner, req.challengeId, expiresAtMs));
  const publicKey = decodeAddress(req.payoutAddress);
  const verifies = (bytes: Uint8Array) => {
    try {
      return sr25519Verify(bytes, req.signature, publicKey);
    } catch {
      return false;
    }
  };
  // Wallet extensions (polkadot.js, Talisman, SubWallet) sign raw payloads as <Bytes>…</Bytes>.
  const verified = verifies(message) || verifies(u8aWrapBytes(message));
  if (!verified)
    throw new Refusal('bad-payout-proof', `The signature is not ${req.payoutAddress}'s sr25519 signature over the challenge message.`);
  await ctx.store.setPayoutAddress(miner, req.payoutAddress);
  return { linked: true };
}
