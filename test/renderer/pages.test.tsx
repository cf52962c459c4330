// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LeaderboardRow } from '../../src-shared/protocol';
import { BridgeContext } from '../../src-renderer/bridge-context';
import { DashboardPage } from '../../src-renderer/pages/DashboardPage';
import { LeaderboardPage } from '../../src-renderer/pages/LeaderboardPage';
import { LogsPage } from '../../src-renderer/pages/LogsPage';
import { SettingsPage } from '../../src-renderer/pages/SettingsPage';
import { WalletPage } from '../../src-renderer/pages/WalletPage';
import { applySnapshot, useStore } from '../../src-renderer/store';
import { NO_EARNINGS } from '../../src-main/miner/earnings';
import { emptyHistory, fakeBridge, snapshot } from './fixtures';
import type { NyaBridge } from '../../src-shared/ipc';
import type { Result } from '../../src-shared/result';

beforeAll(() => {
  // recharts measures its container; jsdom has no layout.
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as never;
});
beforeEach(() => useStore.setState({ snapshot: null, page: 'dashboard' }));
afterEach(cleanup);

function renderWith(bridge: NyaBridge, ui: React.ReactElement) {
  return render(<BridgeContext.Provider value={bridge}>{ui}</BridgeContext.Provider>);
}

const row = (rank: number, address: string, tokens: number): LeaderboardRow => ({
  rank,
  name: `miner ${rank}`,
  address,
  validatedTokens: tokens,
  share: tokens / 1e6,
  gpuClass: 'RTX 4090',
});

