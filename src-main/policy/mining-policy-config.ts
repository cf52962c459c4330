import { z } from 'zod';
import { GPU_POWER_LIMIT_W, GPU_TEMP_LIMIT_C } from '../../src-shared/state';
import { WeeklySchedule } from './weekly-schedule';

/**
 * What the user sets about when the miner may use the GPU. Parsed once where it enters (the
 * settings file, an IPC call); a bad value is a sentence naming the field.
 */
export const MiningPolicyConfig = z.object({
  /** Mine only while nobody uses the PC (desktop default); headless rigs turn it off. */
  onlyWhenIdle: z.boolean(),
  resumeAfterIdleMin: z.number().min(0).max(240),
  pauseOnGames: z.boolean(),
  pauseOnBattery: z.boolean(),
  pauseOnOtherGpuProcesses: z.boolean(),
  /** Hard stop; the governor aims below it. null: no limit of ours (the driver still has one). */
  maxTempC: z.number().min(GPU_TEMP_LIMIT_C.min).max(GPU_TEMP_LIMIT_C.max).nullable(),
  /** After an over-temperature stop, resume only below maxTempC − this. */
  tempHysteresisC: z.number().min(1).max(30),
  maxPowerW: z.number().min(GPU_POWER_LIMIT_W.min).max(GPU_POWER_LIMIT_W.max).nullable(),
  powerHysteresisW: z.number().min(0).max(500),
  /**
   * After a game, battery, other-program or limit pause, the way must stay clear this long
   * before mining resumes: a flickering signal cannot start and stop the GPU every poll.
   */
  resumeDelayS: z.number().min(0).max(3600),
  schedule: WeeklySchedule.nullable(),
});
export type MiningPolicyConfig = z.infer<typeof MiningPolicyConfig>;

export const DEFAULT_MINING_POLICY: MiningPolicyConfig = {
  onlyWhenIdle: true,
  resumeAfterIdleMin: 5,
  pauseOnGames: true,
  pauseOnBattery: true,
  pauseOnOtherGpuProcesses: true,
  maxTempC: 83,
  tempHysteresisC: 5,
  maxPowerW: null,
  powerHysteresisW: 20,
  resumeDelayS: 60,
  schedule: null,
};

export function parseMiningPolicyConfig(input: unknown): MiningPolicyConfig {
  const parsed = MiningPolicyConfig.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Error(`Mining policy setting ${issue.path.join('.') || '(root)'}: ${issue.message}`);
}
