import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DesktopPrefsStore, pauseToRestore } from '../../src-main/electron/desktop-prefs';
import { silentLogger } from '../../src-node/log';
import { tempDirs } from './temp-dirs';

const tempDir = tempDirs('nya-prefs-');

describe('DesktopPrefsStore', () => {
  it('starts from defaults and persists changes across instances', () => {
    const dir = tempDir();
    const a = new DesktopPrefsStore(dir, silentLogger);
    expect(a.get()).toEqual({
      openAtLogin: true,
      updateChecks: true,
      closeToTrayNoticeShown: false,
      userPause: { paused: false, untilMs: null },
    });
    expect(existsSync(a.path)).toBe(false);
    a.update({ closeToTrayNoticeShown: true, userPause: { paused: true, untilMs: 123 } });
    const b = new DesktopPrefsStore(dir, silentLogger);
    expect(b.get()).toMatchObject({ closeToTrayNoticeShown: true, userPause: { paused: true, untilMs: 123 } });
  });

  it('keeps an unreadable file aside and falls back to defaults', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'desktop.json'), '{"openAtLogin": "yes"');
    const store = new DesktopPrefsStore(dir, silentLogger);
    expect(store.get().openAtLogin).toBe(true);
    const aside = readdirSync(dir).filter((f) => f.startsWith('desktop.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe('{"openAtLogin": "yes"');
  });

  it('refuses an invalid patch without writing', () => {
    const dir = tempDir();
    const store = new DesktopPrefsStore(dir, silentLogger);
    expect(() => store.update({ updateChecks: 'no' as never })).toThrow();
    expect(existsSync(store.path)).toBe(false);
  });
});

describe('pauseToRestore', () => {
  it('restores an open-ended pause, the rest of a timed one, and drops an expired one', () => {
    expect(pauseToRestore({ paused: false, untilMs: null }, 1000)).toEqual({ paused: false });
    expect(pauseToRestore({ paused: true, untilMs: null }, 1000)).toEqual({ paused: true });
    expect(pauseToRestore({ paused: true, untilMs: 5000 }, 1000)).toEqual({ paused: true, forMs: 4000 });
    expect(pauseToRestore({ paused: true, untilMs: 1000 }, 1000)).toEqual({ paused: false });
  });
});
