import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Settings } from '../../src-shared/state';
import { Emitter } from '../../src-node/event';
import { silentLogger } from '../../src-node/log';
import { ModelError, type ModelVariant } from '../../src-main/model-manager';
import { IDLE_DOWNLOAD, type ModelDownloadState } from '../../src-main/model-manager/download-service';
import { TeacherProvisioner } from '../../src-main/model-manager/teacher-provisioner';

const variant = (id: string, minVramMiB: number): ModelVariant => ({
  id,
  label: id,
  isDemo: false,
  diskBytes: 1e9,
  minVramMiB,
  modelHash: 'a'.repeat(64),
  files: [{ name: 'model.onnx', urls: ['https://v.example/x'], sha256: 'b'.repeat(64), bytes: 1 }],
});

function setup(answers: Array<() => Promise<ModelVariant[]>>, initial: Partial<Settings> = { validatorUrl: 'https://v.example' }) {
  let current: Settings = { ...DEFAULT_SETTINGS, ...initial };
  const changed = new Emitter<{ before: Settings; after: Settings }>();
  const fetched: string[] = [];
  const failures: unknown[] = [];
  let asked = 0;
  let fetchOutcome: Partial<ModelDownloadState> = { status: 'done' };
  const provisioner = new TeacherProvisioner({
    settings: { get: () => current, onChange: changed.event },
    models: {
      variants: () => answers[Math.min(asked++, answers.length - 1)]!(),
      fetch: async (v) => {
        fetched.push(v.id);
        return { ...IDLE_DOWNLOAD, variantId: v.id, ...fetchOutcome } as ModelDownloadState;
      },
      downloads: { cancel: () => undefined, failed: (_id: string | null, e: unknown) => failures.push(e) } as never,
    },
    vramMiB: async () => 8192,
    log: silentLogger,
    retry: { baseMs: 1, capMs: 1, floorMs: 1 },
  });
  const waits: (string | null)[] = [];
  provisioner.onChange(() => waits.push(provisioner.wait(current)?.reason ?? null));
  const set = (patch: Partial<Settings>) => {
    const before = current;
    current = { ...current, ...patch };
    changed.fire({ before, after: current });
  };
  return {
    provisioner,
    fetched,
    failures,
    waits,
    set,
    get: () => current,
    setOutcome: (o: Partial<ModelDownloadState>) => (fetchOutcome = o),
  };
}

describe('TeacherProvisioner', () => {
  it('asks the validator, retries after a failure, then downloads the largest variant that fits', async () => {
    const t = setup([
      () => Promise.reject(new ModelError('network', 'cannot ask https://v.example/v1/model')),
      async () => [variant('int4', 5632), variant('fp16', 15360)],
    ]);
    t.provisioner.start();
    while (t.fetched.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(t.fetched).toEqual(['int4']);
    expect(t.waits[0]).toBe('Asking the validator which teacher to run');
    expect(t.waits[1]).toMatch(/^Could not get the teacher: cannot ask https:\/\/v\.example\/v1\/model\. Trying again at /);
    expect(t.waits).toContain('Getting the teacher: int4 (1.0 GB)');
    expect(t.failures).toHaveLength(1);
    t.provisioner.dispose();
  });

  it('mines with what is here when the validator offers no download', async () => {
    const t = setup([async () => []]);
    t.provisioner.start();
    await new Promise<void>((resolve) => t.provisioner.onChange(() => t.provisioner.wait(t.get()) === null && resolve()));
    expect(t.fetched).toEqual([]);
    t.provisioner.dispose();
  });

  it('waits for nothing with a model folder set or in local mode, and does not retry a cancelled download', async () => {
    const local = setup([async () => [variant('int4', 0)]], { validatorUrl: null });
    local.provisioner.start();
    expect(local.provisioner.wait(local.get())).toBeNull();
    const t = setup([async () => [variant('int4', 0)]]);
    t.setOutcome({ status: 'error', error: 'the download was cancelled', errorCode: 'aborted' });
    t.provisioner.start();
    while (!t.waits.at(-1)?.startsWith('Could not get the teacher')) await new Promise((r) => setTimeout(r, 5));
    expect(t.waits.at(-1)).toBe('Could not get the teacher: the download was cancelled.');
    t.set({ modelDir: '/models/int4' });
    expect(t.provisioner.wait(t.get())).toBeNull();
    expect(t.fetched).toEqual(['int4']);
    t.provisioner.dispose();
  });
});
