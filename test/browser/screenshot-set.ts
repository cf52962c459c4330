import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { ROOT, type StateWatch } from './nya-process';

/** Where the screenshot set goes (gitignored with the rest of test-results/). */
const SCREENSHOTS = resolve(ROOT, 'test-results/screenshots');

const SIZES = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
] as const;
const SCHEMES = ['light', 'dark'] as const;
const PAGES = ['Dashboard', 'Leaderboard', 'Wallet', 'Settings', 'Logs'] as const;
type PageName = (typeof PAGES)[number];

/**
 * Every page, and the first-run guide, at 1280×800 and 1920×1080 in the light and the dark theme
 * (the OS setting, which the app follows by default), as `<moment>-<page>-<size>-<theme>.png`.
 * Each page is shot once what it asked the miner for has arrived (no "Loading…" left), and the
 * layout facts issue 19 saw broken are checked on the way: a 1920 px window is used, a stat card's
 * figure keeps one line, a log line's source is not cut.
 */
export async function shootEveryPage(page: Page, watch: StateWatch, moment: string): Promise<string[]> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const written: string[] = [];
  const shoot = async (name: string, size: (typeof SIZES)[number], scheme: string, fullPage: boolean) => {
    const path = join(SCREENSHOTS, `${moment}-${name}-${size.width}x${size.height}-${scheme}.png`);
    await page.screenshot({ path, fullPage, animations: 'disabled' });
    written.push(path);
  };
  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const scheme of SCHEMES) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const name of PAGES) {
        await open(page, name);
        await checkLayout(page, name, size.width);
        await shoot(name.toLowerCase(), size, scheme, true);
      }
      await showGuide(page, watch);
      await shoot('guide-network', size, scheme, false);
      const guide = page.getByTestId('onboarding');
      for (const step of ['Your GPU', 'Teacher model']) {
        await guide.getByRole('button', { name: 'Next' }).click();
        await guide.locator('li[aria-current="step"]', { hasText: step }).waitFor();
      }
      const step = guide.getByTestId('teacher-step');
      await step.waitFor();
      // The step's text spans the dialog (the guide was laid out in two columns, wrapping it into half).
      const [stepWidth, dialogWidth] = await Promise.all(
        [step, guide.locator('.onboarding')].map((l) => l.evaluate((el) => el.getBoundingClientRect().width)),
      );
      expect(stepWidth!, 'the teacher step beside the buttons').toBeGreaterThan(0.8 * dialogWidth!);
      await shoot('guide-teacher', size, scheme, false);
      await guide.getByRole('button', { name: 'Skip the guide' }).click();
      await guide.waitFor({ state: 'detached' });
    }
  }
  return written;
}

async function open(page: Page, name: PageName): Promise<void> {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
  if (name === 'Logs') await page.getByTestId('logs').waitFor();
  if (name === 'Wallet') await page.getByRole('heading', { name: 'Earnings ledger' }).waitFor();
  // Everything the page asked for has been answered.
  await page
    .getByText(/^Loading/)
    .first()
    .waitFor({ state: 'hidden' });
}

/** The guide as a first-time user meets it: main says onboarding is not done. */
async function showGuide(page: Page, watch: StateWatch): Promise<void> {
  expect(await watch.invoke('settings:update', { patch: { onboardingDone: false } })).toMatchObject({ ok: true });
  await page.getByTestId('onboarding').waitFor();
  await page.getByTestId('network-choice').waitFor();
}

async function checkLayout(page: Page, name: PageName, width: number): Promise<void> {
  if (width >= 1920) {
    // The page used to stop at 1400 px (about 1620 px from the window's left edge).
    const pageWidth = await page.locator('section.page').evaluate((el) => el.getBoundingClientRect().width);
    expect(pageWidth, `${name} at ${width} px`).toBeGreaterThan(1600);
  }
  const wrapped = await page
    .locator('.stat-value')
    .evaluateAll((els) =>
      els.filter((el) => el.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(el).fontSize)).map((el) => el.textContent),
    );
  expect(wrapped, `${name} at ${width} px: stat figures on more than one line`).toEqual([]);
  if (name === 'Logs') {
    const cut = await page
      .locator('.log-source')
      .evaluateAll((els) => els.filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent));
    expect(cut, 'log sources cut').toEqual([]);
  }
}
