import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LogHub } from '../../src-node/log';
import { ValidatorSession, validatorFailureOf } from '../../src-main/validator-client';
import { KeyStore, passphraseBox } from '../../src-main/wallet';
import { BalanceService } from '../../src-main/wallet/balance/balance-service';
import { PayoutLinkError } from '../../src-main/wallet/payout-link/payout-linker';
import { WalletService, walletResultError } from '../../src-main/wallet/wallet-service';
import {
  backupAnswersMatch,
  backupCheckPositions,
  terminalMnemonicPresenter,
  type MnemonicPresenter,
} from '../../src-main/wallet/wallet-service-presenter';
import { WALLET_CHANNELS } from '../../src-shared/wallet-contract';
import { CodedError } from '../../src-shared/result';
import { FakeChain } from './balance-fake-chain';
import { rawSign, realValidator, testPair, type TestValidator } from './payout-fixtures';

// The Substrate dev phrase and its root sr25519 key (polkadot-js: `subkey inspect "bottom drive …"`).
const DEV_PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
const DEV_ADDRESS = '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV';
const FAST_SCRYPT = { log2N: 10, r: 8, p: 1 };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rig {
  service: WalletService;
  store: KeyStore;
  dataDir: string;
  logs: string[];
  shown: string[][];
  setValidator(v: ValidatorSession | null): void;
}

function rig(opts: { presenter?: MnemonicPresenter; passwords?: (string | null)[]; endpoint?: string; denied?: string[] } = {}): Rig {
  const dataDir = mkdtempSync(join(tmpdir(), 'nya-wallet-service-'));
  const hub = new LogHub();
  const logs: string[] = [];
  hub.attach((r) => logs.push(r.message));
  const log = hub.logger('wallet');
  const store = new KeyStore({ dataDir, box: passphraseBox('correct horse', FAST_SCRYPT) });
  const balance = new BalanceService({
    endpoint: opts.endpoint ?? 'ws://127.0.0.1:9',
    log,
    timeoutMs: 5000,
    backoff: { baseMs: 60_000, capMs: 60_000, floorMs: 60_000 },
  });
  const shown: string[][] = [];
  const presenter = opts.presenter ?? { show: async (words: readonly string[]) => (shown.push([...words]), { confirmed: true }) };
  const passwords = [...(opts.passwords ?? [])];
  let validator: ValidatorSession | null = null;
  const service = new WalletService({
    dataDir,
    keyStore: store,
    balance,
    presenter,
    log,
    validator: () => validator,
    validatorFailure: validatorFailureOf,
    deniedPayoutAddresses: opts.denied ?? [],
    passwordPrompt: { ask: async () => (passwords.length ? passwords.shift()! : null) },
  });
  service.start();
  cleanups.push(async () => {
    await service.dispose();
    await balance.dispose();
  });
  return { service, store, dataDir, logs, shown, setValidator: (v) => (validator = v) };
}

async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

let payout: Awaited<ReturnType<typeof testPair>>;
beforeAll(async () => {
  payout = await testPair('payout');
});

