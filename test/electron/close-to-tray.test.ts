import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { hideOnClose, onceEver } from '../../src-main/electron/close-to-tray';
import { DesktopPrefsStore } from '../../src-main/electron/desktop-prefs';
import { silentLogger } from '../../src-node/log';
import { tempDirs } from './temp-dirs';

const tempDir = tempDirs('nya-notice-');

function fakeWindow() {
  const w = Object.assign(new EventEmitter(), { hidden: false, hide: () => void (w.hidden = true) });
  /** Emits `close` as Electron does and reports whether the close was cancelled, checked right after the handlers returned. */
  const close = () => {
    let prevented = false;
    w.emit('close', { preventDefault: () => void (prevented = true) });
    return { prevented, hidden: w.hidden };
  };
  return { w, close };
}

describe('hideOnClose', () => {
  it('cancels the close and hides, synchronously, while not quitting', () => {
    const { w, close } = fakeWindow();
    const hiddenToTray = vi.fn();
    hideOnClose(w, { isQuitting: () => false, onHiddenToTray: hiddenToTray });
    expect(close()).toEqual({ prevented: true, hidden: true });
    expect(hiddenToTray).toHaveBeenCalledOnce();
  });

  it('lets the window close when the app quits', () => {
    const { w, close } = fakeWindow();
    const hiddenToTray = vi.fn();
    hideOnClose(w, { isQuitting: () => true, onHiddenToTray: hiddenToTray });
    expect(close()).toEqual({ prevented: false, hidden: false });
    expect(hiddenToTray).not.toHaveBeenCalled();
  });
});

describe('the one-time tray notice', () => {
  it('shows once, ever, across restarts', () => {
    const dir = tempDir();
    const shown = vi.fn();
    const notice = (prefs: DesktopPrefsStore) =>
      onceEver({
        shown: () => prefs.get().closeToTrayNoticeShown,
        markShown: () => prefs.update({ closeToTrayNoticeShown: true }),
        show: shown,
      });
    const first = notice(new DesktopPrefsStore(dir, silentLogger));
    first();
    first();
    notice(new DesktopPrefsStore(dir, silentLogger))();
    expect(shown).toHaveBeenCalledOnce();
  });
});
