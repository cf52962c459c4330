export { decide, type Blocker, type BlockerKind, type PolicyDecision, type PolicyInputs, type PolicyStatus } from './mining-policy';
export { DEFAULT_MINING_POLICY, HEADLESS_MINING_POLICY, MiningPolicyConfig, parseMiningPolicyConfig } from './mining-policy-config';
export type { GameSignal, GameSignalKind, OtherGpuProcess } from './signals';
export {
  ScheduleWindow,
  WeeklySchedule,
  checkSchedule,
  formatLocalTime,
  localTimeOf,
  type LocalTime,
  type ScheduleVerdict,
} from './weekly-schedule';
