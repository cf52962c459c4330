import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAddress } from '@polkadot/util-crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src-node/log';
import { validatorFailureOf, type ValidatorSession } from '../../src-main/validator-client';
import { PayoutLinker } from '../../src-main/wallet/payout-link/payout-linker';
import { PayoutLinkServer } from '../../src-main/wallet/payout-link/payout-link-server';
import { minerSession, payoutOnlyValidator, rawSign, realValidator, testPair, type TestValidator } from '../wallet/payout-fixtures';
import { extensionSigner, FAKE_EXTENSION, type FakeAccount } from './fake-extension';
import { launchChromium, ROOT } from './nya-process';

type Pair = Awaited<ReturnType<typeof testPair>>;

let browser: Browser;
let miner: Pair, payout: Pair;

beforeAll(async () => {
  [miner, payout] = await Promise.all([testPair('miner'), testPair('payout')]);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function stack(
  validator: TestValidator,
): Promise<{ server: PayoutLinkServer; linker: PayoutLinker; session: ValidatorSession; linked: string[]; close(): Promise<void> }> {
  const session = minerSession(validator.url, miner, mkdtempSync(join(tmpdir(), 'nya-link-page-')));
  const linker = new PayoutLinker({ validator: session, validatorFailure: validatorFailureOf, miningAddress: () => miner.address });
  const linked: string[] = [];
  const server = new PayoutLinkServer({ linker, miningAddress: () => miner.address, log: silentLogger, onLinked: (a) => linked.push(a) });
  await server.start();
  return {
    server,
    linker,
    session,
    linked,
    close: async () => {
      await server.dispose();
      await session.dispose();
      await validator.close();
    },
  };
}

/** The pairs' sr25519 accounts as the extension lists them (any SS58 prefix), plus `extra` it also lists. */
type Stack = Awaited<ReturnType<typeof stack>>;
type PayoutOnlyValidator = Awaited<ReturnType<typeof payoutOnlyValidator>>;

async function withPayoutOnlyStack(run: (s: Stack, validator: PayoutOnlyValidator) => Promise<void>): Promise<void> {
  const validator = await payoutOnlyValidator();
  const s = await stack(validator);
  try {
    await run(s, validator);
  } finally {
    await s.close();
  }
}

/** Opens the page, connects the fake extension, and returns the accounts it offers. */
async function connectedAccounts(page: Page, url: string): Promise<string[]> {
  await page.goto(url);
  await page.getByRole('button', { name: 'Connect polkadot-js' }).click();
  await page.locator('#account-step').waitFor();
  return page.locator('#account option').allTextContents();
}

async function extensionPage(
  pairs: Pair[],
  { ss58Prefix = 42, extra = [] }: { ss58Prefix?: number; extra?: FakeAccount[] } = {},
): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
  await page.exposeFunction('nyaTestSign', extensionSigner(pairs));
  const accounts: FakeAccount[] = pairs.map((p, i) => ({
    address: encodeAddress(p.publicKey, ss58Prefix),
    name: `account ${i + 1}`,
    type: 'sr25519',
  }));
  await page.addInitScript(FAKE_EXTENSION, [...extra, ...accounts]);
  return page;
}

// Waits follow the page with no limit of their own; the generous per-test timeout only stops one that can never pass.
describe('payout link page in Chromium', { timeout: 300_000 }, () => {
  it('links through an injected polkadot wallet extension, and the validator records the link', async () => {
    const validator = await payoutOnlyValidator();
    const s = await stack(validator);
    try {
      const challenge = await s.linker.begin();
      const url = s.server.open(challenge, payout.address);
      const page = await extensionPage([payout]);
      const answer = await page.goto(url);
      expect(answer?.headers()['content-security-policy']).toContain("script-src 'self'");
      expect(await page.getByTestId('message').textContent()).toBe(challenge.message);
      await page.getByRole('button', { name: 'Connect polkadot-js' }).click();
      await page.locator('#account option').first().waitFor({ state: 'attached' });
      expect(await page.locator('#account option').count()).toBe(1);
      expect(await page.evaluate(() => (window as unknown as { enabledBy: string }).enabledBy)).toBe('Nya Miner');
      await page.getByRole('button', { name: 'Sign and link' }).click();
      await page.waitForSelector(`body[data-linked="${payout.address}"]`);
      expect(await page.locator('#status').textContent()).toContain(`Linked: earnings now go to ${payout.address}`);
      await page.screenshot({ path: join(ROOT, 'test-results/wallet-link-page.png'), fullPage: true });
      expect(validator.links.get(miner.address)).toBe(payout.address);
      expect(s.linked).toEqual([payout.address]);
      // Single use: the same URL is dead now.
      const again = await page.goto(url);
      expect(again?.status()).toBe(410);
      await page.close();
    } finally {
      await s.close();
    }
  });

  it('offers only sr25519 accounts: an Ethereum account of the extension is not in the list', async () => {
    await withPayoutOnlyStack(async (s) => {
      const ethereum: FakeAccount = { address: `0x${'ab'.repeat(20)}`, name: 'metamask-style', type: 'ethereum' };
      const page = await extensionPage([payout], { extra: [ethereum] });
      expect(await connectedAccounts(page, s.server.open(await s.linker.begin()))).toEqual([`account 1 — ${payout.address}`]);
      await page.close();
    });
  });

  it('shows and sends an address the extension lists with another SS58 prefix in the prefix-42 form', async () => {
    await withPayoutOnlyStack(async (s, validator) => {
      expect(encodeAddress(payout.publicKey, 0)).not.toBe(payout.address);
      const page = await extensionPage([payout], { ss58Prefix: 0 });
      const posted: unknown[] = [];
      page.on('request', (request) => {
        if (request.method() === 'POST') posted.push(request.postDataJSON());
      });
      expect(await connectedAccounts(page, s.server.open(await s.linker.begin()))).toEqual([`account 1 — ${payout.address}`]);
      await page.getByRole('button', { name: 'Sign and link' }).click();
      await page.waitForSelector(`body[data-linked="${payout.address}"]`);
      expect(posted).toEqual([{ payoutAddress: payout.address, signature: expect.stringMatching(/^0x[0-9a-f]{128}$/) }]);
      expect(validator.links.get(miner.address)).toBe(payout.address);
      await page.close();
    });
  });

  it('links a pasted raw signature through the reference validator, and says so when the extension is missing', async () => {
    const validator = await realValidator();
    const s = await stack(validator);
    try {
      const challenge = await s.linker.begin();
      const page = await browser.newPage();
      await page.goto(s.server.open(challenge));
      await page.locator('#no-extension').waitFor();
      // A typo first: refused in the page and by main without spending the challenge.
      await page.fill('#paste-address', payout.address);
      await page.fill('#paste-signature', rawSign(miner, challenge.message));
      await page.getByRole('button', { name: 'Link with this signature' }).click();
      await page
        .locator('#status')
        .filter({ hasText: `not ${payout.address}'s sr25519 signature` })
        .waitFor();
      await page.fill('#paste-signature', rawSign(payout, challenge.message));
      await page.getByRole('button', { name: 'Link with this signature' }).click();
      await page.waitForSelector(`body[data-linked="${payout.address}"]`);
      expect(await validator.payoutAddressOf(miner.address)).toBe(payout.address);
      await page.close();
    } finally {
      await s.close();
    }
  });

  it('finds an extension that injects late, and keeps its button in place while it looks again', async () => {
    const validator = await payoutOnlyValidator();
    const s = await stack(validator);
    try {
      const page = await browser.newPage();
      await page.exposeFunction('nyaTestSign', () => '0x');
      // Injected 600 ms after the page starts, as slow extensions do.
      await page.addInitScript(
        `setTimeout(() => (${FAKE_EXTENSION.toString()})(${JSON.stringify([{ address: payout.address, name: 'late', type: 'sr25519' }])}), 600)`,
      );
      await page.goto(s.server.open(await s.linker.begin()));
      const button = page.getByRole('button', { name: 'Connect polkadot-js' });
      await button.waitFor();
      await page.evaluate(
        () => ((window as unknown as { firstButton: Element | null }).firstButton = document.querySelector('[data-extension]')),
      );
      // The page looks again until 2.5 s: a button redrawn under the pointer would lose a click.
      await page.waitForTimeout(2800);
      expect(
        await page.evaluate(
          () => document.querySelector('[data-extension]') === (window as unknown as { firstButton: Element | null }).firstButton,
        ),
      ).toBe(true);
      await button.click();
      await page.locator('#account option').first().waitFor({ state: 'attached' });
      expect(await page.locator('#account option').count()).toBe(1);
      await page.close();
    } finally {
      await s.close();
    }
  });

  it('refuses posts from other origins, wrong hosts and unknown tokens', async () => {
    const validator = await payoutOnlyValidator();
    const s = await stack(validator);
    try {
      const url = s.server.open(await s.linker.begin());
      const submit = `${url}/submit`;
      const body = JSON.stringify({ payoutAddress: payout.address, signature: `0x${'00'.repeat(64)}` });
      const foreign = await fetch(submit, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
        body,
      });
      expect(foreign.status).toBe(403);
      const { host, port } = new URL(url);
      const rebinding = await fetch(url.replace(host, `localhost:${port}`));
      expect(rebinding.status).toBe(421);
      const unknown = await fetch(url.replace(/\/link\/.{10}/, '/link/AAAAAAAAAA'));
      expect(unknown.status).toBe(410);
      // The real page still works after all that.
      expect((await fetch(url)).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
