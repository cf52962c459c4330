// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../src-shared/protocol';
import type { NyaBridge } from '../../src-shared/ipc';
import type { LogLine } from '../../src-shared/state';
import { BridgeContext } from '../../src-renderer/bridge-context';
import { ModelPanel } from '../../src-renderer/components/ModelPanel';
import { timeTicks } from '../../src-renderer/components/time-ticks';
import { DashboardPage } from '../../src-renderer/pages/DashboardPage';
import { LeaderboardPage } from '../../src-renderer/pages/LeaderboardPage';
import { LogsPage } from '../../src-renderer/pages/LogsPage';
import { WalletPage } from '../../src-renderer/pages/WalletPage';
import { KeyPanel } from '../../src-renderer/wallet/KeyPanel';
import { applySnapshot, useStore } from '../../src-renderer/store';
import { emptyHistory, fakeBridge, snapshot } from './fixtures';

/** What issue 19 saw on every page (item 10), each as the user would meet it. */
beforeAll(() => {
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as never;
});
beforeEach(() => useStore.setState({ snapshot: null, page: 'dashboard' }));
afterEach(cleanup);

const renderWith = (bridge: NyaBridge, ui: React.ReactElement) =>
  render(<BridgeContext.Provider value={bridge}>{ui}</BridgeContext.Provider>);
const historyBridge = () =>
  fakeBridge((ch, req) =>
    ch === 'history:get' ? { ok: true, value: emptyHistory((req as { range: '10m' }).range) } : { ok: true, value: null },
  );

describe('counts and big numbers', () => {
  it('says "1 task" and keeps a figure past a million on one short line, exact in its tooltip', () => {
    applySnapshot(snapshot({ tokens: { computed: 1_434_567, pending: 0, validated: 999_999, rejected: 0, today: 12, tasksCompleted: 1 } }));
    renderWith(historyBridge(), <DashboardPage />);
    const computed = screen.getByTestId('tokens-computed');
    expect(computed.querySelector('.stat-hint')!.textContent).toBe('1 task');
    const value = computed.querySelector('.stat-value')!;
    expect(value.textContent).toBe('1.43M tokens');
    expect(value.getAttribute('title')).toBe('1,434,567 tokens');
    expect(screen.getByTestId('tokens-validated').querySelector('.stat-value')!.textContent).toBe('999,999 tokens');
  });

  it('says "1 miner" under the leaderboard', async () => {
    applySnapshot(snapshot());
    const bridge = fakeBridge(() => ({
      ok: true,
      value: { board: { page: 1, pageSize: 25, total: 1, rows: [] }, me: null },
    }));
    renderWith(bridge, <LeaderboardPage />);
    await screen.findByText('Page 1 of 1 · 1 miner');
  });
});

