import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src-shared/state';
import { LogHub } from '../../src-node/log';
import { NO_EARNINGS } from '../../src-main/miner/earnings';
import { MiningSummary } from '../../src-main/miner/mining-summary';
import { initialState } from '../../src-main/state/initial-state';
import { StateStore } from '../../src-main/state/state-store';

function rig() {
  const state = new StateStore(initialState(DEFAULT_SETTINGS), { pushIntervalMs: 0 });
  const figures = state.writer('miner', 'miner', 'tokens', 'earnings');
  const hub = new LogHub();
  const lines: string[] = [];
  hub.attach((r) => lines.push(`${r.level} [${r.source}] ${r.message}`));
  let nowMs = 1_000_000;
  const summary = new MiningSummary({ snapshot: () => state.get(), log: hub.logger('miner'), intervalMs: 3_600_000, now: () => nowMs });
  return { figures, lines, summary, advance: (ms: number) => (nowMs += ms) };
}

describe('the one-line mining summary', () => {
  it('prints the interval speed, tasks, validated tokens and earnings once per tick', () => {
    const { figures, lines, summary, advance } = rig();
    figures.update({ miner: { status: 'mining', reason: 'Labelling', userPaused: false, pausedUntilMs: null } });
    summary.start();
    figures.update(({ tokens }) => ({
      tokens: { ...tokens, computed: 180_000, tasksCompleted: 12, validated: 1_234_567 },
      earnings: { ...NO_EARNINGS, earnedNano: '1500000000', projectedNano: '1500000000', epochShare: 1 },
    }));
    advance(60_000);
    summary.tick();
    expect(lines).toEqual(['info [miner] last 60 s: 3,000 tok/s, 12 tasks · validated 1,234,567 tokens · earned 1.5000 COMAI']);
    summary.dispose();
  });

  it('reads 0 tok/s while paused, with the reason, however fast the last task was', () => {
    const { figures, lines, summary, advance } = rig();
    figures.update(({ tokens }) => ({ tokens: { ...tokens, computed: 50_000, tasksCompleted: 3 } }));
    summary.start();
    figures.update({ miner: { status: 'paused', reason: 'Paused by you', userPaused: true, pausedUntilMs: null } });
    advance(60_000);
    summary.tick();
    expect(lines).toEqual(['info [miner] last 60 s: 0 tok/s, 0 tasks · validated 0 tokens · earned 0.0000 COMAI · paused: Paused by you']);
    summary.dispose();
  });
});
