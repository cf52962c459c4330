import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INVOKE_CHANNELS, type InvokeChannel } from '../../src-shared/channels';
import { HISTORY_METRICS, IPC } from '../../src-shared/ipc';
import { StateSnapshot } from '../../src-shared/state';
import { createHandlers } from '../../src-main/ipc/handlers';
import { createIpcRouter, type IpcRouter } from '../../src-main/ipc/router';
import { LogHub, silentLogger } from '../../src-node/log';
import { SettingsStore } from '../../src-main/settings/settings-store';
import { initialState } from '../../src-main/state/initial-state';
import { LogRing } from '../../src-main/state/log-ring';
import { StateStore } from '../../src-main/state/state-store';

/**
 * The contract, channel by channel: a good request answers `ok` with a value its response schema
 * accepts; every malformed one answers `bad-request` and leaves the state and the files on disk as
 * they were.
 */
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const IDLE_BALANCE = { state: 'idle' as const };

const GOOD: { [C in InvokeChannel]: unknown } = {
  'state:get': {},
  'miner:set-paused': { paused: true, forMs: 60_000 },
  'settings:update': { patch: { maxBatchTokens: 2048 } },
  'logs:get': { minLevel: 'warn', search: 'disk', limit: 10 },
  'history:get': { range: '10m' },
  'validator:leaderboard': { page: 1, pageSize: 25 },
  'validator:ledger': {},
  'model:catalog': {},
  'model:download': { variantId: 'mistral-7b-instruct-v0.3-int4' },
  'model:cancel': {},
  'network:list': {},
  'wallet:status': {},
  'wallet:create': {},
  'wallet:import': { kind: 'mnemonic-file', filePath: '/home/me/phrase.txt' },
  'wallet:export': { kind: 'polkadot-json', filePath: '/home/me/key.json', password: 'long enough' },
  'wallet:remove': { confirmAddress: ALICE },
  'wallet:start-payout-link': { payoutAddress: ALICE },
  'wallet:submit-payout-signature': { payoutAddress: ALICE, challengeId: 'c1', signature: `0x${'ab'.repeat(64)}` },
  'wallet:refresh-balance': {},
  'diagnostics:export': {},
};

const BAD: { [C in InvokeChannel]: unknown[] } = {
  'state:get': [{ extra: 1 }, 'state', 42, [], { __proto__: { polluted: true }, x: 1 }],
  'miner:set-paused': [{}, { paused: 'yes' }, { paused: true, forMs: -5 }, { paused: true, forMs: 1e12 }, { paused: true, extra: 1 }, null],
  'settings:update': [
    {},
    { patch: { validatorUrl: 'not a url' } },
    { patch: { maxBatchTokens: 10 } },
    { patch: { maxBatchTokens: 2048.5 } },
    { patch: { executionProvider: 'tpu' } },
    { patch: { unknownKey: true } },
    { patch: { gpuDeviceId: -1 } },
    { patch: 'all' },
  ],
  'logs:get': [{ minLevel: 'loud' }, { limit: 0 }, { limit: 1e9 }, { search: 'x'.repeat(201) }, { extra: true }],
  'history:get': [{}, { range: '1y' }, { range: 10 }],
  'validator:leaderboard': [
    {},
    { page: 0, pageSize: 25 },
    { page: 1, pageSize: 1000 },
    { page: 1, pageSize: 25, gpuClass: '' },
    { page: '1', pageSize: 25 },
  ],
  'validator:ledger': [{ before: 5 }, { before: 'x'.repeat(129) }, { after: 'x' }, { limit: 0 }, { limit: 500 }, { limit: 2.5 }],
  'model:catalog': [{ refresh: true }, []],
  'model:download': [{}, { variantId: '' }, { variantId: 7 }, { variantId: 'x'.repeat(65) }, { variantId: '../escape' }],
  'model:cancel': [{ now: true }],
  'network:list': [{ name: 'local' }, 'local'],
  'wallet:status': [{ secret: true }],
  'wallet:create': [{ mnemonic: 'bottom drive obey lake curtain smoke basket hold race lonely fit walk' }],
  'wallet:import': [
    { kind: 'raw-seed', filePath: '/x' },
    { kind: 'comx', filePath: '' },
    { kind: 'comx' },
    { kind: 'comx', filePath: '/x', seed: '0x00' },
  ],
  'wallet:export': [
    {},
    { kind: 'seed' },
    { kind: 'mnemonic', filePath: '/x' },
    { kind: 'polkadot-json', filePath: '/x', password: 'short' },
    { kind: 'polkadot-json', password: 'long enough' },
  ],
  'wallet:remove': [{}, { confirmAddress: 'not an address' }],
  'wallet:start-payout-link': [{ payoutAddress: '0OIl'.repeat(12) }, { payoutAddress: 42 }],
  'wallet:submit-payout-signature': [
    { payoutAddress: ALICE, challengeId: 'c1' },
    { payoutAddress: ALICE, challengeId: 'c1', signature: '0x1234' },
    { payoutAddress: ALICE, challengeId: '', signature: `0x${'ab'.repeat(64)}` },
  ],
  'wallet:refresh-balance': [{ endpoint: 'wss://evil' }],
  'diagnostics:export': [{ path: '/etc/passwd' }, { includeSecrets: true }],
};