describe('Logs page follows the newest line', () => {
  // jsdom has no layout: the list is 200 px high and 20 px per line, scrollTop as a browser clamps it.
  const scrollTops = new WeakMap<Element, number>();
  beforeAll(() => {
    Object.defineProperty(HTMLOListElement.prototype, 'clientHeight', { configurable: true, get: () => 200 });
    Object.defineProperty(HTMLOListElement.prototype, 'scrollHeight', {
      configurable: true,
      get(this: HTMLOListElement) {
        return this.children.length * 20;
      },
    });
    Object.defineProperty(HTMLOListElement.prototype, 'scrollTop', {
      configurable: true,
      get(this: HTMLOListElement) {
        return scrollTops.get(this) ?? 0;
      },
      set(this: HTMLOListElement, v: number) {
        scrollTops.set(this, Math.max(0, Math.min(v, this.scrollHeight - this.clientHeight)));
      },
    });
  });
  const lines = (n: number): LogLine[] =>
    Array.from({ length: n }, (_, i) => ({
      seq: i + 1,
      atMs: 0,
      level: 'info',
      source: 'local-validator.teacher',
      message: `line ${i + 1}`,
    }));

  it('stays at the bottom as lines arrive, stops when the user scrolls up, and jumps back on request', () => {
    applySnapshot(snapshot({ logs: lines(30) }));
    renderWith(historyBridge(), <LogsPage />);
    const list = screen.getByTestId('logs');
    expect(list.scrollTop).toBe(30 * 20 - 200);

    act(() => applySnapshot(snapshot({ seq: 2, logs: lines(40) })));
    expect(list.scrollTop).toBe(40 * 20 - 200);
    expect(screen.queryByRole('button', { name: /Jump to newest/ })).toBeNull();

    list.scrollTop = 100;
    fireEvent.scroll(list);
    act(() => applySnapshot(snapshot({ seq: 3, logs: lines(50) })));
    expect(list.scrollTop).toBe(100);
    fireEvent.click(screen.getByRole('button', { name: /Jump to newest/ }));
    expect(list.scrollTop).toBe(50 * 20 - 200);
    expect(screen.queryByRole('button', { name: /Jump to newest/ })).toBeNull();
  });

  it('shows a source name whole, with the name as its tooltip too', () => {
    applySnapshot(snapshot({ logs: lines(1) }));
    renderWith(historyBridge(), <LogsPage />);
    const source = within(screen.getByTestId('logs')).getByText('local-validator.teacher');
    expect(source.getAttribute('title')).toBe('local-validator.teacher');
  });
});

describe('Wallet ledger pages', () => {
  const entry = (i: number): LedgerEntry => ({
    taskId: `task-${i}`,
    submittedAtMs: 1_000_000 - i,
    tokens: 100,
    status: 'validated',
    reason: null,
    creditedNano: '1000',
    credit: 'projected',
    creditFinalAtMs: null,
  });

  it('asks the validator for 20 rows at a time and pages back and forth by its cursor', async () => {
    const bridge = fakeBridge((ch, req) => {
      if (ch !== 'validator:ledger') return { ok: false, error: { code: 'unavailable', message: 'no wallet here' } };
      const { before } = req as { before?: string };
      const first = before ? Number(before) : 0;
      const entries = Array.from({ length: 20 }, (_, i) => entry(first + i));
      return { ok: true, value: { entries, next: first < 20 ? String(first + 20) : null } };
    });
    applySnapshot(snapshot());
    renderWith(bridge, <WalletPage />);
    const rows = async () => within(await screen.findByTestId('ledger')).getAllByRole('row').length - 1;
    expect(await rows()).toBe(20);
    expect(bridge.calls.find(([ch]) => ch === 'validator:ledger')).toEqual(['validator:ledger', { limit: 20 }]);
    const pager = screen.getByRole('navigation', { name: 'Ledger pages' });
    expect(within(pager).getByRole('button', { name: 'Newer' })).toHaveProperty('disabled', true);
    fireEvent.click(within(pager).getByRole('button', { name: 'Older' }));
    await screen.findByText('task-20');
    expect(bridge.calls.at(-1)).toEqual(['validator:ledger', { before: '20', limit: 20 }]);
    expect(within(pager).getByRole('button', { name: 'Older' })).toHaveProperty('disabled', true);
    fireEvent.click(within(pager).getByRole('button', { name: 'Newer' }));
    await screen.findByText('task-0');
  });
});

describe('Settings model table', () => {
  it('says beside a disabled Download button why it cannot be used', async () => {
    const manifestError = 'No validator or model manifest is configured: pick a network in Settings to download a model.';
    const bridge = fakeBridge((ch) =>
      ch === 'model:catalog'
        ? {
            ok: true,
            value: {
              variants: [
                {
                  id: 'int4',
                  label: 'Mistral 7B Instruct v0.3 (int4)',
                  isDemo: false,
                  diskBytes: 4e9,
                  minVramMiB: 5632,
                  downloadable: false,
                },
              ],
              recommended: { variantId: 'int4', fitsGpu: false, reason: 'No GPU memory size is known.' },
              manifestError,
            },
          }
        : { ok: true, value: null },
    );
    applySnapshot(snapshot());
    renderWith(bridge, <ModelPanel />);
    const button = await screen.findByRole('button', { name: 'Download' });
    expect(button).toHaveProperty('disabled', true);
    expect(button.getAttribute('title')).toBe(manifestError);
    const describedBy = document.getElementById(button.getAttribute('aria-describedby')!);
    expect(describedBy?.textContent).toBe('No download source');
  });
});

