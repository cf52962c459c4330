import type { MinerStatus } from '../../src-shared/state';

const WORDS: Record<MinerStatus, string> = {
  starting: 'Starting',
  mining: 'Mining',
  paused: 'Paused',
  'waiting-for-idle': 'Waiting for idle',
  'no-work': 'No work right now',
  offline: 'Offline',
  error: 'Error',
};

export function StatusLine({ status, reason }: { status: MinerStatus; reason: string }) {
  return (
    <div className={`status status-${status}`} data-testid="miner-status">
      <span className="status-dot" aria-hidden="true" />
      <strong>{WORDS[status]}</strong>
      {reason && <span className="status-reason"> — {reason}</span>}
    </div>
  );
}
