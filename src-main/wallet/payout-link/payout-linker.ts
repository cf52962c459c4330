import { stringToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady, decodeAddress, encodeAddress, sr25519Verify } from '@polkadot/util-crypto';
import {
  payoutChallengeMessage,
  SS58_PREFIX,
  type PayoutChallengeResponse,
  type PayoutLinkRequest,
  type PayoutLinkResponse,
} from '../../../src-shared/protocol';
import { errorMessage } from '../../../src-node/log';

/** What linking needs from the validator: `ValidatorSession` satisfies it. */
export interface PayoutValidatorPort {
  payoutChallenge(): Promise<PayoutChallengeResponse>;
  linkPayout(req: PayoutLinkRequest): Promise<PayoutLinkResponse>;
}

/** Why a validator call failed, as far as linking tells the cases apart; the validator client's `ValidatorFailure` satisfies it. */
export type PayoutValidatorFailure =
  { kind: 'unreachable'; message: string } | { kind: 'refused'; code: string; message: string } | { kind: 'bad-response'; message: string };

/**
 * Reads a rejection of the port: the failure it carries, or null for anything else. Injected so
 * the wallet does not import the validator client (`validatorFailureOf` there is the real one).
 */
export type ValidatorFailureReader = (error: unknown) => PayoutValidatorFailure | null;

export type PayoutLinkErrorCode =
  | 'no-mining-key'
  | 'bad-address'
  | 'refused-address'
  | 'no-challenge'
  | 'challenge-expired'
  | 'challenge-mismatch'
  | 'bad-signature'
  | 'validator-refused'
  | 'validator-unreachable';

/** A link that did not happen, in a sentence the user can act on. */
export class PayoutLinkError extends Error {
  constructor(
    readonly code: PayoutLinkErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PayoutLinkError';
  }

  /** Whether the same challenge can still be used (nothing reached the validator). */
  get challengeStillUsable(): boolean {
    return this.code === 'bad-address' || this.code === 'refused-address' || this.code === 'bad-signature';
  }
}

export interface PayoutChallenge {
  challengeId: string;
  /** The exact text the payout key signs. */
  message: string;
  expiresAtMs: number;
}

export interface PayoutLinkerOptions {
  validator: PayoutValidatorPort;
  validatorFailure: ValidatorFailureReader;
  miningAddress: () => string | null;
  /** Addresses refused before the validator is asked (exchange deposit addresses), any SS58 prefix. */
  deniedAddresses?: readonly string[];
  now?: () => number;
}

/** How a signature over the challenge verified: extensions' signRaw signs `<Bytes>message</Bytes>`. */
export type SignedForm = 'raw' | 'wrapped';

/**
 * Links a payout address to the mining key. The validator spends a challenge on any attempt, so
 * everything that can be checked here (address, deny list, expiry, the signature itself) is
 * checked before the validator is asked: a typo costs nothing.
 */
export class PayoutLinker {
  private readonly now: () => number;
  private readonly denied: Set<string>;
  private readonly pending = new Map<string, PayoutChallenge>();

  constructor(private readonly o: PayoutLinkerOptions) {
    this.now = o.now ?? Date.now;
    this.denied = new Set(
      (o.deniedAddresses ?? []).map((entry) => {
        try {
          return u8aToHex(decodeAddress(entry.trim()));
        } catch {
          throw new Error(`The payout deny list holds '${entry}', which is not an SS58 address.`);
        }
      }),
    );
  }

  /** Asks the validator for a challenge and checks it is the message this build expects to sign. */
  async begin(): Promise<PayoutChallenge> {
    await cryptoWaitReady();
    const miningAddress = this.requireMiningAddress();
    let challenge: PayoutChallengeResponse;
    try {
      challenge = await this.o.validator.payoutChallenge();
    } catch (error) {
      throw this.payoutFailure(error, 'asking for a payout challenge');
    }
    const expected = payoutChallengeMessage(miningAddress, challenge.challengeId, challenge.expiresAtMs);
    // Never put text in front of the user's payout key that is not the link message for this key.
    if (challenge.message !== expected) {
      throw new PayoutLinkError(
        'challenge-mismatch',
        'The validator sent a challenge message that is not the payout link message for this mining key; nothing was signed.',
      );
    }
    this.prune();
    const pending = { challengeId: challenge.challengeId, message: challenge.message, expiresAtMs: challenge.expiresAtMs };
    this.pending.set(pending.challengeId, pending);
    return pending;
  }

  /** The challenge if it is still ours and unexpired, else null. */
  challenge(challengeId: string): PayoutChallenge | null {
    const challenge = this.pending.get(challengeId);
    return challenge && challenge.expiresAtMs > this.now() ? challenge : null;
  }

