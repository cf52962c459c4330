export { flatFigures, snapshotFigures, type Figure } from './figures';
export { PROMETHEUS_CONTENT_TYPE, renderMetrics } from './prometheus';
export { WandbSchedule, type WandbScheduleOptions } from './wandb-schedule';
export { WandbReporter, type MetricsReporter, type WandbReporterOptions, type WandbSdk } from './wandb-reporter';
