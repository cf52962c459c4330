import { byId, disableControls } from './page-dom';

/** Shows the time left each second until the challenge expires (then disables the page) or `stopped()`. */
export function startCountdown(expiresAtMs: number, stopped: () => boolean): void {
  const tick = () => {
    if (stopped()) return;
    const leftS = Math.max(0, Math.round((expiresAtMs - Date.now()) / 1000));
    byId('expires').textContent =
      leftS > 0
        ? `This page expires in ${Math.floor(leftS / 60)} min ${leftS % 60} s.`
        : 'This page has expired. Start the payout link again in Nya Miner.';
    if (leftS === 0) disableControls();
    else setTimeout(tick, 1000);
  };
  tick();
}