describe('IPC contract', () => {
  let dir: string;
  let router: IpcRouter;
  let state: StateStore;
  let settings: SettingsStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nya-ipc-'));
    const hub = new LogHub();
    const logs = new LogRing();
    hub.attach(logs.sink);
    hub.logger('disk').warn('disk almost full');
    settings = new SettingsStore(dir, silentLogger);
    state = new StateStore(initialState(settings.get()), { logTail: () => logs.tail(50) });
    let paused = false;
    const miner = state.writer('test miner', 'miner');
    const settingsCopy = state.writer('test settings', 'settings');
    router = createIpcRouter(
      createHandlers({
        state,
        logs,
        setPaused: (p, forMs) => {
          paused = p;
          miner.update((s) => ({ miner: { ...s.miner, userPaused: paused, pausedUntilMs: forMs ? Date.now() + forMs : null } }));
          return state.get().miner;
        },
        updateSettings: (patch) => {
          const next = settings.update(patch);
          settingsCopy.update({ settings: next });
          return next;
        },
        history: (range) => ({ range, tMs: [0], series: Object.fromEntries(HISTORY_METRICS.map((m) => [m, [1]])) as never }),
        validator: () => ({
          leaderboard: async (q) => ({ page: q.page, pageSize: q.pageSize, total: 0, rows: [] }),
          ledger: async () => ({ entries: [], next: null }),
        }),
        modelCatalog: async () => ({ variants: [], recommended: { variantId: 'x', fitsGpu: false, reason: 'r' }, manifestError: null }),
        downloadModel: (variantId) => ({ ...state.get().modelDownload, status: 'downloading', variantId }),
        cancelModelDownload: () => state.get().modelDownload,
        networks: () => ({ networks: [], defaultNetwork: 'local', problem: null }),
        exportDiagnostics: () => ({ path: join(dir, 'diagnostics', 'report.txt') }),
        wallet: {
          status: () => ({
            miningAddress: ALICE,
            keySource: 'created',
            hasMnemonic: true,
            payoutAddress: null,
            payoutLinked: false,
            balance: IDLE_BALANCE,
          }),
          create: async () => ({ address: ALICE }),
          requestImport: async () => ({ address: ALICE, keySource: 'mnemonic' }),
          remove: () => ({ removed: true }),
          exportKey: async () => ({ exported: 'polkadot-json' as const, filePath: '/home/me/key.json' }),
          startPayoutLink: async () => ({
            challengeId: 'c1',
            message: 'sign me',
            expiresAtMs: Date.now() + 60_000,
            linkUrl: 'http://127.0.0.1:1/x',
            miningAddress: ALICE,
            payoutAddress: ALICE,
          }),
          submitPayoutSignature: async () => ({ payoutAddress: ALICE, linked: true as const }),
          refreshBalance: async () => IDLE_BALANCE,
        } as never,
      }),
      silentLogger,
    );
  });
  afterEach(() => {
    state.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('covers every channel in the tables', () => {
    expect(Object.keys(GOOD).sort()).toEqual([...INVOKE_CHANNELS].sort());
    expect(Object.keys(BAD).sort()).toEqual([...INVOKE_CHANNELS].sort());
  });

  for (const channel of INVOKE_CHANNELS) {
    it(`${channel}: a valid request answers ok with a well-formed value`, async () => {
      const result = await router.invoke(channel, GOOD[channel]);
      expect(result.ok, JSON.stringify(result)).toBe(true);
      if (result.ok) expect(IPC[channel].response.safeParse(result.value).success).toBe(true);
    });

    for (const [i, payload] of BAD[channel].entries()) {
      it(`${channel}: malformed payload #${i} is refused and changes nothing`, async () => {
        const before = state.get();
        const fileBefore = existsSync(settings.path) ? readFileSync(settings.path, 'utf8') : null;
        const result = await router.invoke(channel, payload);
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.error.code).toBe('bad-request');
          expect(result.error.message).toContain(channel);
        }
        const after = state.get();
        expect({ ...after, atMs: 0 }).toEqual({ ...before, atMs: 0 });
        expect(existsSync(settings.path) ? readFileSync(settings.path, 'utf8') : null).toBe(fileBefore);
      });
    }
  }

  it('refuses unknown channels, non-string channels and prototype keys', async () => {
    for (const channel of ['wallet:secret', '__proto__', 'constructor', 42, null, { toString: () => 'state:get' }]) {
      const result = await router.invoke(channel, {});
      expect(result).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
    }
  });

  it('applies a valid settings change, persists it and shows it in the snapshot', async () => {
    const result = await router.invoke('settings:update', { patch: { validatorUrl: 'https://validator.example.org' } });
    expect(result.ok).toBe(true);
    expect(JSON.parse(readFileSync(settings.path, 'utf8')).validatorUrl).toBe('https://validator.example.org');
    expect(state.get().settings.validatorUrl).toBe('https://validator.example.org');
    expect(StateSnapshot.safeParse(state.get()).success).toBe(true);
  });

  it('turns a service refusal into a typed error and a crash into `internal`', async () => {
    const resume = await router.invoke('miner:set-paused', { paused: false, forMs: 1000 });
    // Strict: the error is a plain object, as it must be to cross IPC and the WebSocket.
    expect(resume).toStrictEqual({ ok: false, error: { code: 'bad-request', message: '`forMs` only applies to a pause' } });
    const crashing = createIpcRouter(
      {
        ...createHandlers({} as never),
        'state:get': () => {
          throw new Error('boom');
        },
      },
      silentLogger,
    );
    expect(await crashing.invoke('state:get', {})).toMatchObject({ ok: false, error: { code: 'internal' } });
  });
});
