import type { GpuState } from '../../src-shared/state';

/** `NYA_GPU_MEMORY_MIB`: the GPU memory to choose a teacher for, instead of the card's (rigs, tests). */
export const GPU_MEMORY_ENV = 'NYA_GPU_MEMORY_MIB';

/** A whole, non-negative number of MiB, or a sentence saying what is wrong. */
export function parseGpuMemoryMiB(text: string, where: string): number {
  const mib = Number(text);
  if (text.trim() === '' || !Number.isInteger(mib) || mib < 0) throw new Error(`${where} must be a whole number of MiB, got '${text}'`);
  return mib;
}

/** The override from the environment, or null when none is set. */
export function gpuMemoryOverrideMiB(env: NodeJS.ProcessEnv = process.env): number | null {
  const text = env[GPU_MEMORY_ENV];
  return text === undefined || text === '' ? null : parseGpuMemoryMiB(text, GPU_MEMORY_ENV);
}

/** The chosen device's memory in a GPU reading; null when it has none or no such device. */
export function deviceMemoryMiB(state: GpuState, deviceIndex: number): number | null {
  return state.gpus.find((g) => g.index === deviceIndex)?.memoryTotalMiB ?? null;
}
