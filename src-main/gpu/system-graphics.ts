import type { GpuTelemetry } from '../../src-shared/state';

/** The slice of `systeminformation`'s `graphics()` answer the fallback reads. */
export interface GraphicsController {
  vendor: string;
  model: string;
  name?: string;
  vram: number | null;
  driverVersion?: string;
  utilizationGpu?: number;
  memoryUsed?: number;
  memoryTotal?: number;
  temperatureGpu?: number;
  powerDraw?: number;
  powerLimit?: number;
  fanSpeed?: number;
  clockCore?: number;
  clockMemory?: number;
}

export type SystemGraphics = () => Promise<{ controllers: GraphicsController[] }>;

export const systeminformationGraphics: SystemGraphics = async () => {
  const si = await import('systeminformation');
  return si.graphics();
};

/**
 * Display adapters that can never run the teacher: hypervisor framebuffers, the software
 * renderer, and server BMC chips (ASPEED, Matrox) that drive the console of a GPU-less rig.
 * Counting them would turn "no GPU found" into a phantom card.
 */
const NOT_A_COMPUTE_GPU =
  /microsoft basic|vmware|virtualbox|\bvbox|qxl|cirrus|bochs|llvmpipe|standard vga|hyper-v|aspeed|matrox|parallels|red hat|virtio/i;

export function controllersToTelemetry(controllers: readonly GraphicsController[]): GpuTelemetry[] {
  return controllers
    .filter((c) => !NOT_A_COMPUTE_GPU.test(`${c.vendor} ${c.model} ${c.name ?? ''}`))
    .map((c, index) => ({
      index,
      name: (c.model || c.name || c.vendor).trim(),
      driver: c.driverVersion || null,
      utilizationPct: c.utilizationGpu ?? null,
      memoryUsedMiB: c.memoryUsed ?? null,
      memoryTotalMiB: c.memoryTotal ?? c.vram ?? null,
      tempC: c.temperatureGpu ?? null,
      powerW: c.powerDraw ?? null,
      powerLimitW: c.powerLimit ?? null,
      fanPct: c.fanSpeed ?? null,
      smClockMHz: c.clockCore ?? null,
      memClockMHz: c.clockMemory ?? null,
    }));
}