describe('Wallet key forms', () => {
  /** The words beside a button, which its accessible description points at; null when there are none. */
  const why = (button: HTMLElement) => {
    const id = button.getAttribute('aria-describedby');
    return id ? document.getElementById(id)!.textContent : null;
  };
  const invoke = fakeBridge(() => ({ ok: true, value: null })).invoke;

  it('says beside a disabled Import button why, and drops the words once a file is named', () => {
    render(<KeyPanel wallet={{ miningAddress: null, keySource: null, hasMnemonic: false }} invoke={invoke} />);
    const importButton = screen.getByRole('button', { name: 'Import' });
    expect(importButton).toHaveProperty('disabled', true);
    expect(why(importButton)).toBe('No file chosen');
    expect(importButton.getAttribute('title')).toMatch(/Choose the key file/);
    fireEvent.change(screen.getByLabelText('File'), { target: { value: '/home/u/phrase.txt' } });
    expect(importButton).toHaveProperty('disabled', false);
    expect(why(importButton)).toBeNull();
    expect(importButton.getAttribute('title')).toBeNull();
  });

  it('says why the keystore export and the removal wait, step by step', () => {
    const address = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
    render(<KeyPanel wallet={{ miningAddress: address, keySource: 'created', hasMnemonic: true }} invoke={invoke} />);
    const exportButton = screen.getByRole('button', { name: 'Export keystore' });
    expect(why(exportButton)).toBe('No file named');
    fireEvent.change(screen.getByLabelText('Save a polkadot-js keystore to'), { target: { value: '/home/u/key.json' } });
    expect(why(exportButton)).toBe('Password too short');
    fireEvent.change(screen.getByLabelText('Keystore password (8+ characters)'), { target: { value: 'long enough' } });
    expect(exportButton).toHaveProperty('disabled', false);
    expect(why(exportButton)).toBeNull();

    const removeButton = screen.getByRole('button', { name: 'Remove mining key' });
    expect(why(removeButton)).toBe('Type the address first');
    fireEvent.change(screen.getByLabelText('To remove this key, type its address'), { target: { value: address.slice(0, -1) } });
    expect(removeButton).toHaveProperty('disabled', true);
    fireEvent.change(screen.getByLabelText('To remove this key, type its address'), { target: { value: address } });
    expect(removeButton).toHaveProperty('disabled', false);
    expect(why(removeButton)).toBeNull();
  });
});

describe('chart time ticks', () => {
  const labels = (fromMs: number, toMs: number) => {
    const { ticks, label } = timeTicks(fromMs, toMs);
    return ticks.map(label);
  };

  it('never repeats a label, and always has some, over the first seconds, ten minutes, or a day', () => {
    const noon = Date.parse('2026-11-25T12:41:10Z');
    for (const spanMs of [40_000, 90_000, 4 * 60_000, 10 * 60_000, 24 * 3_600_000]) {
      const shown = labels(noon, noon + spanMs);
      expect(shown.length, `${spanMs} ms`).toBeGreaterThan(1);
      expect(shown.length).toBeLessThanOrEqual(6);
      expect(new Set(shown).size, shown.join(', ')).toBe(shown.length);
    }
  });

  it('puts ticks on whole minutes and hours', () => {
    const from = Date.parse('2026-11-25T12:41:10Z');
    expect(timeTicks(from, from + 10 * 60_000).ticks.every((t) => t % 120_000 === 0)).toBe(true);
    expect(timeTicks(from, from + 24 * 3_600_000).ticks.every((t) => t % (6 * 3_600_000) === 0)).toBe(true);
  });
});
