export { execFileRunner, type CommandOutcome, type CommandRunner } from './command-runner';
export { parseComputeApps, parseGpuQuery } from './nvidia-smi-parse';
export { queryOtherGpuProcesses } from './compute-apps';
export { gpuClass, gpuModelName } from './gpu-class';
export { GpuMonitor } from './gpu-monitor';
export { type GraphicsController } from './system-graphics';
export { deviceMemoryMiB, GPU_MEMORY_ENV, gpuMemoryOverrideMiB, parseGpuMemoryMiB } from './gpu-memory';
