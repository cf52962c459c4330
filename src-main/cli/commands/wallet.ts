import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../../../src-node/data-dir';
import { errorMessage } from '../../../src-node/log';
import { backupQuestions, checkBackupAnswers, KeyStore, keyStoreWithoutSecret, passphraseBox, type MiningKeyInfo } from '../../wallet';
import { promptHidden } from '../../wallet/keys/passphrase-prompt';
import { WALLET_PASSPHRASE_ENV as PASSPHRASE_ENV } from '../wallet-passphrase';

/** The terminal, files and environment the command uses; tests pass their own. */
export interface WalletCliIo {
  env: Record<string, string | undefined>;
  out(line: string): void;
  err(line: string): void;
  /** A file's text; '-' reads standard input. */
  readText(path: string): string;
  /** Writes a file only the user can read. */
  writeSecretFile(path: string, text: string): void;
  /** Asks on the terminal; `hidden` for secrets. Throws when there is no terminal. */
  ask(question: string, hidden: boolean): Promise<string>;
  /** A person at a terminal (not a script): only then is the backup checked after `create`. */
  interactive: boolean;
}

const NEW_PASSPHRASE_ENV = 'NYA_WALLET_NEW_PASSPHRASE';
const BACKUP_CHECK_WORDS = 3;
const KEYSTORE_PASSWORD_ENV = 'NYA_KEYSTORE_PASSWORD';
const MIN_PASSPHRASE_CHARS = 8;

const USAGE = `usage: nya wallet <command> [--data-dir DIR]

commands:
  create                         make a new mining key; prints its address and recovery phrase once
  import --mnemonic-file FILE    from a recovery phrase (FILE '-' reads stdin)
  import --seed-file FILE        from a raw 32-byte seed in hex (or --seed HEX)
  import --json FILE             from a polkadot-js keystore (password: ${KEYSTORE_PASSWORD_ENV} or prompt)
  import --comx FILE             from a comx key file (~/.commune/key/NAME.json), plain or encrypted
  show                           the mining key's address and where it came from (never the secret)
  export --mnemonic              print the recovery phrase
  export --json FILE             write a polkadot-js keystore (FILE '-' for stdout)
  passphrase                     change the passphrase (new one: ${NEW_PASSPHRASE_ENV} or prompt)
  remove [--yes]                 delete the mining key (asks first unless --yes)

The key is encrypted at rest with a passphrase from ${PASSPHRASE_ENV} or a prompt.
The data dir defaults to ${defaultDataDir()}, the one 'nya mine' uses.`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  'mnemonic-file': { type: 'string' },
  'seed-file': { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'string' },
  comx: { type: 'string' },
  mnemonic: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

export async function run(argv: string[]): Promise<number> {
  return runWallet(argv, processIo());
}

