import { describe, expect, it } from 'vitest';
import type { GpuTelemetry } from '../../src-shared/state';
import { gpuClass, gpuModelName } from '../../src-main/gpu';

describe('gpuModelName', () => {
  it.each([
    ['NVIDIA GeForce RTX 4090', 'RTX 4090'],
    ['GeForce GTX 1080', 'GTX 1080'],
    ['NVIDIA GeForce RTX 3060 Laptop GPU', 'RTX 3060 Laptop'],
    ['NVIDIA A100-SXM4-80GB', 'A100'],
    ['NVIDIA H100 80GB HBM3', 'H100'],
    ['NVIDIA H100 PCIe', 'H100'],
    ['Tesla V100-PCIE-16GB', 'V100'],
    ['NVIDIA RTX A6000', 'RTX A6000'],
    ['AMD Radeon RX 7900 XTX', 'Radeon RX 7900 XTX'],
    ['Intel(R) Arc(TM) A770 Graphics', 'Arc A770 Graphics'],
  ])('%s → %s', (name, expected) => {
    expect(gpuModelName(name)).toBe(expected);
  });
});

describe('gpuClass', () => {
  const gpu = (index: number, name: string): GpuTelemetry => ({
    index,
    name,
    driver: null,
    utilizationPct: null,
    memoryUsedMiB: null,
    memoryTotalMiB: null,
    tempC: null,
    powerW: null,
    powerLimitW: null,
    fanPct: null,
    smClockMHz: null,
    memClockMHz: null,
  });

  it('is "cpu" without a GPU', () => {
    expect(gpuClass([])).toBe('cpu');
  });

  it('names the device the teacher runs on', () => {
    const gpus = [gpu(0, 'NVIDIA GeForce RTX 3060'), gpu(1, 'NVIDIA GeForce RTX 4090')];
    expect(gpuClass(gpus, 1)).toBe('RTX 4090');
    expect(gpuClass(gpus)).toBe('RTX 3060');
  });

  it('falls back to the first GPU when the chosen index is gone', () => {
    expect(gpuClass([gpu(0, 'NVIDIA GeForce RTX 3090')], 3)).toBe('RTX 3090');
  });
});
