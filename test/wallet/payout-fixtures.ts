import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { u8aToHex, u8aWrapBytes } from '@polkadot/util';
import {
  cryptoWaitReady,
  decodeAddress,
  mnemonicToMiniSecret,
  signatureVerify,
  sr25519PairFromSeed,
  sr25519Sign,
} from '@polkadot/util-crypto';
import { silentLogger } from '../../src-node/log';
import { ValidatorSession } from '../../src-main/validator-client';
import { signerFromPair } from '../../src-main/wallet';
import { API, payoutChallengeMessage } from '../../src-shared/protocol';
import { addressOf, verifyRequestSignature, type SigningPair } from '../../src-shared/request-signing';
import { startValidator, type RunningValidator } from '../../src-validator/index';
import { fakeTokenizer } from '../../src-validator/bench/sim/fake-teacher';

/** Keys from fixed BIP-39 phrases: the same addresses every run. */
export async function testPair(seedWord: string): Promise<SigningPair & { address: string }> {
  await cryptoWaitReady();
  const phrases: Record<string, string> = {
    miner: 'bottom drive obey lake curtain smoke basket hold race lonely fit walk',
    payout: 'legal winner thank year wave sausage worth useful legal winner thank yellow',
    other: 'letter advice cage absurd amount doctor acoustic avoid letter advice cage above',
  };
  // 'refused' and any other name: a fixed seed from the name's bytes.
  const seed = phrases[seedWord]
    ? mnemonicToMiniSecret(phrases[seedWord])
    : new Uint8Array(32).fill(seedWord.length).map((b, i) => b + (seedWord.charCodeAt(i % seedWord.length) ?? 0));
  const pair = sr25519PairFromSeed(seed);
  return { ...pair, address: addressOf(pair.publicKey) };
}

/** What a Polkadot wallet extension's signRaw does: sign `<Bytes>message</Bytes>`. */
export function extensionSign(pair: SigningPair, message: string): string {
  return u8aToHex(sr25519Sign(u8aWrapBytes(new TextEncoder().encode(message)), pair));
}

export function rawSign(pair: SigningPair, message: string): string {
  return u8aToHex(sr25519Sign(new TextEncoder().encode(message), pair));
}

export interface TestValidator {
  url: string;
  payoutAddressOf(miner: string): Promise<string | null>;
  close(): Promise<void>;
}

/** The real reference validator (src-validator), on loopback with a throwaway SQLite file. */
export async function realValidator(refusedPayoutAddresses: string[] = []): Promise<TestValidator & { validator: RunningValidator }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nya-payout-validator-'));
  const validator = await startValidator({
    port: 0,
    dataDir,
    modelHash: 'ab'.repeat(32),
    log: silentLogger,
    tokenizer: async () => fakeTokenizer(),
    refusedPayoutAddresses,
  });
  return {
    validator,
    url: validator.url,
    payoutAddressOf: async (miner) => (await validator.store.transaction((tx) => tx.minerForUpdate(miner)))?.payoutAddress ?? null,
    close: async () => {
      await validator.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A validator speaking just the payout half of protocol v1, verifying request signatures with
 * the shared verifier and the payout signature with `signatureVerify`, which accepts the raw and
 * the `<Bytes>`-wrapped message alike, as the reference validator should (see the report).
 */
export async function payoutOnlyValidator(now: () => number = Date.now): Promise<TestValidator & { links: Map<string, string> }> {
  const challenges = new Map<string, { miner: string; expiresAtMs: number; used: boolean }>();
  const links = new Map<string, string>();
  let seq = 0;
  const read = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
    });
  const server: Server = createServer(async (req, res) => {
    const body = await read(req);
    const reply = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const check = verifyRequestSignature(req.headers as Record<string, string>, req.method!, req.url!, new Uint8Array(body), now());
    if (!check.ok) return reply(401, { error: { code: check.code, message: check.message } });
    if (req.url === API.payoutChallenge) {
      const challengeId = `c${++seq}`;
      const expiresAtMs = now() + 5 * 60_000;
      challenges.set(challengeId, { miner: check.address, expiresAtMs, used: false });
      return reply(200, { challengeId, message: payoutChallengeMessage(check.address, challengeId, expiresAtMs), expiresAtMs });
    }
    if (req.url === API.payoutLink) {
      const r = JSON.parse(body.toString()) as { payoutAddress: string; challengeId: string; signature: string };
      const c = challenges.get(r.challengeId);
      if (!c || c.used || c.miner !== check.address)
        return reply(400, { error: { code: 'bad-payout-proof', message: 'Unknown payout challenge; ask for a new one.' } });
      c.used = true;
      const message = payoutChallengeMessage(check.address, r.challengeId, c.expiresAtMs);
      if (!signatureVerify(message, r.signature, decodeAddress(r.payoutAddress)).isValid) {
        return reply(400, { error: { code: 'bad-payout-proof', message: 'The signature does not verify.' } });
      }
      links.set(check.address, r.payoutAddress);
      return reply(200, { linked: true });
    }
    reply(404, { error: { code: 'not-found', message: 'no route' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    links,
    payoutAddressOf: async (miner) => links.get(miner) ?? null,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function minerSession(url: string, miner: SigningPair, dataDir: string, now?: () => number): ValidatorSession {
  return new ValidatorSession({
    baseUrl: url,
    signer: signerFromPair(miner),
    dataDir,
    log: silentLogger,
    clientName: 'nya-test/0',
    requestTimeoutMs: 5000,
    backoff: { baseMs: 50, capMs: 100, floorMs: 10 },
    ...(now ? { now } : {}),
  });
}
