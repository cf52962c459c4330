import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Network } from '../../src-shared/network';
import { DEFAULT_SETTINGS } from '../../src-shared/state';
import { effectiveSettings, loadNetworks, mergeNetworks, NetworkFileError, parseNetworkFile } from '../../src-main/settings/networks';

const net = (name: string, validators: string[] = [], communeRpc: string | null = null): Network => ({
  name,
  label: `The ${name} network`,
  validators,
  communeRpc,
  explorer: null,
});
const file = (networks: unknown[]) => JSON.stringify({ version: 1, networks });

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'nya-networks-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('network file', () => {
  it('the bundled file parses, holds local, and local runs the embedded validator', () => {
    const list = loadNetworks(dataDir);
    expect(list.problem).toBeNull();
    expect(list.defaultNetwork).toBe('local');
    const local = list.networks.find((n) => n.name === 'local');
    expect(local?.validators).toEqual([]);
    expect(effectiveSettings(DEFAULT_SETTINGS, list).validatorUrl).toBeNull();
  });

  it('refuses a malformed file with the field that is wrong, and a name given twice', () => {
    expect(() => parseNetworkFile('{', 'n.json')).toThrow(/n\.json is not JSON/);
    expect(() => parseNetworkFile(file([{ ...net('Main Net') }]), 'n.json')).toThrow(/n\.json is malformed at networks\.0\.name/);
    expect(() => parseNetworkFile(file([{ ...net('a'), validators: ['not a url'] }]), 'n.json')).toThrow(/networks\.0\.validators\.0/);
    expect(() => parseNetworkFile(file([{ ...net('a'), extra: 1 }]), 'n.json')).toThrow(NetworkFileError);
    expect(() => parseNetworkFile(JSON.stringify({ version: 2, networks: [] }), 'n.json')).toThrow(/version/);
    expect(() => parseNetworkFile(file([net('a'), net('a')]), 'n.json')).toThrow(/names the network 'a' twice/);
  });

  it("merges the data folder's networks over the bundled ones by name", () => {
    const merged = mergeNetworks([net('local'), net('test', ['https://old.example'])], [net('test', ['https://new.example']), net('mine')]);
    expect(merged.map((n) => [n.name, n.validators[0] ?? null])).toEqual([
      ['local', null],
      ['test', 'https://new.example'],
      ['mine', null],
    ]);
  });

  it('loads an operator network from the data folder; a malformed one is reported and left out', () => {
    writeFileSync(join(dataDir, 'networks.json'), file([net('lab', ['https://v.lab.example/nya'], 'wss://rpc.lab.example')]));
    const list = loadNetworks(dataDir);
    expect(list.networks.map((n) => n.name)).toEqual(['local', 'lab']);
    writeFileSync(join(dataDir, 'networks.json'), file([{ name: 'lab' }]));
    const broken = loadNetworks(dataDir);
    expect(broken.networks.map((n) => n.name)).toEqual(['local']);
    expect(broken.problem).toMatch(/networks\.json is malformed at networks\.0\.label.*using the bundled networks only/);
  });
});

describe('effective settings', () => {
  const list = {
    networks: [net('local'), net('lab', ['https://v1.example', 'https://v2.example'], 'wss://rpc.example')],
    defaultNetwork: 'lab',
    problem: null,
  };

  it("take the chosen network's first validator and its RPC; the build's default when none is chosen", () => {
    expect(effectiveSettings(DEFAULT_SETTINGS, list)).toMatchObject({
      validatorUrl: 'https://v1.example',
      communeRpcUrl: 'wss://rpc.example',
    });
    expect(effectiveSettings({ ...DEFAULT_SETTINGS, network: 'local' }, list)).toMatchObject({ validatorUrl: null, communeRpcUrl: null });
  });

  it('keep what the user set over the network', () => {
    const s = { ...DEFAULT_SETTINGS, network: 'lab', validatorUrl: 'https://mine.example', communeRpcUrl: 'wss://own.example' };
    expect(effectiveSettings(s, list)).toMatchObject({ validatorUrl: 'https://mine.example', communeRpcUrl: 'wss://own.example' });
  });

  it('run locally for a network name no file holds any more', () => {
    expect(effectiveSettings({ ...DEFAULT_SETTINGS, network: 'gone' }, list).validatorUrl).toBeNull();
  });
});