export async function runWallet(argv: string[], io: WalletCliIo): Promise<number> {
  let flags: Flags;
  let positionals: string[];
  try {
    ({ values: flags, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (error) {
    io.err(`nya wallet: ${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }
  const [command, ...extra] = positionals;
  if (flags.help || !command) {
    (flags.help ? io.out : io.err)(USAGE);
    return flags.help ? 0 : 2;
  }
  const dataDir = resolve(flags['data-dir'] ?? defaultDataDir(io.env));
  try {
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    switch (command) {
      case 'create':
        return await create(dataDir, io);
      case 'import':
        return await importKey(dataDir, flags, io);
      case 'show':
        return show(dataDir, io);
      case 'export':
        return await exportKey(dataDir, flags, io);
      case 'passphrase':
        return await changePassphrase(dataDir, io);
      case 'remove':
        return await remove(dataDir, flags, io);
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`nya wallet: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`nya wallet: ${errorMessage(error)}`);
    return 1;
  }
}

async function create(dataDir: string, io: WalletCliIo): Promise<number> {
  const existing = keyStoreWithoutSecret(dataDir).info();
  if (existing) throw new Error(`A mining key (${existing.address}) already exists in ${dataDir}; 'nya wallet remove' it first.`);
  const store = new KeyStore({ dataDir, box: passphraseBox(await newPassphrase(io)) });
  const { address, mnemonic } = await store.create();
  io.out(`Mining key created: ${address}`);
  io.out(`Stored encrypted in ${store.path}`);
  io.out('');
  io.out('Recovery phrase. It is shown this once: write it down and keep it offline.');
  io.out('Anyone who has it controls this key; without it a lost data dir means a lost key.');
  io.out('');
  io.out(`  ${mnemonic}`);
  io.out('');
  if (io.interactive) await checkBackup(mnemonic, io);
  return 0;
}

/** Asks for a few words by position; a miss keeps the key but says how to see the phrase again. */
async function checkBackup(mnemonic: string, io: WalletCliIo): Promise<void> {
  const answers = [];
  for (const { position } of backupQuestions(mnemonic, BACKUP_CHECK_WORDS)) {
    answers.push({ position, word: await io.ask(`Backup check: word number ${position}? `, false) });
  }
  if (checkBackupAnswers(mnemonic, answers)) io.out('Backup checked.');
  else
    io.err(
      "nya wallet: those words do not match the phrase above. The key is kept; 'nya wallet export --mnemonic' shows the phrase again.",
    );
}

async function changePassphrase(dataDir: string, io: WalletCliIo): Promise<number> {
  const store = new KeyStore({ dataDir, box: passphraseBox(await existingPassphrase(io)) });
  const next = await newSecret(io, NEW_PASSPHRASE_ENV, 'New wallet passphrase: ');
  await store.reseal(passphraseBox(next));
  io.out(`The passphrase of ${store.info()?.address ?? 'the mining key'} is changed.`);
  return 0;
}

async function importKey(dataDir: string, flags: Flags, io: WalletCliIo): Promise<number> {
  const sources = (['mnemonic-file', 'seed-file', 'seed', 'json', 'comx'] as const).filter((name) => flags[name] !== undefined);
  if (sources.length !== 1) throw new UsageError('import takes exactly one of --mnemonic-file, --seed-file, --seed, --json, --comx');
  const source = sources[0]!;
  const existing = keyStoreWithoutSecret(dataDir).info();
  if (existing) throw new Error(`A mining key (${existing.address}) already exists in ${dataDir}; 'nya wallet remove' it first.`);
  if (source === 'seed') io.err('nya wallet: note: a seed on the command line can end up in shell history; --seed-file is safer.');
  // Read and check the input before asking for a passphrase: a typo should not cost a prompt.
  const text = source === 'seed' ? flags.seed! : io.readText(flags[source]!);
  const keyFilePassword =
    source === 'json'
      ? await keyFilePasswordFor('keystore', io)
      : source === 'comx' && isEncryptedComx(text)
        ? await keyFilePasswordFor('comx key file', io)
        : undefined;
  const store = new KeyStore({ dataDir, box: passphraseBox(await newPassphrase(io)) });
  let info: MiningKeyInfo;
  if (source === 'mnemonic-file') info = await store.importMnemonic(text);
  else if (source === 'seed-file' || source === 'seed') info = await store.importSeed(text);
  else if (source === 'json') info = await store.importPolkadotJson(text, keyFilePassword!);
  else info = await store.importComx(text, keyFilePassword);
  io.out(`Mining key imported: ${info.address}`);
  io.out(`Stored encrypted in ${store.path}`);
  return 0;
}

function show(dataDir: string, io: WalletCliIo): number {
  const store = keyStoreWithoutSecret(dataDir);
  const info = store.info();
  if (!info) {
    io.err(`nya wallet: no mining key in ${dataDir}; 'nya wallet create' or 'nya wallet import' makes one.`);
    return 1;
  }
  io.out(`address:   ${info.address}`);
  io.out(`source:    ${info.source}${info.hasMnemonic ? ' (recovery phrase exportable)' : ''}`);
  io.out(`created:   ${new Date(info.createdAtMs).toISOString()}`);
  io.out(`sealed by: ${info.boxKind}`);
  io.out(`file:      ${store.path}`);
  return 0;
}

async function exportKey(dataDir: string, flags: Flags, io: WalletCliIo): Promise<number> {
  if (Boolean(flags.mnemonic) === (flags.json !== undefined)) throw new UsageError('export takes exactly one of --mnemonic, --json FILE');
  const store = new KeyStore({ dataDir, box: passphraseBox(await existingPassphrase(io)) });
  if (flags.mnemonic) {
    io.out(await store.exportMnemonic());
    return 0;
  }
  const password = await newSecret(io, KEYSTORE_PASSWORD_ENV, 'Password for the exported keystore: ');
  const json = await store.exportPolkadotJson(password);
  if (flags.json === '-') io.out(json);
  else {
    io.writeSecretFile(flags.json!, `${json}\n`);
    io.out(`Keystore for ${store.info()!.address} written to ${flags.json}`);
  }
  return 0;
}

async function remove(dataDir: string, flags: Flags, io: WalletCliIo): Promise<number> {
  const store = keyStoreWithoutSecret(dataDir);
  const info = store.info();
  if (!info) {
    io.err(`nya wallet: no mining key in ${dataDir}; nothing to remove.`);
    return 1;
  }
  if (!flags.yes) {
    const answer = await io
      .ask(`Remove mining key ${info.address}? It is gone for good unless you kept its recovery phrase or a keystore. Type 'yes': `, false)
      .catch(() => {
        throw new Error('Removing the key needs a confirmation; run in a terminal or pass --yes.');
      });
    if (answer.trim().toLowerCase() !== 'yes') {
      io.err('nya wallet: not removed.');
      return 1;
    }
  }
  store.remove();
  io.out(`Mining key ${info.address} removed from ${dataDir}.`);
  return 0;
}

// ---------------------------------------------------------------------------------------------

function isEncryptedComx(text: string): boolean {
  try {
    return (JSON.parse(text) as { encrypted?: unknown }).encrypted === true;
  } catch {
    return false;
  }
}

function keyFilePasswordFor(what: string, io: WalletCliIo): Promise<string> {
  return secretFromEnvOrPrompt(io, KEYSTORE_PASSWORD_ENV, `Password of the ${what}: `);
}

/** The wallet passphrase to open an existing key. */
function existingPassphrase(io: WalletCliIo): Promise<string> {
  return secretFromEnvOrPrompt(io, PASSPHRASE_ENV, 'Wallet passphrase: ');
}

/** A passphrase for a new key: from the environment, or typed twice. */
function newPassphrase(io: WalletCliIo): Promise<string> {
  return newSecret(io, PASSPHRASE_ENV, 'New wallet passphrase (encrypts the key on this disk): ');
}

async function newSecret(io: WalletCliIo, envName: string, question: string): Promise<string> {
  const fromEnv = io.env[envName];
  const secret = fromEnv ?? (await askHidden(io, envName, question));
  if (secret.length < MIN_PASSPHRASE_CHARS) throw new Error(`A passphrase needs at least ${MIN_PASSPHRASE_CHARS} characters.`);
  if (fromEnv === undefined && (await askHidden(io, envName, 'Repeat it: ')) !== secret)
    throw new Error('The two entries differ; nothing was changed.');
  return secret;
}

async function secretFromEnvOrPrompt(io: WalletCliIo, envName: string, question: string): Promise<string> {
  return io.env[envName] ?? askHidden(io, envName, question);
}

async function askHidden(io: WalletCliIo, envName: string, question: string): Promise<string> {
  try {
    return await io.ask(question, true);
  } catch (error) {
    throw new Error(`${errorMessage(error)} Set ${envName} or run in a terminal.`);
  }
}

function processIo(): WalletCliIo {
  return {
    env: process.env,
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    readText: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
    writeSecretFile: (path, text) => writeFileSync(path, text, { mode: 0o600, flag: 'wx' }),
    ask: async (question, hidden) => {
      if (hidden) return promptHidden(question);
      if (!process.stdin.isTTY) throw new Error('There is no terminal to ask.');
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  };
}
