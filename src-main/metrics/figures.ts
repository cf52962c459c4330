import { MINER_STATUSES, NANO_PER_COMAI, type GpuTelemetry, type StateSnapshot } from '../../src-shared/state';

/**
 * The figures monitoring exports, read off one StateSnapshot. Both the Prometheus endpoint and
 * the W&B reporter render this list, so the two can never disagree about what a number means.
 * Names follow Prometheus conventions: base units (bytes, hertz, watts), `_total` on counters.
 */
export interface Figure {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  labels: Record<string, string>;
  value: number;
}

const BYTES_PER_MIB = 1024 * 1024;
const HZ_PER_MHZ = 1e6;

export function snapshotFigures(s: StateSnapshot): Figure[] {
  const figures: Figure[] = [];
  const add = (name: string, help: string, value: number | null, labels: Record<string, string> = {}, type: Figure['type'] = 'gauge') => {
    if (value !== null && Number.isFinite(value)) figures.push({ name, help, type, labels, value });
  };
  for (const status of MINER_STATUSES) {
    add('nya_miner_status', 'Miner status: 1 for the current one, 0 for the others.', s.miner.status === status ? 1 : 0, { status });
  }
  add('nya_miner_user_paused', 'Whether the user has paused mining.', s.miner.userPaused ? 1 : 0);
  add('nya_tokens_per_second', 'Tokens labelled per second, recent rate.', s.tokensPerS);
  const counted = { computed: s.tokens.computed, validated: s.tokens.validated, rejected: s.tokens.rejected };
  for (const [state, value] of Object.entries(counted)) {
    add('nya_tokens_total', 'Tokens by stage: computed (and handed to the validator), validated, rejected.', value, { state }, 'counter');
  }
  add('nya_tokens_pending', 'Tokens submitted and not yet validated or rejected.', s.tokens.pending);
  add('nya_tokens_today', 'Tokens computed today.', s.tokens.today);
  add('nya_tasks_completed_total', 'Tasks completed.', s.tokens.tasksCompleted, {}, 'counter');
  add('nya_task_tokens_done', 'Tokens done in the current task.', s.task?.tokensDone ?? null);
  add('nya_task_tokens', 'Tokens in the current task.', s.task?.tokensTotal ?? null);
  add('nya_validator_connected', 'Whether the validator answers (1) or not (0).', s.validator.connection === 'online' ? 1 : 0);
  add('nya_outbox_pending', 'Results on disk waiting for the validator to acknowledge them.', s.validator.outboxPending);
  const comai = (nano: string | null) => (nano === null ? null : Number(nano) / NANO_PER_COMAI);
  add('nya_earned_comai', 'Everything the validator reports (credited + settling + projected), in COMAI.', comai(s.earnings.earnedNano));
  const parts = { credited: s.earnings.creditedNano, settling: s.earnings.settlingNano, projected: s.earnings.projectedNano };
  for (const [state, nano] of Object.entries(parts)) {
    add(
      'nya_earnings_comai',
      'Earnings by state: credited (settled, final), settling (closed epochs), projected (the open epoch so far), in COMAI.',
      comai(nano),
      { state },
    );
  }
  add(
    'nya_earnings_rate_comai_per_hour',
    "What an hour brings at the open epoch's current share, in COMAI.",
    comai(s.earnings.perHourNano),
  );
  add(
    'nya_embedded_validator',
    'Whether the figures come from the local validator, which pays no one (1) or a remote one (0).',
    s.validator.mode === 'embedded' ? 1 : 0,
  );
  add('nya_epoch_share', "This miner's share of the epoch's validated tokens, 0..1.", s.earnings.epochShare);
  for (const gpu of s.gpu.gpus) addGpuFigures(gpu, add);
  return figures;
}

type Add = (name: string, help: string, value: number | null, labels?: Record<string, string>) => void;

/** One series per GPU; `add` skips the fields a board does not report. */
function addGpuFigures(gpu: GpuTelemetry, add: Add): void {
  const labels = { gpu: String(gpu.index), name: gpu.name };
  const scaled = (value: number | null, by: number) => (value === null ? null : value * by);
  add('nya_gpu_utilization_percent', 'GPU utilisation.', gpu.utilizationPct, labels);
  add('nya_gpu_temperature_celsius', 'GPU temperature.', gpu.tempC, labels);
  add('nya_gpu_power_watts', 'GPU power draw.', gpu.powerW, labels);
  add('nya_gpu_power_limit_watts', 'GPU power limit.', gpu.powerLimitW, labels);
  add('nya_gpu_memory_used_bytes', 'GPU memory in use.', scaled(gpu.memoryUsedMiB, BYTES_PER_MIB), labels);
  add('nya_gpu_memory_total_bytes', 'GPU memory size.', scaled(gpu.memoryTotalMiB, BYTES_PER_MIB), labels);
  add('nya_gpu_fan_percent', 'GPU fan speed.', gpu.fanPct, labels);
  add('nya_gpu_sm_clock_hertz', 'GPU SM clock.', scaled(gpu.smClockMHz, HZ_PER_MHZ), labels);
  add('nya_gpu_memory_clock_hertz', 'GPU memory clock.', scaled(gpu.memClockMHz, HZ_PER_MHZ), labels);
}

/** `name{a="1"}` → "name/a=1": a flat key for reporters without labels (W&B). */
export function flatFigures(figures: readonly Figure[]): Record<string, number> {
  const flat: Record<string, number> = {};
  for (const figure of figures) {
    const suffix = Object.entries(figure.labels)
      .filter(([key]) => key !== 'name')
      .map(([key, value]) => `${key}=${value}`);
    flat[[figure.name, ...suffix].join('/')] = figure.value;
  }
  return flat;
}
