import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateSnapshot } from '../../src-shared/state';
import { eventually, fetchState, launchChromium, NyaProcess, ROOT } from './nya-process';

/**
 * The earnings figures and the speed as a user sees them, in Chromium against a real `nya mine`
 * whose local validator closes an epoch every 30 s: projected credit with the epoch's end and a
 * rate, both charts drawn, the epoch closing into settling credit, the ledger saying what each
 * row's amount is, and a pause taking the speed and the task away.
 */
const SHOTS = resolve(ROOT, 'test-results');
const EPOCH_S = 30;

describe('earnings and speed in Chromium against nya mine', () => {
  let dataDir: string;
  let nya: NyaProcess;
  let browser: Browser;
  let page: Page;
  let origin: string;
  let token: string;

  const apiState = () => fetchState(origin, token);
  const state = (what: string, test: (s: StateSnapshot) => boolean) =>
    eventually(async () => ((s) => (test(s) ? s : null))(await apiState()), 240_000, what);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'nya-earnings-browser-'));
    writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ onboardingDone: true }));
    nya = new NyaProcess(['mine', '--dashboard-port', '0', '--data-dir', dataDir, '--local-epoch-s', String(EPOCH_S)]);
    const m = await nya.waitFor(/^dashboard: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+))$/m);
    origin = `http://127.0.0.1:${m[2]}`;
    token = m[3]!;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(m[1]!);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    const code = await nya?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    expect(code, nya.stderr.slice(-3000)).toBe(0);
  }, 60_000);

  it('shows projected local test credit with the epoch end and a rate, and draws both earnings charts', async () => {
    // Early enough in an epoch that it is still open when the page has drawn it.
    const s = await state(
      'projected credit early in an epoch',
      (x) => x.earnings.projectedNano !== '0' && x.earnings.perDayNano !== null && x.earnings.epochEndsAtMs! - Date.now() > 15_000,
    );
    expect(s.earnings.epochEndsAtMs! % (EPOCH_S * 1000)).toBe(0);
    // The charts ask for their series when drawn: draw them now that there is something to show.
    await page.reload();
    await page.getByTestId('local-credit-note').waitFor();
    await expect.poll(() => page.getByTestId('earnings-projected').textContent(), { timeout: 30_000 }).toMatch(/epoch ends/);
    await expect.poll(() => page.getByTestId('earnings-rate').textContent(), { timeout: 30_000 }).toMatch(/COMAI \/ h.*COMAI \/ day/);
    for (const title of ['Earnings per hour (COMAI, local test)', 'Earnings per day (COMAI, local test)']) {
      const chart = page.getByRole('figure', { name: title });
      await chart.locator('.recharts-bar-rectangle').first().waitFor({ timeout: 30_000 });
    }
    await page.screenshot({ path: join(SHOTS, 'dashboard-earnings-1280x800.png'), fullPage: true });
  }, 300_000);

  it('moves an epoch that closed into settling credit, and the ledger says which amounts are projected or settling', async () => {
    const s = await state('an epoch closing', (x) => x.earnings.settlingNano !== '0');
    expect(s.earnings.settlesAtMs! % (EPOCH_S * 1000)).toBe(0);
    await page.getByRole('button', { name: 'Wallet', exact: true }).click();
    const ledger = page.getByTestId('ledger');
    await ledger.waitFor({ timeout: 30_000 });
    await expect.poll(() => ledger.textContent(), { timeout: 30_000 }).toMatch(/settling until/);
    await expect.poll(() => page.getByTestId('earnings-settling').textContent(), { timeout: 30_000 }).toMatch(/final at/);
    await page.screenshot({ path: join(SHOTS, 'wallet-earnings-1280x800.png'), fullPage: true });
  }, 300_000);

  it('shows 0 tok/s and no task once paused, on the page and in /metrics', async () => {
    await page.getByRole('button', { name: 'Dashboard', exact: true }).click();
    await state('a measured speed', (x) => x.tokensPerS > 0);
    await page.getByTestId('pause-button').click();
    await expect.poll(() => page.getByTestId('miner-status').textContent(), { timeout: 30_000 }).toContain('Paused');
    await expect.poll(() => page.getByTestId('tokens-per-s').textContent(), { timeout: 10_000 }).toContain('0 tok/s');
    expect(await page.getByTestId('task').textContent()).toContain('No task running.');
    const metrics = await (await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metrics).toMatch(/^nya_tokens_per_second 0$/m);
    await page.screenshot({ path: join(SHOTS, 'dashboard-paused-1280x800.png'), fullPage: true });
  }, 120_000);
});
