import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseComputeApps, parseGpuQuery } from '../../src-main/gpu';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/nvidia-smi', name), 'utf8');

describe('parseGpuQuery', () => {
  it('reads every field of an RTX 4090 on driver 550', () => {
    const { gpus, problems } = parseGpuQuery(fixture('rtx4090-driver550.csv'));
    expect(problems).toEqual([]);
    expect(gpus).toEqual([
      {
        index: 0,
        name: 'NVIDIA GeForce RTX 4090',
        driver: '550.54.14',
        utilizationPct: 97,
        memoryUsedMiB: 21345,
        memoryTotalMiB: 24564,
        tempC: 71,
        powerW: 412.35,
        powerLimitW: 450,
        fanPct: 68,
        smClockMHz: 2730,
        memClockMHz: 10501,
      },
    ]);
  });

  it('reads the header-and-units form by header name', () => {
    const { gpus, problems } = parseGpuQuery(fixture('rtx4090-driver560-header-units.csv'));
    expect(problems).toEqual([]);
    expect(gpus).toHaveLength(1);
    expect(gpus[0]).toMatchObject({
      driver: '560.35.03',
      utilizationPct: 3,
      memoryUsedMiB: 1043,
      powerW: 31.27,
      powerLimitW: 450,
      fanPct: 0,
      smClockMHz: 210,
      memClockMHz: 405,
    });
  });

  it('maps columns by header even when the order differs from our query', () => {
    const text = 'name, index, temperature.gpu, power.draw [W]\r\nNVIDIA GeForce RTX 4070, 0, 55, 120.5 W\r\n';
    const { gpus } = parseGpuQuery(text);
    expect(gpus[0]).toMatchObject({ index: 0, name: 'NVIDIA GeForce RTX 4070', tempC: 55, powerW: 120.5 });
    expect(gpus[0]?.utilizationPct).toBeNull();
  });

  it('turns [N/A] into null on a Windows laptop (CRLF)', () => {
    const { gpus, problems } = parseGpuQuery(fixture('rtx3060-laptop-driver536-windows.csv'));
    expect(problems).toEqual([]);
    expect(gpus[0]).toMatchObject({
      name: 'NVIDIA GeForce RTX 3060 Laptop GPU',
      powerW: null,
      powerLimitW: null,
      fanPct: null,
      tempC: 52,
      memClockMHz: 7000,
    });
  });

  it('turns [Not Supported] into null on an old driver', () => {
    const { gpus } = parseGpuQuery(fixture('gtx1080-driver470.csv'));
    expect(gpus[0]).toMatchObject({
      name: 'GeForce GTX 1080',
      driver: '470.256.02',
      utilizationPct: null,
      powerW: null,
      powerLimitW: 180,
      fanPct: 27,
    });
  });

  it('reads a passively cooled A100 with no fan', () => {
    const { gpus } = parseGpuQuery(fixture('a100-driver535.csv'));
    expect(gpus[0]).toMatchObject({ name: 'NVIDIA A100-SXM4-80GB', fanPct: null, memoryTotalMiB: 81920 });
  });

  it('reads every GPU of a multi-GPU rig', () => {
    const { gpus } = parseGpuQuery(fixture('2x-rtx3090-driver550.csv'));
    expect(gpus.map((gpu) => [gpu.index, gpu.utilizationPct, gpu.tempC])).toEqual([
      [0, 99, 74],
      [1, 0, 33],
    ]);
  });

  it('keeps the good rows and reports a lost GPU line as a problem', () => {
    const { gpus, problems } = parseGpuQuery(fixture('gpu-lost-driver550.csv'));
    expect(gpus.map((gpu) => gpu.index)).toEqual([0]);
    expect(problems).toEqual(['Unable to determine the device handle for GPU0000:02:00.0: Unknown Error']);
  });

  it('folds a comma inside the name back into the name', () => {
    const { gpus } = parseGpuQuery('0, Odd, Board, 550.1, 1, 2, 3, 4, 5, 6, 7, 8, 9\n');
    expect(gpus[0]).toMatchObject({ name: 'Odd, Board', driver: '550.1', utilizationPct: 1, memClockMHz: 9 });
  });

  it('reports a short row instead of guessing its columns', () => {
    const { gpus, problems } = parseGpuQuery('0, NVIDIA GeForce RTX 4090, 550.54.14, 97\n');
    expect(gpus).toEqual([]);
    expect(problems).toHaveLength(1);
  });

  it('finds no GPUs in "No devices were found"', () => {
    const { gpus, problems } = parseGpuQuery(fixture('no-devices.txt'));
    expect(gpus).toEqual([]);
    expect(problems).toEqual(['No devices were found']);
  });
});

describe('parseComputeApps', () => {
  it('reads pids, names and memory on Linux', () => {
    expect(parseComputeApps(fixture('compute-apps-linux.csv'))).toEqual([
      { pid: 48213, name: 'python3', usedMemoryMiB: 20480 },
      { pid: 51002, name: '/usr/lib/blender/blender', usedMemoryMiB: 1532 },
    ]);
  });

  it('reads Windows paths with spaces and [N/A] memory', () => {
    expect(parseComputeApps(fixture('compute-apps-windows.csv'))).toEqual([
      {
        pid: 12044,
        name: 'C:\\Program Files\\Blender Foundation\\Blender 4.1\\blender.exe',
        usedMemoryMiB: null,
      },
      {
        pid: 9876,
        name: 'C:\\Users\\me\\AppData\\Local\\Programs\\nya-miner\\Nya Miner.exe',
        usedMemoryMiB: null,
      },
    ]);
  });

  it('reads "No running processes found" and empty output as nobody', () => {
    expect(parseComputeApps(fixture('compute-apps-none-driver470.txt'))).toEqual([]);
    expect(parseComputeApps('')).toEqual([]);
  });
});