describe('renderer pages', () => {
  it('Dashboard shows the status in words, task progress with ETA, totals and one card per GPU', async () => {
    const bridge = fakeBridge((ch, req) =>
      ch === 'history:get' ? { ok: true, value: emptyHistory((req as { range: '10m' }).range) } : { ok: true, value: null },
    );
    applySnapshot(
      snapshot({
        task: {
          taskId: 'task-42',
          documents: 4,
          tokensDone: 300,
          tokensTotal: 1200,
          startedAtMs: 0,
          etaAtMs: Date.parse('2026-11-25T12:01:30Z'),
        },
        tokensPerS: 1234.5,
        tokens: { computed: 98765, pending: 1000, validated: 97000, rejected: 765, today: 5000, tasksCompleted: 12 },
        earnings: {
          ...NO_EARNINGS,
          earnedNano: '1750000000',
          creditedNano: '1500000000',
          projectedNano: '250000000',
          epochEndsAtMs: Date.parse('2026-11-25T13:00:00Z'),
          epochShare: 0.25,
          perHourNano: '250000000',
          perDayNano: '6000000000',
        },
        validator: { ...snapshot().validator, mode: 'remote', url: 'https://validator.example.org' },
        gpu: {
          status: 'ok',
          source: 'nvidia-smi',
          gpus: [0, 1].map((index) => ({
            index,
            name: 'NVIDIA GeForce RTX 3090',
            driver: '550.54',
            utilizationPct: 97,
            memoryUsedMiB: 20000,
            memoryTotalMiB: 24576,
            tempC: 71,
            powerW: 320,
            powerLimitW: 350,
            fanPct: 60,
            smClockMHz: 1900,
            memClockMHz: 9750,
          })),
        },
      }),
    );
    renderWith(bridge, <DashboardPage />);
    expect(screen.getByTestId('miner-status').textContent).toContain('Mining');
    const progress = screen.getByRole('progressbar', { name: 'Task progress' });
    expect(progress.getAttribute('aria-valuenow')).toBe('300');
    expect(screen.getByText('about 1 min 30 s left')).toBeTruthy();
    expect(screen.getByTestId('tokens-per-s').textContent).toContain('1,235 tok/s');
    expect(screen.getByTestId('tokens-computed').textContent).toContain('98,765 tokens');
    expect(screen.getByTestId('earnings-credited').textContent).toContain('1.5000 COMAI');
    expect(screen.getByTestId('earnings-projected').textContent).toContain('0.2500 COMAI');
    expect(screen.getByTestId('earnings-projected').textContent).toContain('share 25 %');
    expect(screen.getByTestId('earnings-rate').textContent).toContain('0.2500 COMAI / h');
    expect(screen.getByTestId('earnings-rate').textContent).toContain('6.0000 COMAI / day');
    expect(screen.queryByTestId('local-credit-note')).toBeNull();
    expect(screen.getAllByTestId('gpu-card')).toHaveLength(2);
    expect(screen.getAllByTestId('gpu-card')[0]!.textContent).toContain('71 °C');
    await waitFor(() => expect(bridge.calls.some(([ch]) => ch === 'history:get')).toBe(true));
  });

  it('Dashboard reads the status line and the task card off the same task', () => {
    const bridge = fakeBridge((_ch, req) => ({ ok: true, value: emptyHistory((req as { range: '10m' }).range) }));
    applySnapshot(snapshot({ task: null }));
    const { rerender } = renderWith(bridge, <DashboardPage />);
    expect(within(screen.getByTestId('task')).getByText('No task running.')).toBeTruthy();
    expect(screen.getByTestId('miner-status').textContent).toBe('Mining — Between tasks');
    // A reason written for another task must not speak for this one.
    const stale = { status: 'mining' as const, reason: 'Labelling 4 documents', userPaused: false, pausedUntilMs: null };
    act(() =>
      applySnapshot(
        snapshot({
          seq: 2,
          miner: stale,
          task: { taskId: 'task-7', documents: 1, tokensDone: 0, tokensTotal: 0, startedAtMs: 0, etaAtMs: null },
        }),
      ),
    );
    rerender(
      <BridgeContext.Provider value={bridge}>
        <DashboardPage />
      </BridgeContext.Provider>,
    );
    expect(screen.getByTestId('miner-status').textContent).toBe('Mining — Labelling 1 document');
    expect(within(screen.getByTestId('task')).getByText(/1 document ·/)).toBeTruthy();
  });

  it('Dashboard pause button sends the intent and shows a refusal', async () => {
    const bridge = fakeBridge((ch) =>
      ch === 'miner:set-paused'
        ? { ok: false, error: { code: 'unavailable', message: 'main is busy' } }
        : { ok: true, value: emptyHistory('10m') },
    );
    applySnapshot(snapshot());
    renderWith(bridge, <DashboardPage />);
    fireEvent.click(screen.getByTestId('pause-button'));
    await screen.findByText('main is busy');
    expect(bridge.calls).toContainEqual(['miner:set-paused', { paused: true }]);
  });

  it('Dashboard says "no GPU found" as a real state, never a fake card', () => {
    applySnapshot(snapshot({ gpu: { status: 'none', source: null, gpus: [] } }));
    renderWith(
      fakeBridge(() => ({ ok: true, value: emptyHistory('10m') })),
      <DashboardPage />,
    );
    expect(screen.getByText('No GPU found: the teacher runs on the CPU.')).toBeTruthy();
    expect(screen.queryByTestId('gpu-card')).toBeNull();
  });

  it('Dashboard shows the CPU and memory of the teacher and the app when the teacher runs on the CPU', () => {
    const MiB = 1024 * 1024;
    applySnapshot(
      snapshot({
        gpu: { status: 'none', source: null, gpus: [] },
        resources: {
          cores: 2,
          app: { rssBytes: 120 * MiB, maxRssBytes: 130 * MiB, cpuPct: 3 },
          teacher: { rssBytes: 480 * MiB, maxRssBytes: 512 * MiB, cpuPct: 97.4 },
          recomputeTeacher: null,
        },
      }),
    );
    renderWith(
      fakeBridge(() => ({ ok: true, value: emptyHistory('10m') })),
      <DashboardPage />,
    );
    const card = screen.getByTestId('cpu-card');
    expect(card.textContent).toContain('CPU · 2 cores');
    expect(card.textContent).toContain('TeacherCPU 97 % · 480 MiB (peak 512 MiB)');
    expect(card.textContent).toContain('AppCPU 3 % · 120 MiB (peak 130 MiB)');
    expect(card.textContent).not.toContain("Local validator's teacher");
  });

  it('Leaderboard pins and highlights the user row from another page, and pages', async () => {
    const me = 'me'.padEnd(48, 'x');
    const bridge = fakeBridge((_ch, req) => {
      const { page } = req as { page: number };
      return {
        ok: true,
        value: {
          board: { page, pageSize: 25, total: 60, rows: [row(page * 25 - 24, `a${page}`.padEnd(48, 'y'), 5000)] },
          me: row(57, me, 10),
        },
      };
    });
    applySnapshot(snapshot({ validator: { ...snapshot().validator, signingAddress: me } }));
    renderWith(bridge, <LeaderboardPage />);
    const table = await screen.findByTestId('leaderboard');
    const mine = within(table)
      .getAllByRole('row')
      .find((r) => r.getAttribute('aria-current') === 'true');
    expect(mine?.textContent).toContain('57');
    expect(screen.getByText('Page 1 of 3 · 60 miners')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByText('Page 2 of 3 · 60 miners');
    expect(bridge.calls.at(-1)).toEqual(['validator:leaderboard', { page: 2, pageSize: 25 }]);
  });

  it('Leaderboard shows the offline state as words', async () => {
    applySnapshot(snapshot());
    renderWith(
      fakeBridge(() => ({ ok: false, error: { code: 'unavailable', message: 'connection refused' } })),
      <LeaderboardPage />,
    );
    await screen.findByText('The validator could not be reached: connection refused');
  });

  it('Settings validates before sending and shows what main answered', async () => {
    const bridge = fakeBridge((ch, req) =>
      ch === 'model:catalog'
        ? {
            ok: true,
            value: {
              variants: [],
              recommended: { variantId: 'int4', fitsGpu: false, reason: 'No GPU memory size is known.' },
              manifestError: null,
            },
          }
        : ch === 'network:list'
          ? { ok: true, value: { networks: [], defaultNetwork: 'local', problem: null } }
          : { ok: true, value: { ...snapshot().settings, ...(req as { patch: object }).patch } },
    );
    const saves = () => bridge.calls.filter(([ch]) => ch === 'settings:update');
    applySnapshot(snapshot());
    renderWith(bridge, <SettingsPage />);
    fireEvent.change(screen.getByLabelText('Validator URL'), { target: { value: 'not a url' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText(/Enter a full URL such as/);
    expect(saves()).toHaveLength(0);
    fireEvent.change(screen.getByLabelText('Validator URL'), { target: { value: 'https://v.example.org' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved.');
    expect((saves()[0]![1] as { patch: { validatorUrl: string } }).patch.validatorUrl).toBe('https://v.example.org');
    await screen.findByText('No GPU memory size is known.');
    expect(screen.getByTestId('data-dir').textContent).toBe('/home/miner/.local/share/nya-miner');
  });

  it('Settings exports diagnostics and shows where the file is, or why not', async () => {
    let answer: Result<{ path: string }> = {
      ok: true,
      value: { path: '/home/miner/.local/share/nya-miner/diagnostics/nya-diagnostics-2026-12-07T16-40-00Z.txt' },
    };
    const bridge = fakeBridge((ch) => (ch === 'diagnostics:export' ? answer : { ok: true, value: null }));
    applySnapshot(snapshot());
    renderWith(bridge, <SettingsPage />);
    const panel = within(screen.getByTestId('diagnostics'));
    fireEvent.click(panel.getByRole('button', { name: 'Export diagnostics' }));
    expect((await panel.findByRole('status')).textContent).toContain('/diagnostics/nya-diagnostics-2026-12-07T16-40-00Z.txt');
    expect(bridge.calls.filter(([ch]) => ch === 'diagnostics:export')).toEqual([['diagnostics:export', {}]]);
    answer = { ok: false, error: { code: 'internal', message: 'The data folder is read-only.' } };
    fireEvent.click(panel.getByRole('button', { name: 'Export diagnostics' }));
    await panel.findByText('The data folder is read-only.');
  });

  it('Logs filters by level and searches', () => {
    applySnapshot(
      snapshot({
        logs: [
          { seq: 1, atMs: 0, level: 'debug', source: 'teacher', message: 'batch 1' },
          { seq: 2, atMs: 0, level: 'info', source: 'miner', message: 'task done' },
          { seq: 3, atMs: 0, level: 'error', source: 'validator-client', message: 'connection refused' },
        ],
      }),
    );
    renderWith(
      fakeBridge(() => ({ ok: true, value: null })),
      <LogsPage />,
    );
    const lines = () =>
      within(screen.getByTestId('logs'))
        .getAllByRole('listitem')
        .map((li) => li.textContent);
    expect(lines()).toHaveLength(2);
    fireEvent.change(screen.getByRole('combobox'), { target: { value: 'error' } });
    expect(lines()).toHaveLength(1);
    fireEvent.change(screen.getByRole('combobox'), { target: { value: 'debug' } });
    fireEvent.change(screen.getByRole('searchbox'), { target: { value: 'TASK' } });
    expect(lines()).toEqual([expect.stringContaining('task done')]);
  });

  it('drops a push older than what is shown', () => {
    act(() => applySnapshot(snapshot({ seq: 5, atMs: 2000, tokensPerS: 5 })));
    act(() => applySnapshot(snapshot({ seq: 4, atMs: 1000, tokensPerS: 4 })));
    expect(useStore.getState().snapshot?.tokensPerS).toBe(5);
  });
});

describe('Wallet page', () => {
  it('asks for the wallet status again as soon as the snapshot says the key changed', async () => {
    const bridge = fakeBridge((ch) =>
      ch === 'validator:ledger'
        ? { ok: true, value: { entries: [], next: null } }
        : { ok: false, error: { code: 'unavailable', message: 'x' } },
    );
    applySnapshot(snapshot());
    renderWith(bridge, <WalletPage />);
    const statusCalls = () => bridge.calls.filter(([ch]) => ch === 'wallet:status').length;
    await waitFor(() => expect(statusCalls()).toBe(1));
    act(() => applySnapshot(snapshot({ seq: 2, wallet: { miningAddress: '5Dfh', payoutAddress: null, payoutLinked: false } })));
    await waitFor(() => expect(statusCalls()).toBe(2));
  });
});
