import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { walletPassphrase } from '../../src-main/cli/wallet-passphrase';

const credentials = mkdtempSync(join(tmpdir(), 'nya-creds-'));
afterAll(() => rmSync(credentials, { recursive: true, force: true }));

describe('walletPassphrase', () => {
  it('reads the systemd credential from $CREDENTIALS_DIRECTORY, without its trailing newline', () => {
    writeFileSync(join(credentials, 'wallet-passphrase'), 'correct horse battery staple\n');
    expect(walletPassphrase({ CREDENTIALS_DIRECTORY: credentials })).toBe('correct horse battery staple');
  });

  it('prefers NYA_WALLET_PASSPHRASE, and is null when neither is there', () => {
    expect(walletPassphrase({ NYA_WALLET_PASSPHRASE: 'from env', CREDENTIALS_DIRECTORY: credentials })).toBe('from env');
    expect(walletPassphrase({})).toBeNull();
    expect(walletPassphrase({ CREDENTIALS_DIRECTORY: join(credentials, 'other-service') })).toBeNull();
  });

  it('says so when the credential exists but cannot be read', () => {
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    expect(() =>
      walletPassphrase({ CREDENTIALS_DIRECTORY: credentials }, () => {
        throw denied;
      }),
    ).toThrow(/cannot read the wallet-passphrase credential/);
  });
});
