import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeChain } from '../wallet/balance-fake-chain';
import { realValidator, testPair, type TestValidator } from '../wallet/payout-fixtures';
import { extensionSigner, FAKE_EXTENSION } from './fake-extension';
import { exactly, launchChromium, NyaProcess, ROOT, StateWatch } from './nya-process';

/**
 * Every wallet action of the browser dashboard, clicked in Chromium against a real `nya mine` on
 * a terminal (it shows a new recovery phrase there and asks for three of its words): create,
 * export (phrase and keystore), remove, import, balance refresh against a local chain node, and
 * the payout link through the one-time link page with an injected wallet extension. Each goes
 * through the page's own bridge, so a bridge method that loses `this` fails here.
 */
const SHOTS = resolve(ROOT, 'test-results');
const PASSPHRASE = 'correct horse battery staple';
/** Only stops a test that can never pass: every wait follows nya's output, the state or the page. */
const PATIENT_MS = 600_000;

describe('wallet page in Chromium against nya mine', () => {
  let dataDir: string;
  let chain: FakeChain;
  let validator: TestValidator;
  let nya: NyaProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  let token: string;
  let words: string[] = [];
  let address = '';
  let watch: StateWatch;

  /** Answers nya's backup check in the terminal: Enter, then each word it asks for by number. */
  const confirmBackup = async (from: number): Promise<string[]> => {
    const shown = await nya.waitFor(/recovery phrase[\s\S]*?Press Enter when it is written down\. /, { from: from });
    const phrase = [...shown[0].matchAll(/^\s*\d+\. ([a-z]+)$/gm)].map((m) => m[1]!);
    expect(phrase.length).toBeGreaterThanOrEqual(12);
    nya.type('');
    let at = shown.end;
    for (let i = 0; i < 3; i++) {
      const asked = await nya.waitFor(/Word #(\d+): /, { from: at });
      nya.type(phrase[Number(asked[1]) - 1]!);
      at = asked.end;
    }
    await nya.waitFor(/Backup confirmed\./, { from: at });
    return phrase;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'nya-wallet-browser-'));
    chain = new FakeChain();
    await chain.start(0);
    validator = await realValidator();
    // A user who finished the guide and points the balance at their own node.
    writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ onboardingDone: true, communeRpcUrl: chain.url }));
    nya = new NyaProcess(
      ['mine', '--dashboard-port', '0', '--data-dir', dataDir],
      { NYA_WALLET_PASSPHRASE: PASSPHRASE },
      { terminal: true },
    );
    const m = await nya.waitFor(/^dashboard: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+))$/m);
    origin = `http://127.0.0.1:${m[2]}`;
    token = m[3]!;
    watch = await StateWatch.open(origin, token);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    await page.goto(m[1]!);
    await page.getByRole('button', { name: 'Wallet', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Wallet' }).waitFor();
  }, PATIENT_MS);

  afterAll(async () => {
    watch?.close();
    await browser?.close();
    await nya?.stop();
    await validator?.close();
    await chain?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, PATIENT_MS);

  it(
    'creates a mining key: the phrase is shown in the terminal, confirmed there, and the page shows the address',
    async () => {
      const from = nya.stdout.length;
      await page.getByRole('button', { name: 'Create a mining key' }).click();
      words = await confirmBackup(from);
      // "Created …" shows only until the panel turns to the key it made: wait for what lasts.
      address = (await watch.until((s) => s.wallet.miningAddress !== null, 'the mining address in main')).wallet.miningAddress!;
      await page
        .getByTestId('key-address')
        .filter({ hasText: exactly(address) })
        .waitFor();
    },
    PATIENT_MS,
  );

  it(
    'shows the recovery phrase again in the terminal, never on the page',
    async () => {
      const from = nya.stdout.length;
      await page.getByRole('button', { name: 'Show the recovery phrase' }).click();
      expect(await confirmBackup(from)).toEqual(words);
      await page.getByRole('status').filter({ hasText: 'The recovery phrase was shown.' }).waitFor();
      expect(await page.content()).not.toContain(words.join(' '));
    },
    PATIENT_MS,
  );

  it(
    'exports a polkadot-js keystore to the file named on the page',
    async () => {
      const file = join(dataDir, 'exported-keystore.json');
      await page.getByLabel('Save a polkadot-js keystore to').fill(file);
      await page.getByLabel('Keystore password (8+ characters)').fill('export-password');
      await page.getByRole('button', { name: 'Export keystore' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `Saved to ${file}.` })
        .waitFor();
      expect(existsSync(file)).toBe(true);
      expect((JSON.parse(readFileSync(file, 'utf8')) as { address: string }).address).toBe(address);
    },
    PATIENT_MS,
  );

  it(
    'refreshes the balance from the Commune node on request',
    async () => {
      chain.setAccount(address, 12_345_000_000_000n);
      await page.getByRole('button', { name: /Refresh now|Refreshing/ }).waitFor();
      await page.getByRole('button', { name: 'Refresh now' }).click();
      const row = page.getByTestId('balances').locator('tr', { hasText: address });
      await row.filter({ hasText: '12,345.0000 COMAI' }).waitFor();
    },
    PATIENT_MS,
  );

  it('says the local validator pays no one instead of offering a payout link there', async () => {
    const panel = page.locator('.card', { has: page.getByRole('heading', { name: 'Payout address' }) });
    await panel.getByText('The local validator pays no one').waitFor();
    expect(await panel.getByRole('button', { name: 'Link with a browser wallet' }).count()).toBe(0);
  });

  it(
    'links a payout address through the one-time link page and a wallet extension, for a remote validator',
    async () => {
      const payout = await testPair('wallet-browser-payout');
      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      await page.getByLabel('Validator URL').fill(validator.url);
      await page.getByRole('button', { name: 'Save' }).click();
      // The miner now signs for the validator with the wallet's key.
      await watch.until((s) => s.validator.signingAddress === address, 'the wallet key signing for the validator');
      await page.getByRole('button', { name: 'Wallet', exact: true }).click();

      await context.exposeFunction('nyaTestSign', extensionSigner([payout]));
      await context.addInitScript(FAKE_EXTENSION, [{ address: payout.address, name: 'payout', type: 'sr25519' as const }]);
      await page.getByLabel('Payout address (any SS58 account you hold)').fill(payout.address);
      const [linkPage] = await Promise.all([
        context.waitForEvent('page'),
        page.getByRole('button', { name: 'Link with a browser wallet' }).click(),
      ]);
      await linkPage.getByRole('button', { name: 'Connect polkadot-js' }).click();
      await linkPage.getByRole('button', { name: 'Sign and link' }).click();
      await linkPage.waitForSelector(`body[data-linked="${payout.address}"]`);
      await linkPage.close();
      expect(await validator.payoutAddressOf(address)).toBe(payout.address);
      await page
        .getByTestId('payout-current')
        .filter({ hasText: exactly(`Linked: earnings go to ${payout.address}.`) })
        .waitFor();
    },
    PATIENT_MS,
  );

  it(
    'removes the key after its address is typed, and imports it again from a recovery phrase file',
    async () => {
      await page.getByLabel('To remove this key, type its address').fill(address);
      await page.getByRole('button', { name: 'Remove mining key' }).click();
      await page.getByRole('button', { name: 'Create a mining key' }).waitFor();
      await watch.until((s) => s.wallet.miningAddress === null, 'no mining address in main');

      const phraseFile = join(dataDir, 'phrase.txt');
      writeFileSync(phraseFile, `${words.join(' ')}\n`);
      await page.getByLabel('Import from').selectOption('mnemonic-file');
      await page.getByLabel('File', { exact: true }).fill(phraseFile);
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      // "Imported …" shows only until the panel turns to the imported key: wait for what lasts.
      await watch.until((s) => s.wallet.miningAddress === address, 'the imported mining address in main');
      await page
        .getByTestId('key-address')
        .filter({ hasText: exactly(address) })
        .waitFor();
      await page.screenshot({ path: join(SHOTS, 'wallet-actions-1280x800.png'), fullPage: true });
    },
    PATIENT_MS,
  );
});
