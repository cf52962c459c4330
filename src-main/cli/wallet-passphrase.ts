import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WALLET_PASSPHRASE_CREDENTIAL } from '../service/systemd-unit';

export const WALLET_PASSPHRASE_ENV = 'NYA_WALLET_PASSPHRASE';

/**
 * The wallet passphrase for `nya mine`: NYA_WALLET_PASSPHRASE, else the systemd credential
 * `wallet-passphrase` (`LoadCredential[Encrypted]=` in the unit `nya service install` writes,
 * which systemd decrypts into `$CREDENTIALS_DIRECTORY`, readable by this service alone), else null.
 * One trailing newline is dropped: `systemd-ask-password` and editors end the file with one.
 */
export function walletPassphrase(
  env: Record<string, string | undefined> = process.env,
  readText: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): string | null {
  const fromEnv = env[WALLET_PASSPHRASE_ENV];
  if (fromEnv) return fromEnv;
  const dir = env.CREDENTIALS_DIRECTORY;
  if (!dir) return null;
  let text: string;
  try {
    text = readText(join(dir, WALLET_PASSPHRASE_CREDENTIAL));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read the ${WALLET_PASSPHRASE_CREDENTIAL} credential: ${(error as Error).message}`);
  }
  const passphrase = text.replace(/\r?\n$/, '');
  return passphrase === '' ? null : passphrase;
}
