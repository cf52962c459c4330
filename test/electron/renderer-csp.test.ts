import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { appResponseHeaders, resolveAppAsset } from '../../src-main/electron/security';
import { CHROMIUM, ROOT, launchChromium } from '../browser/nya-process';
import { snapshotFixture } from './snapshot-fixture';

/**
 * The built renderer in real Chromium under the desktop app's CSP (no 'unsafe-inline' at all),
 * talking to a stand-in `window.nya` as the preload would expose it. Every page is visited; any
 * CSP violation fails the test, so the strict policy and the UI cannot drift apart unnoticed.
 */
const rendererDir = join(ROOT, 'dist/renderer');
const ready = existsSync(CHROMIUM) && existsSync(join(rendererDir, 'index.html'));
if (!ready) console.warn(`renderer CSP test skipped: needs ${CHROMIUM} and a built renderer (npm run build)`);

/** Serves dist/renderer exactly as the app:// handler does: same path mapping, same headers. */
async function serveLikeAppProtocol(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const file = resolveAppAsset(`app://nya${req.url ?? '/'}`, rendererDir);
    if (!file) return void res.writeHead(404).end();
    readFile(file).then(
      (body) => res.writeHead(200, appResponseHeaders(file)).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe.skipIf(!ready)('renderer under the desktop CSP', () => {
  let browser: Browser | null = null;
  let server: Server | null = null;
  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('renders every page over window.nya with no CSP violation', async () => {
    const served = await serveLikeAppProtocol();
    server = served.server;
    browser = await launchChromium();
    const page = await browser.newPage();
    const consoleCsp: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) consoleCsp.push(m.text());
    });
    await page.addInitScript(
      (snapshot) => {
        const w = window as unknown as Record<string, unknown>;
        const violations: string[] = [];
        w.__cspViolations = violations;
        document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));
        const listeners = new Set<(s: unknown) => void>();
        let current = snapshot as { seq: number; miner: Record<string, unknown> };
        w.nya = {
          invoke: async (channel: string, request: Record<string, unknown>) => {
            if (channel === 'state:get') return { ok: true, value: current };
            if (channel === 'logs:get') return { ok: true, value: [] };
            if (channel === 'miner:set-paused') {
              current = {
                ...current,
                seq: current.seq + 1,
                miner: { ...current.miner, userPaused: request.paused, status: request.paused ? 'paused' : 'mining' },
              };
              setTimeout(() => listeners.forEach((l) => l(current)), 10);
              return { ok: true, value: current.miner };
            }
            if (channel === 'settings:update') {
              const settings = { ...(current as unknown as { settings: object }).settings, ...(request.patch as object) };
              current = { ...current, seq: current.seq + 1, settings } as typeof current;
              setTimeout(() => listeners.forEach((l) => l(current)), 10);
              return { ok: true, value: settings };
            }
            return { ok: false, error: { code: 'unavailable', message: `${channel} is not part of this test` } };
          },
          onState: (l: (s: unknown) => void) => (listeners.add(l), () => listeners.delete(l)),
        };
      },
      snapshotFixture({ status: 'mining', reason: 'Mining' }, 321),
    );

    await page.goto(`${served.origin}/index.html`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ timeout: 30_000 });
    // The first-run guide is part of what must render under the policy; then it is skipped.
    await page.getByTestId('onboarding').waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Skip the guide' }).click();
    await page.getByTestId('onboarding').waitFor({ state: 'detached' });
    for (const name of ['Leaderboard', 'Wallet', 'Settings', 'Logs', 'Dashboard']) {
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name }).click();
      await page.getByRole('heading', { name }).first().waitFor({ timeout: 10_000 });
    }
    const violations = await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
    // Blocked eval is the policy working: zod 4 probes `Function('')` once to choose its JIT and
    // falls back when refused. Everything else (inline script or style, foreign origins) must be absent.
    expect(violations.filter((v) => v !== 'script-src eval')).toEqual([]);
    expect(consoleCsp.filter((m) => !/unsafe-eval/.test(m))).toEqual([]);
  }, 90_000);
});