  /**
   * Checks a typed or pasted address: any SS58 prefix is read, the prefix-42 form is returned,
   * and one on the deny list is refused.
   */
  checkPayoutAddress(text: string): string {
    const trimmed = text.trim();
    let publicKey: Uint8Array;
    try {
      publicKey = decodeAddress(trimmed);
    } catch (error) {
      throw new PayoutLinkError('bad-address', `'${trimmed}' is not an SS58 address (${errorMessage(error)}).`);
    }
    if (publicKey.length !== 32) throw new PayoutLinkError('bad-address', `'${trimmed}' is not a 32-byte account address.`);
    const address = encodeAddress(publicKey, SS58_PREFIX);
    if (this.denied.has(u8aToHex(publicKey))) {
      throw new PayoutLinkError(
        'refused-address',
        `${address} is on the refused list (an exchange deposit address, for example). Pay to an account whose key you hold.`,
      );
    }
    return address;
  }

  /** Links the payout address with a signature over the challenge message (raw or `<Bytes>`-wrapped). */
  async submit(req: {
    payoutAddress: string;
    challengeId: string;
    signature: string;
  }): Promise<{ payoutAddress: string; signedForm: SignedForm }> {
    await cryptoWaitReady();
    this.requireMiningAddress();
    const payoutAddress = this.checkPayoutAddress(req.payoutAddress);
    const challenge = this.pending.get(req.challengeId);
    if (!challenge)
      throw new PayoutLinkError('no-challenge', 'This link request is unknown or was already used; start the payout link again.');
    if (challenge.expiresAtMs <= this.now()) {
      this.pending.delete(req.challengeId);
      throw new PayoutLinkError(
        'challenge-expired',
        'The link request expired; start the payout link again and sign within the time shown.',
      );
    }
    const signedForm = verifyPayoutSignature(challenge.message, req.signature.trim(), payoutAddress);
    if (!signedForm) {
      throw new PayoutLinkError(
        'bad-signature',
        `The signature is not ${payoutAddress}'s sr25519 signature over the message shown. Sign exactly that message with the payout account.`,
      );
    }
    // From here the validator spends the challenge whatever it answers.
    this.pending.delete(req.challengeId);
    try {
      await this.o.validator.linkPayout({ payoutAddress, challengeId: req.challengeId, signature: req.signature.trim() });
    } catch (error) {
      const failure = this.payoutFailure(error, 'linking the payout address');
      if (failure.code === 'validator-refused' && signedForm === 'wrapped' && /signature/i.test(failure.message)) {
        throw new PayoutLinkError(
          'validator-refused',
          `${failure.message} The signature is over the <Bytes>-wrapped message, as wallet extensions sign; this validator accepts only a signature over the raw message. Sign with a tool that signs raw bytes (e.g. subkey) and paste it.`,
        );
      }
      throw failure;
    }
    return { payoutAddress, signedForm };
  }

  private requireMiningAddress(): string {
    const address = this.o.miningAddress();
    if (!address)
      throw new PayoutLinkError('no-mining-key', 'There is no mining key yet; create or import one before linking a payout address.');
    return address;
  }

  private payoutFailure(error: unknown, doing: string): PayoutLinkError {
    if (error instanceof PayoutLinkError) return error;
    const failure = this.o.validatorFailure(error);
    if (!failure) return new PayoutLinkError('validator-refused', `Failed while ${doing}: ${errorMessage(error)}`);
    if (failure.kind === 'unreachable')
      return new PayoutLinkError('validator-unreachable', `The validator could not be reached while ${doing}: ${failure.message}`);
    if (failure.kind === 'refused' && failure.code === 'refused-address') return new PayoutLinkError('refused-address', failure.message);
    return new PayoutLinkError('validator-refused', `The validator refused ${doing}: ${failure.message}`);
  }

  private prune(): void {
    const now = this.now();
    for (const [id, challenge] of this.pending) if (challenge.expiresAtMs <= now) this.pending.delete(id);
  }
}

/**
 * Which form of the message `signature` signs for `address`, or null. Polkadot wallet
 * extensions (polkadot.js, Talisman, SubWallet) wrap raw payloads as `<Bytes>…</Bytes>` before
 * signing so a dapp cannot make them sign a transaction; `subkey` and scripts sign the raw bytes.
 */
function verifyPayoutSignature(message: string, signature: string, address: string): SignedForm | null {
  const raw = stringToU8a(message);
  const publicKey = decodeAddress(address);
  const verifies = (bytes: Uint8Array) => {
    try {
      return sr25519Verify(bytes, signature, publicKey);
    } catch {
      return false;
    }
  };
  if (verifies(raw)) return 'raw';
  if (verifies(u8aWrapBytes(raw))) return 'wrapped';
  return null;
}
