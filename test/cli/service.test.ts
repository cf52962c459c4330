import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runService, type ServiceIo } from '../../src-main/cli/commands/service';

const root = resolve(__dirname, '../..');
const cliPath = join(root, 'bin', 'nya.cjs');

function fakeIo(over: Partial<ServiceIo> & { existingUsers?: string[]; groups?: string[] } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const commands: string[] = [];
  const io: ServiceIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    exec: (file, args) => {
      commands.push([file, ...args].join(' '));
      if (file === 'getent' && args[0] === 'group')
        return { status: (over.groups ?? ['video', 'render']).includes(args[1]!) ? 0 : 2, stderr: '' };
      if (file === 'getent') return { status: (over.existingUsers ?? []).includes(args[1]!) ? 0 : 2, stderr: '' };
      return { status: 0, stderr: '' };
    },
    isRoot: true,
    platform: 'linux',
    nodePath: process.execPath,
    cliPath,
    ...over,
  };
  return { io, out, err, commands };
}

let unitDir: string;
beforeEach(() => {
  unitDir = mkdtempSync(join(tmpdir(), 'nya-unit-'));
});
afterEach(() => rmSync(unitDir, { recursive: true, force: true }));

function dryRunUnit(args: string[] = [], groups?: string[]): string {
  const { io, out, commands } = fakeIo({ isRoot: false, ...(groups ? { groups } : {}) });
  expect(runService(['install', '--dry-run', ...args], io)).toBe(0);
  // Read-only look-ups only: which GPU groups exist.
  expect(commands).toEqual(['getent group video', 'getent group render']);
  return out.join('\n');
}

describe('nya service install --dry-run', () => {
  it('prints a unit for a dedicated user, its state directory, the passphrase as an encrypted credential', () => {
    const unit = dryRunUnit(['--validator', 'https://validator.example.org', '--ep', 'cuda']);
    expect(unit).toContain(
      `ExecStart=${process.execPath} ${cliPath} mine --data-dir %S/nya-miner --dashboard-port 7420 --validator https://validator.example.org --ep cuda`,
    );
    for (const line of [
      'User=nya-miner',
      'Group=nya-miner',
      'StateDirectory=nya-miner',
      'LoadCredentialEncrypted=wallet-passphrase:/etc/credstore.encrypted/nya-miner.wallet-passphrase',
      'Restart=on-failure',
      'SupplementaryGroups=video render',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'DevicePolicy=closed',
      'DeviceAllow=char-nvidia-frontend rw',
      'DeviceAllow=char-nvidia-uvm rw',
      'DeviceAllow=char-drm rw',
      'WantedBy=multi-user.target',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
    // A GPU program must reach /dev/nvidia*, and V8 needs W+X memory for its JIT.
    expect(unit).not.toMatch(/^PrivateDevices=yes/m);
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
    // The passphrase itself is never in the unit.
    expect(unit).not.toMatch(/NYA_WALLET_PASSPHRASE|^Environment=/m);
  });

  it('names only the GPU groups this system has: systemd will not start a unit with a missing one', () => {
    expect(dryRunUnit([], ['video']).split('\n')).toContain('SupplementaryGroups=video');
    expect(dryRunUnit([], [])).not.toContain('SupplementaryGroups=');
  });

  it('uses LoadCredential= with --plain-credential and quotes what systemd would split', () => {
    const unit = dryRunUnit(['--plain-credential', '--model', '/srv/models/mistral 7b']);
    expect(unit.split('\n')).toContain('LoadCredential=wallet-passphrase:/etc/credstore/nya-miner.wallet-passphrase');
    expect(unit).toContain('--model "/srv/models/mistral 7b"');
  });

  // systemd-analyze verify loads the unit as systemd would: unknown keys, bad values and a missing
  // ExecStart binary are reported. It needs no running systemd, so it works in a container.
  const analyze = spawnSync('systemd-analyze', ['--version']);
  it.skipIf(analyze.error !== undefined)(
    'passes systemd-analyze verify without a warning (skipped only where systemd is not installed)',
    () => {
      for (const args of [
        [],
        ['--plain-credential', '--model', '/srv/models/mistral 7b', '--validator', 'https://v.example.org/?a=1&b=%41'],
      ]) {
        const path = join(unitDir, 'nya-miner.service');
        writeFileSync(path, dryRunUnit(args));
        const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
        expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      }
      // The check is real: a typo is reported.
      const path = join(unitDir, 'nya-miner.service');
      writeFileSync(path, dryRunUnit().replace('Restart=on-failure', 'Restart=on-failur'));
      expect(spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' }).stderr).toMatch(/restart/i);
    },
  );
});

describe('nya service install / uninstall', () => {
  it('creates the user when missing, writes the unit 0644, reloads systemd and says what comes next', () => {
    const { io, out, commands } = fakeIo();
    expect(runService(['install', '--unit-dir', unitDir], io)).toBe(0);
    const unitPath = join(unitDir, 'nya-miner.service');
    expect(readFileSync(unitPath, 'utf8')).toBe(dryRunUnit());
    expect(statSync(unitPath).mode & 0o777).toBe(0o644);
    expect(commands).toEqual([
      'getent group video',
      'getent group render',
      'getent passwd nya-miner',
      'useradd --system --user-group --no-create-home --home-dir /var/lib/nya-miner --shell /usr/sbin/nologin nya-miner',
      'systemctl daemon-reload',
    ]);
    const text = out.join('\n');
    expect(text).toContain('systemd-creds encrypt --name=wallet-passphrase');
    expect(text).toContain('systemctl enable --now nya-miner');
  });

  it('keeps an existing user', () => {
    const { io, commands } = fakeIo({ existingUsers: ['nya-miner'] });
    expect(runService(['install', '--unit-dir', unitDir], io)).toBe(0);
    expect(commands).toEqual(['getent group video', 'getent group render', 'getent passwd nya-miner', 'systemctl daemon-reload']);
  });

  it('uninstall stops the service, removes the unit and keeps the data folder', () => {
    const install = fakeIo({ existingUsers: ['nya-miner'] });
    runService(['install', '--unit-dir', unitDir], install.io);
    const { io, out, commands } = fakeIo();
    expect(runService(['uninstall', '--unit-dir', unitDir], io)).toBe(0);
    expect(existsSync(join(unitDir, 'nya-miner.service'))).toBe(false);
    expect(commands).toEqual(['systemctl disable --now nya-miner.service', 'systemctl daemon-reload']);
    expect(out.join('\n')).toContain('kept: /var/lib/nya-miner');
  });

  it('refuses without root, off Linux, and with a bad user name, changing nothing', () => {
    for (const [over, args, code] of [
      [{ isRoot: false }, ['install'], 1],
      [{ platform: 'win32' }, ['uninstall'], 1],
      [{}, ['install', '--user', 'root; rm -rf /'], 2],
      [{}, ['restart'], 2],
    ] as const) {
      const { io, err, commands } = fakeIo(over as Partial<ServiceIo>);
      expect(runService([...args, '--unit-dir', unitDir], io)).toBe(code);
      expect(err.join('\n').length).toBeGreaterThan(10);
      expect(commands).toEqual([]);
    }
    expect(existsSync(join(unitDir, 'nya-miner.service'))).toBe(false);
  });
});
