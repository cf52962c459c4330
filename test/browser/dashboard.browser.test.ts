import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fetchState, launchChromium, NyaProcess, ROOT } from './nya-process';

/**
 * The dashboard in real Chromium against a real `nya mine` (embedded validator, demo model):
 * nothing is mocked behind the page.
 */
const SHOTS = resolve(ROOT, 'test-results');
const SIZES = [
  { name: '1024x640', width: 1024, height: 640 },
  { name: '1920x1080', width: 1920, height: 1080 },
];

describe('dashboard in Chromium against nya mine', () => {
  let dataDir: string;
  let nya: NyaProcess;
  let browser: Browser;
  let page: Page;
  let url: string;
  let origin: string;
  let token: string;

  const apiState = () => fetchState(origin, token);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'nya-browser-'));
    nya = new NyaProcess(['mine', '--dashboard-port', '0', '--data-dir', dataDir]);
    const m = await nya.waitFor(/^dashboard: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+))$/m);
    url = m[1]!;
    origin = `http://127.0.0.1:${m[2]}`;
    token = m[3]!;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    const code = await nya?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    expect(code).toBe(0);
  }, 60_000);

  it('loads, moves the token out of the address bar and shows the live state', async () => {
    await page.goto(url);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
    await expect.poll(() => page.getByTestId('miner-status').textContent(), { timeout: 60_000 }).toMatch(/Mining|No work|Starting/);
    await page.getByText('demo model', { exact: true }).first().waitFor();
  }, 90_000);

  it('walks a first-time user through the guide, and remembers it is done', async () => {
    const guide = page.getByTestId('onboarding');
    await guide.waitFor();
    // The build's default network, local, is the one chosen.
    expect(await guide.getByRole('radio', { name: /This computer only/ }).isChecked()).toBe(true);
    const next = async (step: string) => {
      await guide.getByRole('button', { name: 'Next' }).click();
      await expect.poll(() => guide.locator('li[aria-current="step"]').textContent(), { timeout: 15_000 }).toBe(step);
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
    await page.screenshot({ path: join(SHOTS, 'onboarding-1280x800.png') });
    await guide.getByRole('button', { name: 'Start mining' }).click();
    await guide.waitFor({ state: 'detached' });
    expect((await apiState()).settings.onboardingDone).toBe(true);
    await page.reload();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    expect(await page.getByTestId('onboarding').count()).toBe(0);
  }, 60_000);

  it('shows a state change in main on the page: tokens computed and validated climb', async () => {
    const state = await eventually(
      async () => {
        const s = await apiState();
        return s.tokens.computed > 0 && s.tokens.validated > 0 ? s : null;
      },
      150_000,
      'validated tokens in /api/state',
    );
    const shown = async () =>
      Number((await page.getByTestId('tokens-computed').locator('.stat-value').textContent())!.replace(/[^\d]/g, ''));
    await expect.poll(shown, { timeout: 30_000 }).toBeGreaterThanOrEqual(state.tokens.computed);
    const validated = async () =>
      Number((await page.getByTestId('tokens-validated').locator('.stat-value').textContent())!.replace(/[^\d]/g, ''));
    await expect.poll(validated, { timeout: 30_000 }).toBeGreaterThan(0);
  }, 210_000);

  it('round-trips an action: pause and resume from the page reach main', async () => {
    await page.getByTestId('pause-button').click();
    await expect.poll(() => page.getByTestId('miner-status').textContent(), { timeout: 10_000 }).toContain('Paused');
    expect((await apiState()).miner.userPaused).toBe(true);
    await page.getByTestId('pause-button').click();
    await expect.poll(async () => (await apiState()).miner.userPaused, { timeout: 10_000 }).toBe(false);
    await expect.poll(() => page.getByTestId('miner-status').textContent(), { timeout: 30_000 }).not.toContain('Paused');
  }, 60_000);

  it('refuses an unauthenticated WebSocket and answers a malformed message with an error', async () => {
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
            ws.send(JSON.stringify({ type: 'invoke', id: 9, channel: 'settings:update', payload: { patch: { maxBatchTokens: 'lots' } } }));
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
    expect(JSON.parse(outcome.replies[1]!)).toMatchObject({ type: 'result', id: 9, result: { ok: false, error: { code: 'bad-request' } } });
    expect((await apiState()).settings.maxBatchTokens).not.toBe('lots');
  }, 30_000);

  it('refuses /api/state without the token', async () => {
    expect((await fetch(`${origin}/api/state`)).status).toBe(401);
  });

  it('validates settings in the form and saves a good value through main', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Tokens per batch (upper limit)').fill('12');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('A whole number from 64 to 65536.').waitFor();
    await page.getByLabel('Tokens per batch (upper limit)').fill('2048');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect((await apiState()).settings.maxBatchTokens).toBe(2048);
  }, 30_000);

  it('exports diagnostics from Settings into the data folder and shows where', async () => {
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
  }, 30_000);

  it('takes screenshots of every page at both sizes', async () => {
    for (const size of SIZES) {
      await page.setViewportSize({ width: size.width, height: size.height });
      for (const name of ['Dashboard', 'Leaderboard', 'Wallet', 'Settings', 'Logs']) {
        await page.getByRole('button', { name, exact: true }).click();
        await page.getByRole('heading', { level: 1, name }).waitFor();
        if (name === 'Leaderboard') {
          // The local miner has validated work by now (the previous test waited for it): it ranks.
          const table = page.getByTestId('leaderboard');
          await table.waitFor({ timeout: 30_000 });
          expect(await table.locator('tr[aria-current="true"]').count()).toBeGreaterThan(0);
        }
        if (name === 'Logs') await page.getByTestId('logs').waitFor();
        if (name === 'Wallet') {
          await page.getByRole('heading', { name: 'Mining key' }).waitFor({ timeout: 30_000 });
          await page.getByTestId('ledger').waitFor({ timeout: 30_000 });
        }
        await page.screenshot({ path: join(SHOTS, `${name.toLowerCase()}-${size.name}.png`), fullPage: true });
      }
    }
  }, 90_000);
});
