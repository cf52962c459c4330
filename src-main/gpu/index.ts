export { execFileRunner, firstLine, type CommandOutcome, type CommandRunner } from './command-runner';
export {
  COMPUTE_APPS_ARGS,
  GPU_QUERY_ARGS,
  GPU_QUERY_FIELDS,
  parseComputeApps,
  parseGpuQuery,
  type GpuProcess,
  type GpuQueryParse,
} from './nvidia-smi-parse';
export { queryOtherGpuProcesses } from './compute-apps';
export { gpuClass, gpuModelName } from './gpu-class';
export { GpuMonitor, type GpuMonitorOptions } from './gpu-monitor';
export { controllersToTelemetry, systeminformationGraphics, type GraphicsController, type SystemGraphics } from './system-graphics';
