import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runWallet, type WalletCliIo } from '../../src-main/cli/commands/wallet';

const DEV_PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
let keyring: Keyring;
const dirs: string[] = [];

beforeAll(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
});
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nya-wallet-cli-'));
  dirs.push(dir);
  return dir;
}

type Answerer = (question: string, printed: string[]) => string;

/** A terminal that answers prompts from a script (or has no terminal when `answers` is null). */
function fakeIo(env: Record<string, string>, answers: string[] | Answerer | null = null) {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const io: WalletCliIo = {
    env,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    interactive: answers !== null,
    readText: (path) => readFileSync(path, 'utf8'),
    writeSecretFile: (path, text) => writeFileSync(path, text, { mode: 0o600, flag: 'wx' }),
    ask: async (question) => {
      asked.push(question);
      if (!answers) throw new Error('There is no terminal to ask.');
      const next = typeof answers === 'function' ? answers(question, out) : answers.shift();
      if (next === undefined) throw new Error('the test ran out of answers');
      return next;
    },
  };
  return { io, out, err, asked, text: () => [...out, ...err].join('\n') };
}

const PASS = { NYA_WALLET_PASSPHRASE: 'rig passphrase' };

describe('nya wallet', () => {
  it('creates a key, prints the phrase once, then shows only the address', async () => {
    const dir = tempDir();
    const created = fakeIo(PASS);
    expect(await runWallet(['create', '--data-dir', dir], created.io)).toBe(0);
    const address = /Mining key created: (\S+)/.exec(created.text())![1]!;
    const phrase = created.out.map((l) => l.trim()).find((l) => l.split(' ').length === 12)!;
    expect(keyring.addFromUri(phrase).address).toBe(address);
    expect(created.text()).toMatch(/shown this once: write it down/);

    const shown = fakeIo({});
    expect(await runWallet(['show', '--data-dir', dir], shown.io)).toBe(0);
    expect(shown.text()).toContain(address);
    for (const word of phrase.split(' ')) expect(shown.text()).not.toMatch(new RegExp(`\\b${word}\\b`));

    const exported = fakeIo(PASS);
    expect(await runWallet(['export', '--mnemonic', '--data-dir', dir], exported.io)).toBe(0);
    expect(exported.out).toEqual([phrase]);
  });

  it('asks for a new passphrase twice when none is in the environment, and refuses a mismatch', async () => {
    const dir = tempDir();
    const mismatch = fakeIo({}, ['first passphrase', 'other passphrase']);
    expect(await runWallet(['create', '--data-dir', dir], mismatch.io)).toBe(1);
    expect(mismatch.text()).toMatch(/two entries differ/);
    const ok = fakeIo({}, (question, printed) => {
      if (/passphrase|Repeat/.test(question)) return 'first passphrase';
      const phrase = printed.map((l) => l.trim()).find((l) => l.split(' ').length === 12)!;
      return phrase.split(' ')[Number(/word number (\d+)/.exec(question)![1]) - 1]!;
    });
    expect(await runWallet(['create', '--data-dir', dir], ok.io)).toBe(0);
    expect(ok.asked.filter((q) => /word number/.test(q))).toHaveLength(3);
    expect(ok.text()).toMatch(/Backup checked/);
    const noTerminal = fakeIo({});
    expect(await runWallet(['export', '--mnemonic', '--data-dir', dir], noTerminal.io)).toBe(1);
    expect(noTerminal.text()).toMatch(/Set NYA_WALLET_PASSPHRASE or run in a terminal/);
  });

  it('imports from a mnemonic file, exports a keystore, and says when a passphrase or password is wrong', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'phrase.txt'), `${DEV_PHRASE}\n`);
    const imported = fakeIo(PASS);
    expect(await runWallet(['import', '--mnemonic-file', join(dir, 'phrase.txt'), '--data-dir', dir], imported.io)).toBe(0);
    expect(imported.text()).toContain(keyring.addFromUri(DEV_PHRASE).address);

    const wrong = fakeIo({ NYA_WALLET_PASSPHRASE: 'not the passphrase' });
    expect(await runWallet(['export', '--mnemonic', '--data-dir', dir], wrong.io)).toBe(1);
    expect(wrong.text()).toMatch(/passphrase is wrong/);

    const keystore = join(dir, 'key.json');
    const exported = fakeIo({ ...PASS, NYA_KEYSTORE_PASSWORD: 'keystore pw' });
    expect(await runWallet(['export', '--json', keystore, '--data-dir', dir], exported.io)).toBe(0);
    expect(statSync(keystore).mode & 0o077).toBe(0);
    // key-store.test.ts opens such files with polkadot-js; here the CLI's part: the file and its password.
    expect(JSON.parse(readFileSync(keystore, 'utf8'))).toMatchObject({
      address: keyring.addFromUri(DEV_PHRASE).address,
      encoding: { content: ['pkcs8', 'sr25519'] },
    });
    const wrongPassword = fakeIo({ ...PASS, NYA_KEYSTORE_PASSWORD: 'not it' });
    expect(await runWallet(['import', '--json', keystore, '--data-dir', tempDir()], wrongPassword.io)).toBe(1);
    expect(wrongPassword.text()).toMatch(/keystore password is wrong/);
  });

  it('says when the backup check misses, keeping the key', async () => {
    const dir = tempDir();
    const run = fakeIo(PASS, (question) => (/word number/.test(question) ? 'zebra' : 'unused'));
    expect(await runWallet(['create', '--data-dir', dir], run.io)).toBe(0);
    expect(run.text()).toMatch(/do not match the phrase above/);
    expect(await runWallet(['show', '--data-dir', dir], fakeIo({}).io)).toBe(0);
  });

  it('changes the passphrase: the old one stops working, the new one opens the same key', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'phrase.txt'), DEV_PHRASE);
    await runWallet(['import', '--mnemonic-file', join(dir, 'phrase.txt'), '--data-dir', dir], fakeIo(PASS).io);
    const change = fakeIo({ ...PASS, NYA_WALLET_NEW_PASSPHRASE: 'brand new passphrase' });
    expect(await runWallet(['passphrase', '--data-dir', dir], change.io)).toBe(0);
    expect(await runWallet(['export', '--mnemonic', '--data-dir', dir], fakeIo(PASS).io)).toBe(1);
    const reopened = fakeIo({ NYA_WALLET_PASSPHRASE: 'brand new passphrase' });
    expect(await runWallet(['export', '--mnemonic', '--data-dir', dir], reopened.io)).toBe(0);
    expect(reopened.out).toEqual([DEV_PHRASE]);
  });

  it('removes only after a confirmation or --yes', async () => {
    const dir = tempDir();
    await runWallet(['create', '--data-dir', dir], fakeIo(PASS).io);
    const noTerminal = fakeIo({});
    expect(await runWallet(['remove', '--data-dir', dir], noTerminal.io)).toBe(1);
    expect(noTerminal.text()).toMatch(/pass --yes/);
    const declined = fakeIo({}, ['no']);
    expect(await runWallet(['remove', '--data-dir', dir], declined.io)).toBe(1);
    const show = fakeIo({});
    expect(await runWallet(['show', '--data-dir', dir], show.io)).toBe(0);
    expect(await runWallet(['remove', '--yes', '--data-dir', dir], fakeIo({}).io)).toBe(0);
    const after = fakeIo({});
    expect(await runWallet(['show', '--data-dir', dir], after.io)).toBe(1);
    expect(after.text()).toMatch(/no mining key/);
  });

  it('answers bad usage with exit code 2 and the usage text', async () => {
    const dir = tempDir();
    for (const argv of [['import', '--data-dir', dir], ['frobnicate'], ['show', '--bogus'], ['export', '--data-dir', dir]]) {
      const run = fakeIo(PASS);
      expect(await runWallet(argv, run.io)).toBe(2);
      expect(run.text()).toMatch(/usage: nya wallet/);
    }
  });
});
