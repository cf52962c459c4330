import type { StateSnapshot } from '../../src-shared/state';
import { plural } from '../format';

const WORDS: Record<StateSnapshot['miner']['status'], string> = {
  starting: 'Starting',
  mining: 'Mining',
  paused: 'Paused',
  'waiting-for-idle': 'Waiting for idle',
  'no-work': 'No work right now',
  offline: 'Offline',
  error: 'Error',
};

/**
 * The status line. While a task runs, what the miner is doing is read off the same `task` the
 * task card shows, so "Mining — Labelling 4 documents" above "No task running" cannot happen.
 */
export function StatusLine({ miner, task }: Pick<StateSnapshot, 'miner' | 'task'>) {
  const reason = miner.status === 'mining' && task ? `Labelling ${plural(task.documents, 'document')}` : miner.reason;
  return (
    <div className={`status status-${miner.status}`} data-testid="miner-status">
      <span className="status-dot" aria-hidden="true" />
      <strong>{WORDS[miner.status]}</strong>
      {reason && <span className="status-reason"> — {reason}</span>}
    </div>
  );
}
