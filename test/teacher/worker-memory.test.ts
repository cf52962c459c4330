import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessUsage } from '../../src-shared/state';
import { DEFAULT_SETTINGS } from '../../src-shared/state';
import { forkLauncher, TeacherHost } from '../../src-main/teacher';
import { benchDocuments } from '../../src-main/teacher/bench';
import { bundleWorker, tempDemoModel } from './fixtures';

/**
 * The demo teacher on the CPU with the default settings, as `nya mine` runs it on a machine with no
 * GPU. Its worker's peak resident memory is what the process itself reports (`maxRSS`), so a busy
 * machine makes this slower, not different. 4,096-token batches peaked at 1.4 GiB here; the CPU
 * budget of 1,024 at about 0.5 GiB (docs/PERFORMANCE.md, "Teacher memory on the CPU").
 */
const WORKER_PEAK_BOUND_BYTES = 768 * 1024 * 1024;
/** Between tasks: without the CPU arena the worker gives its batches' memory back (~250 MiB; ~760 MiB with it). */
const WORKER_IDLE_BOUND_BYTES = 384 * 1024 * 1024;

let workerPath: string;
let root: string;
let modelDir: string;

beforeAll(async () => {
  workerPath = await bundleWorker('memory');
  ({ root, modelDir } = tempDemoModel('nya-memory-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(workerPath, { force: true });
});

describe('the teacher worker on the CPU', () => {
  it(`peaks under ${WORKER_PEAK_BOUND_BYTES / 1048576} MiB with the default batch budget, gives it back, and says what it uses`, async () => {
    const reports: (ProcessUsage | null)[] = [];
    const teacher = new TeacherHost({
      launcher: forkLauncher,
      workerPath,
      modelDir,
      cacheDir: join(root, 'cache'),
      executionProvider: 'cpu',
      maxBatchTokens: DEFAULT_SETTINGS.maxBatchTokens,
      onUsage: (u) => reports.push(u),
    });
    try {
      await teacher.start();
      // Long documents (up to the 1,024-token sequence), enough for several full batches.
      const docs = await teacher.label({ taskId: 'memory', k: 16, seqLen: 1024, documents: benchDocuments(16, 3) });
      expect(docs).toHaveLength(16);
      await teacher.label({ taskId: 'memory-2', k: 16, seqLen: 1024, documents: benchDocuments(12, 4) });
      // The next report (every 2 s) carries the peak reached during the task.
      const seen = reports.length;
      while (reports.length === seen) await new Promise((r) => setTimeout(r, 100));
      const last = reports[reports.length - 1]!;
      expect(last.rssBytes).toBeGreaterThan(0);
      expect(last.maxRssBytes).toBeGreaterThanOrEqual(last.rssBytes);
      expect(reports.some((u) => u !== null && u.cpuPct !== null)).toBe(true);
      expect(last.maxRssBytes).toBeLessThan(WORKER_PEAK_BOUND_BYTES);
      expect(last.rssBytes).toBeLessThan(WORKER_IDLE_BOUND_BYTES);
    } finally {
      await teacher.dispose();
    }
    expect(reports[reports.length - 1]).toBeNull();
  });
});
