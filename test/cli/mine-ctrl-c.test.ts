import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, fetchState, NyaProcess } from '../browser/nya-process';

/*
 * Ctrl-C in a terminal signals the whole foreground process group: `nya mine` and its teacher
 * workers at once. The workers must leave their shutdown to the miner, and a worker that dies
 * anyway must not take the miner down with a write to its closed channel (EPIPE).
 */
describe('nya mine and Ctrl-C', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nya-ctrl-c-'));
  let nya: NyaProcess | null = null;

  afterAll(async () => {
    await nya?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops cleanly when SIGINT reaches the miner and its teacher workers together', async () => {
    nya = new NyaProcess(['mine', '--data-dir', dataDir, '--dashboard-port', '0'], {}, { group: true });
    const m = await nya.waitFor(/^dashboard: (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)$/m);
    // Both workers running: the miner's teacher and the local validator's.
    await eventually(async () => {
      const s = await fetchState(m[1]!, m[2]!);
      return s.teacher.state === 'ready' && s.resources.teacher !== null && s.resources.recomputeTeacher !== null;
    }, 'both teacher workers running');
    expect(await nya.stop('SIGINT')).toBe(0);
    expect(nya.stderr).not.toMatch(/EPIPE|Unhandled 'error' event/);
    expect(nya.stderr).toMatch(/SIGINT, shutting down/);
  }, 300_000);
});
