export { PROMETHEUS_CONTENT_TYPE, renderMetrics } from './prometheus';
export { WandbSchedule } from './wandb-schedule';
export { WandbReporter, type WandbSdk } from './wandb-reporter';
