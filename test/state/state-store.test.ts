import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type StateSnapshot } from '../../src-shared/state';
import { initialState } from '../../src-main/state/initial-state';
import { StateStore } from '../../src-main/state/state-store';

describe('StateStore writers', () => {
  it('gives each part of the snapshot one owner: a second claim names the first', () => {
    const state = new StateStore(initialState(DEFAULT_SETTINGS));
    state.writer('gpu monitor', 'gpu');
    expect(() => state.writer('someone else', 'tokens', 'gpu')).toThrow(/"gpu" is already written by gpu monitor/);
    // The failed claim took nothing: tokens is still free.
    expect(state.ownerOf('tokens')).toBeNull();
    expect(state.ownerOf('gpu')).toBe('gpu monitor');
  });

  it('writes only its own keys, reads them back, and the write reaches subscribers', async () => {
    const state = new StateStore(initialState(DEFAULT_SETTINGS), { pushIntervalMs: 0 });
    const writer = state.writer('miner', 'tokensPerS', 'task');
    const pushed: StateSnapshot[] = [];
    state.onChange((s) => pushed.push(s));
    writer.update({ tokensPerS: 12 });
    writer.update((cur) => ({ tokensPerS: cur.tokensPerS + 1 }));
    expect(writer.get()).toEqual({ tokensPerS: 13, task: null });
    expect(() => writer.update({ gpu: state.get().gpu } as never)).toThrow(/miner may not write the snapshot's "gpu"/);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(pushed.at(-1)?.tokensPerS).toBe(13);
    state.dispose();
  });
});
