import { availableParallelism } from 'node:os';
import type { ProcessUsage } from '../../src-shared/state';

/** What a process says about itself: `process.memoryUsage.rss()`, `resourceUsage()` and `cpuUsage()`. */
export interface UsageReading {
  atMs: number;
  rssBytes: number;
  maxRssBytes: number;
  /** User + system CPU time since the process started, in microseconds. */
  cpuUs: number;
}

/** This process, now. */
export function readOwnUsage(nowMs = Date.now()): UsageReading {
  const cpu = process.cpuUsage();
  return {
    atMs: nowMs,
    rssBytes: process.memoryUsage.rss(),
    // resourceUsage() gives kilobytes on every platform Node runs on.
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    cpuUs: cpu.user + cpu.system,
  };
}

export const CORES = availableParallelism();

/**
 * Turns successive readings of one process into `ProcessUsage`: CPU as a share of all cores
 * between the last two readings (100 % is every core busy), so a worker on 2 threads of 2 cores
 * reads 100, not 200 as `top` would.
 */
export class UsageMeter {
  private last: UsageReading | null = null;

  constructor(private readonly cores = CORES) {}

  add(reading: UsageReading): ProcessUsage {
    const previous = this.last;
    this.last = reading;
    const wallUs = previous ? (reading.atMs - previous.atMs) * 1000 : 0;
    const cpuPct =
      previous && wallUs > 0 ? Math.min(100, Math.max(0, (100 * (reading.cpuUs - previous.cpuUs)) / (wallUs * this.cores))) : null;
    return { rssBytes: reading.rssBytes, maxRssBytes: reading.maxRssBytes, cpuPct };
  }
}
