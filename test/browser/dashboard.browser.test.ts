import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchState, launchChromium, NyaProcess, StateWatch } from './nya-process';

/**
 * The dashboard in real Chromium against a real `nya mine` (embedded validator, demo model):
 * nothing is mocked behind the page. Every wait follows the page or the pushed state, with no
 * time limit of its own; `PATIENT_MS` per test only stops a test that can never pass. (The
 * screenshot set is screenshots.browser.test.ts.)
 */
const PATIENT_MS = 600_000;

describe('dashboard in Chromium against nya mine', () => {
  let dataDir: string;
  let nya: NyaProcess;
  let browser: Browser;
  let page: Page;
  let url: string;
  let origin: string;
  let token: string;
  let watch: StateWatch;

  const apiState = () => fetchState(origin, token);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'nya-browser-'));
    nya = new NyaProcess(['mine', '--dashboard-port', '0', '--data-dir', dataDir]);
    const m = await nya.waitFor(/^dashboard: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+))$/m);
    url = m[1]!;
    origin = `http://127.0.0.1:${m[2]}`;
    token = m[3]!;
    watch = await StateWatch.open(origin, token);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  }, PATIENT_MS);

  afterAll(async () => {
    watch?.close();
    await browser?.close();
    const code = await nya?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    expect(code).toBe(0);
  }, PATIENT_MS);

  it(
    'loads, moves the token out of the address bar and shows the live state',
    async () => {
      await page.goto(url);
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      expect(new URL(page.url()).searchParams.has('token')).toBe(false);
      await page
        .getByTestId('miner-status')
        .filter({ hasText: /Mining|No work|Starting/ })
        .waitFor();
      await page.getByText('demo model', { exact: true }).first().waitFor();
    },
    PATIENT_MS,
  );

  it(
    'walks a first-time user through the guide, and remembers it is done',
    async () => {
      const guide = page.getByTestId('onboarding');
      await guide.waitFor();
      // The build's default network, local, is the one chosen.
      expect(await guide.getByRole('radio', { name: /This computer only/ }).isChecked()).toBe(true);
      const next = async (step: string) => {
        await guide.getByRole('button', { name: 'Next' }).click();
        await guide.locator('li[aria-current="step"]', { hasText: step }).waitFor();
      };
      await next('Your GPU');
      await guide
        .getByText(/No GPU was found|Looking for GPUs|driver/)
        .first()
        .waitFor();
      await next('Teacher model');
      await guide.getByText(/there is nothing to download/).waitFor();
      await next('Wallet');
      await next('Start mining');
      await guide.getByRole('button', { name: 'Start mining' }).click();
      await guide.waitFor({ state: 'detached' });
      expect((await apiState()).settings.onboardingDone).toBe(true);
      await page.reload();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      expect(await page.getByTestId('onboarding').count()).toBe(0);
    },
    PATIENT_MS,
  );

  it(
    'shows a state change in main on the page: tokens computed and validated climb',
    async () => {
      const state = await watch.until((s) => s.tokens.computed > 0 && s.tokens.validated > 0, 'validated tokens in the pushed state');
      // A stat card's tooltip holds its exact figure (the card shortens past a million).
      const figureAtLeast = (testId: string, least: number) =>
        page.waitForFunction(
          ([id, n]) =>
            Number(document.querySelector(`[data-testid="${id}"] .stat-value`)?.getAttribute('title')?.replace(/[^\d]/g, '')) >= n,
          [testId, least] as const,
        );
      await figureAtLeast('tokens-computed', state.tokens.computed);
      await figureAtLeast('tokens-validated', 1);
    },
    PATIENT_MS,
  );

  it(
    'round-trips an action: pause and resume from the page reach main',
    async () => {
      const status = page.getByTestId('miner-status');
      await page.getByTestId('pause-button').click();
      await status.filter({ hasText: 'Paused' }).waitFor();
      expect((await apiState()).miner.userPaused).toBe(true);
      await page.getByTestId('pause-button').click();
      await watch.until((s) => !s.miner.userPaused, 'the resume in main');
      await status.filter({ hasNotText: 'Paused' }).waitFor();
    },
    PATIENT_MS,
  );

  it(
    'refuses an unauthenticated WebSocket and answers a malformed message with an error',
    async () => {
      const outcome = await page.evaluate(
        async ({ host, token }) => {
          const unauth = await new Promise<string>((done) => {
            const ws = new WebSocket(`ws://${host}/ws`);
            ws.onopen = () => done('opened');
            ws.onclose = () => done('refused');
          });
          const replies = await new Promise<string[]>((done) => {
            const got: string[] = [];
            const ws = new WebSocket(`ws://${host}/ws?token=${token}`);
            ws.onopen = () => {
              ws.send('{not json');
              ws.send(
                JSON.stringify({ type: 'invoke', id: 9, channel: 'settings:update', payload: { patch: { maxBatchTokens: 'lots' } } }),
              );
            };
            ws.onmessage = (e) => {
              const m = JSON.parse(String(e.data)) as { type: string };
              if (m.type !== 'state') got.push(String(e.data));
              if (got.length === 2) {
                ws.close();
                done(got);
              }
            };
          });
          return { unauth, replies };
        },
        { host: new URL(origin).host, token },
      );
      expect(outcome.unauth).toBe('refused');
      expect(JSON.parse(outcome.replies[0]!)).toMatchObject({ type: 'error', error: { code: 'bad-request' } });
      expect(JSON.parse(outcome.replies[1]!)).toMatchObject({
        type: 'result',
        id: 9,
        result: { ok: false, error: { code: 'bad-request' } },
      });
      expect((await apiState()).settings.maxBatchTokens).not.toBe('lots');
    },
    PATIENT_MS,
  );

  it('refuses /api/state without the token', async () => {
    expect((await fetch(`${origin}/api/state`)).status).toBe(401);
  });

  it(
    'validates settings in the form and saves a good value through main',
    async () => {
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByLabel('Tokens per batch (upper limit)').fill('12');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('A whole number from 64 to 65536.').waitFor();
      await page.getByLabel('Tokens per batch (upper limit)').fill('2048');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      expect((await apiState()).settings.maxBatchTokens).toBe(2048);
    },
    PATIENT_MS,
  );

  it(
    'exports diagnostics from Settings into the data folder and shows where',
    async () => {
      await page.getByRole('button', { name: 'Settings' }).click();
      const panel = page.getByTestId('diagnostics');
      await panel.getByRole('button', { name: 'Export diagnostics' }).click();
      const status = panel.getByRole('status').filter({ hasText: 'Written to' });
      await status.waitFor();
      const path = (await status.locator('.mono').textContent())!;
      expect(path.startsWith(join(dataDir, 'diagnostics', 'nya-diagnostics-'))).toBe(true);
      const report = readFileSync(path, 'utf8');
      expect(report).toContain('## Execution provider');
      expect(report).toContain(`data folder: ${dataDir}`);
    },
    PATIENT_MS,
  );
});