describe('WalletService', () => {
  it('creates a key, shows the phrase only to the presenter, and never returns or logs it', async () => {
    const r = rig();
    const created = await r.service.create();
    expect(r.shown).toHaveLength(1);
    expect(r.shown[0]).toHaveLength(12);
    const status = r.service.status();
    expect(status).toMatchObject({
      miningAddress: created.address,
      keySource: 'created',
      hasMnemonic: true,
      payoutAddress: null,
      payoutLinked: false,
    });
    expect(WALLET_CHANNELS['wallet:status'].response.parse(status)).toEqual(status);
    expect(WALLET_CHANNELS['wallet:create'].response.parse(created)).toEqual(created);
    // Values only: a BIP-39 word may also be a field name (`balance`, `state`), which leaks nothing.
    const everything = JSON.stringify([created, status, r.logs]).replace(/"[A-Za-z]+":/g, '');
    for (const word of r.shown[0]!) expect(everything).not.toMatch(new RegExp(`\\b${word}\\b`));
    expect(walletResultError(await rejection(r.service.create()))).toMatchObject({ code: 'conflict' });
  });

  it('does not keep a new key whose backup check failed', async () => {
    const r = rig({ presenter: { show: async () => ({ confirmed: false }) } });
    const error = await rejection(r.service.create());
    expect(error).toBeInstanceOf(CodedError);
    expect(walletResultError(error)).toMatchObject({ code: 'conflict', message: expect.stringContaining('not confirmed') });
    expect(r.store.info()).toBeNull();
    expect(r.service.status().miningAddress).toBeNull();
  });

  it('imports a mnemonic file (known vector) and a polkadot-js keystore, asking for the password in main', async () => {
    const r = rig({ passwords: ['wrong one', 'export-pw'] });
    const phraseFile = join(r.dataDir, 'phrase.txt');
    writeFileSync(phraseFile, `  ${DEV_PHRASE.toUpperCase()}\n`);
    expect(await r.service.requestImport({ kind: 'mnemonic-file', filePath: phraseFile })).toEqual({
      address: DEV_ADDRESS,
      keySource: 'mnemonic',
    });
    const keystore = await r.store.exportPolkadotJson('export-pw');
    r.service.remove({ confirmAddress: DEV_ADDRESS });

    const keystoreFile = join(r.dataDir, 'keystore.json');
    writeFileSync(keystoreFile, keystore);
    // A wrong password carried over IPC: a clear error, nothing stored.
    const wrong = walletResultError(
      await rejection(r.service.requestImport({ kind: 'polkadot-json', filePath: keystoreFile, password: 'nope' })),
    );
    expect(wrong).toEqual({ code: 'bad-request', message: 'The keystore password is wrong.' });
    expect(r.store.info()).toBeNull();
    // Asked in main: the first answer is wrong, the second right.
    expect(await r.service.requestImport({ kind: 'polkadot-json', filePath: keystoreFile, passwordFromPresenter: true })).toEqual({
      address: DEV_ADDRESS,
      keySource: 'polkadot-json',
    });
    expect(r.service.status().hasMnemonic).toBe(false);
  });

  it('gives clear errors for a missing file, a file that is not a key, and cancelled prompts', async () => {
    const r = rig();
    expect(
      walletResultError(await rejection(r.service.requestImport({ kind: 'mnemonic-file', filePath: join(r.dataDir, 'nope.txt') }))),
    ).toMatchObject({ code: 'not-found', message: expect.stringContaining('There is no file') });
    const junk = join(r.dataDir, 'junk.txt');
    writeFileSync(junk, 'hello world');
    expect(walletResultError(await rejection(r.service.requestImport({ kind: 'mnemonic-file', filePath: junk })))).toMatchObject({
      code: 'bad-request',
      message: expect.stringContaining('12, 15, 18, 21 or 24 words'),
    });
    writeFileSync(
      junk,
      '{"address":"x","encoded":"0x00","encoding":{"content":["pkcs8","sr25519"],"type":["scrypt","xsalsa20-poly1305"],"version":"3"}}',
    );
    expect(
      walletResultError(await rejection(r.service.requestImport({ kind: 'polkadot-json', filePath: junk, passwordFromPresenter: true }))),
    ).toMatchObject({ code: 'bad-request', message: expect.stringContaining('cancelled') });
    expect(r.store.info()).toBeNull();
  });

  it('exports without the secret leaving main: the phrase to the presenter, a keystore to a new 0600 file', async () => {
    const r = rig();
    const created = await r.service.create();
    const shown = await r.service.exportKey({ kind: 'mnemonic' });
    expect(shown).toEqual({ exported: 'mnemonic', filePath: null });
    expect(r.shown).toHaveLength(2);
    expect(r.shown[1]).toEqual(r.shown[0]);
    expect(JSON.stringify([shown, r.logs])).not.toContain(r.shown[0]!.join(' '));

    const file = join(r.dataDir, 'backup.json');
    expect(await r.service.exportKey({ kind: 'polkadot-json', filePath: file, password: 'backup-pass' })).toEqual({
      exported: 'polkadot-json',
      filePath: file,
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await rejection(r.service.exportKey({ kind: 'polkadot-json', filePath: file, password: 'backup-pass' }));
    expect(walletResultError(again)).toMatchObject({ code: 'conflict' });

    // The file is a real keystore of the same key: a fresh wallet imports it.
    const other = rig();
    const imported = await other.service.requestImport({ kind: 'polkadot-json', filePath: file, password: 'backup-pass' });
    expect(imported.address).toBe(created.address);
  });

  it('tells every subscriber of a key change, logs one that throws, and stops telling one that disposed', async () => {
    const r = rig();
    const heard: string[] = [];
    r.service.onChange(() => {
      throw new Error('view gone');
    });
    const kept = r.service.onChange(() => heard.push('kept'));
    const dropped = r.service.onChange(() => heard.push('dropped'));
    dropped.dispose();
    await r.service.create();
    // The key change, and the balance service going to its new addresses.
    expect(heard.length).toBeGreaterThan(0);
    expect(heard).not.toContain('dropped');
    expect(r.logs).toContain('a wallet listener failed: view gone');
    kept.dispose();
  });

  it('removes the key only when the typed address matches', async () => {
    const r = rig();
    const { address } = await r.service.create();
    expect(walletResultError(await rejection(() => r.service.remove({ confirmAddress: DEV_ADDRESS })))).toMatchObject({
      code: 'bad-request',
    });
    expect(r.service.status().miningAddress).toBe(address);
    expect(r.service.remove({ confirmAddress: ` ${address} ` })).toEqual({ removed: true });
    expect(r.service.status().miningAddress).toBeNull();
    expect(walletResultError(await rejection(() => r.service.remove({ confirmAddress: address })))).toMatchObject({ code: 'not-found' });
  });

  it('links a payout address through the reference validator and reads both balances from the chain', async () => {
    const chain = new FakeChain();
    await chain.start(0);
    cleanups.push(() => chain.stop());
    const validator: TestValidator = await realValidator();
    cleanups.push(() => validator.close());
    const r = rig({ endpoint: chain.url });
    expect(walletResultError(await rejection(r.service.startPayoutLink()))).toMatchObject({ code: 'not-found' });
    const phraseFile = join(r.dataDir, 'phrase.txt');
    writeFileSync(phraseFile, DEV_PHRASE);
    await r.service.requestImport({ kind: 'mnemonic-file', filePath: phraseFile });
    expect(walletResultError(await rejection(r.service.startPayoutLink()))).toMatchObject({ code: 'unavailable' });

    const session = new ValidatorSession({
      baseUrl: validator.url,
      signer: await r.store.signer(),
      dataDir: r.dataDir,
      log: {
        debug() {},
        info() {},
        warn() {},
        error() {},
        child() {
          return this;
        },
      },
      clientName: 'nya-test/0',
    });
    cleanups.push(() => session.dispose());
    r.setValidator(session);
    const start = await r.service.startPayoutLink({ payoutAddress: payout.address });
    expect(WALLET_CHANNELS['wallet:start-payout-link'].response.parse(start)).toEqual(start);
    expect(start.message).toContain(`mining:${DEV_ADDRESS}`);
    const page = await fetch(start.linkUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(payout.address);

    chain.setAccount(DEV_ADDRESS, 3_000_000_000n);
    chain.setAccount(payout.address, 12_500_000_000n);
    const linked = await r.service.submitPayoutSignature({
      payoutAddress: payout.address,
      challengeId: start.challengeId,
      signature: rawSign(payout, start.message),
    });
    expect(linked).toEqual({ payoutAddress: payout.address, linked: true });
    expect(await validator.payoutAddressOf(DEV_ADDRESS)).toBe(payout.address);
    expect(r.service.status()).toMatchObject({ payoutAddress: payout.address, payoutLinked: true });
    // The one-time page died with the challenge it served.
    expect((await fetch(start.linkUrl)).status).toBe(410);
    const balance = await r.service.refreshBalance();
    expect(balance).toMatchObject({
      state: 'online',
      balances: [
        { address: DEV_ADDRESS, freeNano: '3000000000' },
        { address: payout.address, freeNano: '12500000000' },
      ],
    });
    // A new key does not inherit the old key's payout link.
    r.service.remove({ confirmAddress: DEV_ADDRESS });
    await r.service.create();
    expect(r.service.status()).toMatchObject({ payoutAddress: null, payoutLinked: false });
  });

  it('maps every failure to a Result error code', () => {
    expect(walletResultError(new PayoutLinkError('refused-address', 'x')).code).toBe('forbidden');
    expect(walletResultError(new PayoutLinkError('validator-unreachable', 'x')).code).toBe('unavailable');
    expect(walletResultError(new PayoutLinkError('bad-signature', 'x')).code).toBe('bad-request');
    expect(walletResultError(new Error('boom'))).toEqual({ code: 'internal', message: 'boom' });
  });
});

describe('mnemonic backup check', () => {
  const words = DEV_PHRASE.split(' ');

  it('picks three distinct positions and checks the answers', () => {
    let seed = 0;
    const positions = backupCheckPositions(12, () => [0.95, 0.95, 0.1, 0.5][seed++ % 4]!);
    expect(positions).toEqual([0, 3, 11]);
    expect(backupAnswersMatch(words, positions, [' Bottom', 'lake', 'walk'])).toBe(true);
    expect(backupAnswersMatch(words, positions, ['bottom', 'lake', 'fit'])).toBe(false);
    // A constant source still yields three distinct positions.
    expect(new Set(backupCheckPositions(12, () => 0.3)).size).toBe(3);
  });

  it('prints the phrase once in the terminal presenter and confirms only right answers', async () => {
    const run = async (answer: (q: string) => string) => {
      const written: string[] = [];
      const presenter = terminalMnemonicPresenter({ write: (t) => written.push(t), ask: async (q) => answer(q) }, () => 0.3);
      return { result: await presenter.show(words), written: written.join('') };
    };
    const right = await run((q) => {
      const n = /Word #(\d+)/.exec(q);
      return n ? words[Number(n[1]) - 1]! : '';
    });
    expect(right.result).toEqual({ confirmed: true });
    expect(right.written.match(/curtain/g)).toHaveLength(1);
    expect((await run(() => 'walk')).result).toEqual({ confirmed: false });
  });
});
