import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistorySeries } from '../../src-shared/ipc';
import type { Result } from '../../src-shared/result';
import { eventually, launchChromium, NyaProcess, StateWatch } from './nya-process';
import { shootEveryPage } from './screenshot-set';

/**
 * The earnings figures and the speed as a user sees them, in Chromium against a real `nya mine`
 * whose local validator closes an epoch every 30 s: projected credit with the epoch's end and a
 * rate, both charts drawn, the epoch closing into settling credit, the ledger saying what each
 * row's amount is, and a pause taking the speed and the task away. At each of these three moments
 * the whole screenshot set is taken (screenshot-set.ts), so one miner serves both.
 *
 * Waits follow the pushed state and the page, with no time limit of their own; `PATIENT_MS` per
 * test only stops a test that can never pass.
 */
const EPOCH_S = 30;
const PATIENT_MS = 600_000;

describe('earnings, speed and the screenshot set in Chromium against nya mine', () => {
  let dataDir: string;
  let nya: NyaProcess;
  let watch: StateWatch;
  let browser: Browser;
  let page: Page;
  let origin: string;
  let token: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'nya-earnings-browser-'));
    writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ onboardingDone: true }));
    nya = new NyaProcess(['mine', '--dashboard-port', '0', '--data-dir', dataDir, '--local-epoch-s', String(EPOCH_S)]);
    const m = await nya.waitFor(/^dashboard: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+))$/m);
    origin = `http://127.0.0.1:${m[2]}`;
    token = m[3]!;
    watch = await StateWatch.open(origin, token);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(m[1]!);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  }, PATIENT_MS);

  afterAll(async () => {
    watch?.close();
    await browser?.close();
    const code = await nya?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    expect(code, nya.stderr.slice(-3000)).toBe(0);
  }, PATIENT_MS);

  it(
    'shows projected local test credit with the epoch end and a rate, and draws both earnings charts',
    async () => {
      // Early enough in an epoch that it is still open when the page has drawn it.
      const s = await watch.until(
        (x) => x.earnings.projectedNano !== '0' && x.earnings.perDayNano !== null && x.earnings.epochEndsAtMs! - Date.now() > 15_000,
        'projected credit early in an epoch',
      );
      expect(s.earnings.epochEndsAtMs! % (EPOCH_S * 1000)).toBe(0);
      // The charts ask for their series when drawn (the earnings charts again only after 10 min):
      // draw them once main's history holds the earnings.
      await eventually(async () => {
        const history = (await watch.invoke('history:get', { range: '30d' })) as Result<HistorySeries>;
        return history.ok && history.value.series.earnedNano.some((v) => v !== null && v > 0);
      }, 'earnings in the 30-day history');
      await page.reload();
      await page.getByTestId('local-credit-note').waitFor();
      await page
        .getByTestId('earnings-projected')
        .filter({ hasText: /epoch ends/ })
        .waitFor();
      await page
        .getByTestId('earnings-rate')
        .filter({ hasText: /COMAI \/ h.*COMAI \/ day/ })
        .waitFor();
      for (const title of ['Earnings per hour (COMAI, local test)', 'Earnings per day (COMAI, local test)']) {
        await page.getByRole('figure', { name: title }).locator('.recharts-bar-rectangle').first().waitFor();
      }
      await shootEveryPage(page, watch, 'mining');
      // The local miner has validated work: it ranks on the board.
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Leaderboard', exact: true }).click();
      await page.getByTestId('leaderboard').locator('tr[aria-current="true"]').first().waitFor();
    },
    PATIENT_MS,
  );

  it(
    'moves an epoch that closed into settling credit, and the ledger says which amounts are projected or settling',
    async () => {
      const s = await watch.until((x) => x.earnings.settlingNano !== '0', 'an epoch closing');
      expect(s.earnings.settlesAtMs! % (EPOCH_S * 1000)).toBe(0);
      await page.getByRole('button', { name: 'Wallet', exact: true }).click();
      await page
        .getByTestId('ledger')
        .filter({ hasText: /settling until/ })
        .waitFor();
      await page
        .getByTestId('earnings-settling')
        .filter({ hasText: /final at/ })
        .waitFor();
      await shootEveryPage(page, watch, 'epoch-closed');
    },
    PATIENT_MS,
  );

  it(
    'shows 0 tok/s and no task once paused, on the page and in /metrics',
    async () => {
      await page.getByRole('button', { name: 'Dashboard', exact: true }).click();
      await watch.until((x) => x.tokensPerS > 0, 'a measured speed');
      await page.getByTestId('pause-button').click();
      await page.getByTestId('miner-status').filter({ hasText: 'Paused' }).waitFor();
      await page
        .getByTestId('tokens-per-s')
        .locator('.stat-value')
        .filter({ hasText: /^0 tok\/s$/ })
        .waitFor();
      expect(await page.getByTestId('task').textContent()).toContain('No task running.');
      const metrics = await (await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      expect(metrics).toMatch(/^nya_tokens_per_second 0$/m);
      await shootEveryPage(page, watch, 'paused');
    },
    PATIENT_MS,
  );
});
