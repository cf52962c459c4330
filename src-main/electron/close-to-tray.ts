/**
 * Closing the window hides it to the tray; only Quit ends the app. The `close` handler must call
 * `preventDefault()` synchronously: Electron decides whether to close as soon as the handler
 * returns, so anything awaited first (a settings read, a dialog) lets the window die.
 */
export interface ClosableWindow {
  on(event: 'close', listener: (event: { preventDefault(): void }) => void): unknown;
  hide(): void;
}

export interface CloseToTrayOptions {
  isQuitting: () => boolean;
  /** Called after the window hid; shows the one-time "still running in the tray" notice. */
  onHiddenToTray: () => void;
}

export function hideOnClose(window: ClosableWindow, o: CloseToTrayOptions): void {
  window.on('close', (event) => {
    if (o.isQuitting()) return;
    event.preventDefault();
    window.hide();
    o.onHiddenToTray();
  });
}

/** Shows the tray notice the first time ever, remembered across runs by `markShown`. */
export function onceEver(o: { shown: () => boolean; markShown: () => void; show: () => void }): () => void {
  return () => {
    if (o.shown()) return;
    o.markShown();
    o.show();
  };
}
