import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CodedError, type ErrorCode, type ResultError } from '../../src-shared/result';
import type { BalanceState, ImportKind, PayoutLinkStart, WalletStatus } from '../../src-shared/wallet-contract';
import { writeFileAtomicSync } from '../../src-node/atomic-write';
import { Emitter, type Disposable, type Event } from '../../src-node/event';
import { errorMessage, type Logger } from '../../src-node/log';
import type { BalanceService } from './balance/balance-service';
import { WrongKeyFilePassword } from './keys/key-files';
import { BadKeyInput } from './keys/key-secret';
import { MiningKeyExists, NoMiningKey, type KeyStore, type MiningKeyInfo } from './keys/key-store';
import { PayoutLinker, PayoutLinkError, type PayoutValidatorPort, type ValidatorFailureReader } from './payout-link/payout-linker';
import { PayoutLinkServer } from './payout-link/payout-link-server';
import { WrongPassphrase } from './keys/secret-box';
import type { MnemonicPresenter, PasswordPrompt } from './wallet-service-presenter';

export interface WalletServiceOptions {
  dataDir: string;
  keyStore: KeyStore;
  balance: BalanceService;
  presenter: MnemonicPresenter;
  /** Where `passwordFromPresenter` imports ask; absent where there is nobody to ask. */
  passwordPrompt?: PasswordPrompt;
  /** The validator session of the current mining key; null before there is one. */
  validator: () => PayoutValidatorPort | null;
  /** Reads the failure a rejected validator call carries (the validator client's `validatorFailureOf`). */
  validatorFailure: ValidatorFailureReader;
  /** Exchange deposit addresses and the like, refused before the validator is asked. */
  deniedPayoutAddresses?: readonly string[];
  log: Logger;
  now?: () => number;
  /** Read a file the user chose (tests inject; default fs). */
  readFile?: (path: string) => string;
}

const PayoutRecord = z.object({ miningAddress: z.string(), payoutAddress: z.string(), linkedAtMs: z.number() });
type PayoutRecord = z.infer<typeof PayoutRecord>;

const MAX_KEY_FILE_BYTES = 1024 * 1024;

/**
 * What the wallet IPC channels call. Nothing it returns is secret: addresses, states and the
 * payout challenge (public text). Key material comes in only as a file path main reads, and a new
 * mnemonic goes out only through the main-process `MnemonicPresenter`.
 */
export class WalletService {
  private readonly linker: PayoutLinker;
  private readonly linkServer: PayoutLinkServer;
  private readonly payoutPath: string;
  private readonly now: () => number;
  private readonly readFile: (path: string) => string;
  private readonly changes = new Emitter<void>((error) => this.o.log.error(`a wallet listener failed: ${errorMessage(error)}`));
  /** Fires after every change a view shows (key, payout link, balance). */
  readonly onChange: Event<void> = this.changes.event;
  private serverStarted: Promise<void> | null = null;
  private balanceUpdates: Disposable | null = null;

  constructor(private readonly o: WalletServiceOptions) {
    this.now = o.now ?? Date.now;
    this.readFile = o.readFile ?? readKeyFile;
    this.payoutPath = join(o.dataDir, 'wallet', 'payout.json');
    const validator: PayoutValidatorPort = {
      payoutChallenge: () => this.requireValidator().payoutChallenge(),
      linkPayout: (req) => this.requireValidator().linkPayout(req),
    };
    const miningAddress = () => this.keyInfo()?.address ?? null;
    this.linker = new PayoutLinker({
      validator,
      validatorFailure: o.validatorFailure,
      miningAddress,
      deniedAddresses: o.deniedPayoutAddresses ?? [],
      now: this.now,
    });
    this.linkServer = new PayoutLinkServer({
      linker: this.linker,
      miningAddress,
      log: o.log.child('payout-link'),
      now: this.now,
      onLinked: (payoutAddress) => this.recordLink(payoutAddress),
    });
  }

  start(): void {
    this.balanceUpdates ??= this.o.balance.onChange(() => this.changed());
    this.o.balance.start();
    this.syncBalanceAddresses();
  }

  async dispose(): Promise<void> {
    this.balanceUpdates?.dispose();
    this.balanceUpdates = null;
    this.changes.dispose();
    await this.linkServer.dispose();
  }

  status(): WalletStatus {
    const info = this.keyInfo();
    const payout = info ? this.payoutRecord(info.address) : null;
    return {
      miningAddress: info?.address ?? null,
      keySource: info?.source ?? null,
      hasMnemonic: info?.hasMnemonic ?? false,
      payoutAddress: payout?.payoutAddress ?? null,
      payoutLinked: payout !== null,
      balance: this.o.balance.state,
    };
  }

  /** The validator's view of the payout address (from `me()`), kept so status survives restarts. */
  notePayoutFromValidator(payoutAddress: string | null): void {
    const info = this.keyInfo();
    if (!info || !payoutAddress || this.payoutRecord(info.address)?.payoutAddress === payoutAddress) return;
    this.recordLink(payoutAddress);
  }

  async create(): Promise<{ address: string }> {
    const existing = this.keyInfo();
    if (existing) throw new MiningKeyExists(existing.address);
    const { address, mnemonic } = await this.o.keyStore.create();
    let confirmed = false;
    try {
      confirmed = (await this.o.presenter.show(mnemonic.split(' '))).confirmed;
    } catch (error) {
      this.o.log.warn(`wallet: showing the new recovery phrase failed: ${errorMessage(error)}`);
    }
    if (!confirmed) {
      // Never used, so nothing is lost; a key nobody can restore must not start earning.
      this.o.keyStore.remove();
      throw new CodedError(
        'conflict',
        'The recovery phrase was not confirmed, so the new key was not kept. Create a key again and write the phrase down.',
      );
    }
    this.o.log.info(`wallet: created mining key ${address}`);
    this.keyChanged();
    return { address };
  }

  /**
   * Imports from a file the user chose. `password` opens an encrypted keystore or comx file;
   * with `passwordFromPresenter`, main asks for it itself when the file needs one.
   */
  async requestImport(req: {
    kind: ImportKind;
    filePath: string;
    password?: string;
    passwordFromPresenter?: boolean;
  }): Promise<{ address: string; keySource: MiningKeyInfo['source'] }> {
    const existing = this.keyInfo();
    if (existing) throw new MiningKeyExists(existing.address);
    const text = this.readFile(req.filePath);
    let password = req.password;
    if (req.kind === 'polkadot-json' && password === undefined && req.passwordFromPresenter)
      password = await this.askPassword('the keystore');
    for (let attempt = 0; ; attempt++) {
      try {
        const info = await this.importText(req.kind, text, password);
        this.o.log.info(`wallet: imported mining key ${info.address} (${info.source})`);
        this.keyChanged();
        return { address: info.address, keySource: info.source };
      } catch (error) {
        const canAsk = error instanceof WrongKeyFilePassword && req.passwordFromPresenter && this.o.passwordPrompt && attempt < 2;
        if (!canAsk) throw error;
        password = await this.askPassword(req.kind === 'comx' ? 'the comx key file' : 'the keystore');
      }
    }
  }

  /**
   * Export without the secret crossing IPC: the recovery phrase is shown by the main-process
   * presenter (terminal or native dialog); a polkadot-js keystore is written by main to the file
   * the user named, never overwriting one, readable only by the user.
   */
  async exportKey(
    req: { kind: 'mnemonic' } | { kind: 'polkadot-json'; filePath: string; password: string },
  ): Promise<{ exported: 'mnemonic' | 'polkadot-json'; filePath: string | null }> {
    const info = this.keyInfo();
    if (!info) throw new NoMiningKey(this.o.keyStore.path);
    if (req.kind === 'mnemonic') {
      const words = (await this.o.keyStore.exportMnemonic()).split(' ');
      await this.o.presenter.show(words);
      this.o.log.info(`wallet: showed the recovery phrase of ${info.address}`);
      return { exported: 'mnemonic', filePath: null };
    }
    const json = await this.o.keyStore.exportPolkadotJson(req.password);
    try {
      writeFileSync(req.filePath, json, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CodedError(
        code === 'EEXIST' ? 'conflict' : 'bad-request',
        code === 'EEXIST'
          ? `${req.filePath} already exists; choose a new file name.`
          : `Cannot write ${req.filePath}: ${errorMessage(error)}`,
      );
    }
    this.o.log.info(`wallet: exported ${info.address} as a polkadot-js keystore to ${req.filePath}`);
    return { exported: 'polkadot-json', filePath: req.filePath };
  }

  /** Removes the key after the user typed its address; the payout link record goes with it. */
  remove(req: { confirmAddress: string }): { removed: boolean } {
    const info = this.keyInfo();
    if (!info) throw new NoMiningKey(this.o.keyStore.path);
    if (req.confirmAddress.trim() !== info.address) {
      throw new CodedError('bad-request', 'The address typed is not the mining address; the key was not removed.');
    }
    const removed = this.o.keyStore.remove();
    rmSync(this.payoutPath, { force: true });
    this.o.log.info(`wallet: removed mining key ${info.address}`);
    this.keyChanged();
    return { removed };
  }

  /** Asks the validator for a challenge and opens the one-time local page for it. */
  async startPayoutLink(req: { payoutAddress?: string } = {}): Promise<PayoutLinkStart> {
    const suggested = req.payoutAddress ? this.linker.checkPayoutAddress(req.payoutAddress) : null;
    const challenge = await this.linker.begin();
    this.serverStarted ??= this.linkServer.start();
    await this.serverStarted;
    const linkUrl = this.linkServer.open(challenge, suggested);
    return { linkUrl, message: challenge.message, challengeId: challenge.challengeId, expiresAtMs: challenge.expiresAtMs };
  }

  /** The paste path: a signature made elsewhere over the challenge's message. */
  async submitPayoutSignature(req: {
    payoutAddress: string;
    challengeId: string;
    signature: string;
  }): Promise<{ payoutAddress: string; linked: true }> {
    const { payoutAddress } = await this.linker.submit(req);
    this.recordLink(payoutAddress);
    return { payoutAddress, linked: true };
  }

  refreshBalance(): Promise<BalanceState> {
    return this.o.balance.refresh();
  }

  private async importText(kind: ImportKind, text: string, password: string | undefined): Promise<MiningKeyInfo> {
    switch (kind) {
      case 'mnemonic-file':
        return this.o.keyStore.importMnemonic(text);
      case 'seed-file':
        return this.o.keyStore.importSeed(text);
      case 'polkadot-json':
        if (password === undefined) throw new WrongKeyFilePassword('A polkadot-js keystore is encrypted; give its password.');
        return this.o.keyStore.importPolkadotJson(text, password);
      case 'comx':
        return this.o.keyStore.importComx(text, password);
    }
  }

  private async askPassword(what: string): Promise<string> {
    const answer = await this.o.passwordPrompt?.ask(`Password of ${what}`);
    if (answer === null || answer === undefined) throw new CodedError('bad-request', 'The import was cancelled: no password was given.');
    return answer;
  }

  private requireValidator(): PayoutValidatorPort {
    const validator = this.o.validator();
    if (!validator)
      throw new PayoutLinkError(
        'validator-unreachable',
        'There is no validator connection yet; start mining once so the app connects, then link again.',
      );
    return validator;
  }

  private keyInfo(): MiningKeyInfo | null {
    return this.o.keyStore.info();
  }

  private payoutRecord(miningAddress: string): PayoutRecord | null {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(this.payoutPath, 'utf8'));
    } catch {
      return null;
    }
    const parsed = PayoutRecord.safeParse(json);
    // A record of another (removed or replaced) mining key says nothing about this one.
    return parsed.success && parsed.data.miningAddress === miningAddress ? parsed.data : null;
  }

  private recordLink(payoutAddress: string): void {
    const info = this.keyInfo();
    if (!info) return;
    const record: PayoutRecord = { miningAddress: info.address, payoutAddress, linkedAtMs: this.now() };
    writeFileAtomicSync(this.payoutPath, `${JSON.stringify(record, null, 2)}\n`);
    this.o.log.info(`wallet: payout address ${payoutAddress} linked to ${info.address}`);
    this.syncBalanceAddresses();
    this.changed();
  }

  private keyChanged(): void {
    this.syncBalanceAddresses();
    this.changed();
  }

  private syncBalanceAddresses(): void {
    const status = this.status();
    this.o.balance.setAddresses([status.miningAddress, status.payoutAddress].filter((a): a is string => a !== null));
  }

  private changed(): void {
    this.changes.fire();
  }
}

function readKeyFile(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CodedError(
      'not-found',
      code === 'ENOENT' ? `There is no file at ${path}.` : `The file ${path} cannot be read (${code ?? errorMessage(error)}).`,
    );
  }
  if (size > MAX_KEY_FILE_BYTES)
    throw new CodedError('bad-request', `${path} is ${size} bytes; a key file is a few kilobytes at most. Is it the right file?`);
  return readFileSync(path, 'utf8');
}

const PAYOUT_CODES: Record<PayoutLinkError['code'], ErrorCode> = {
  'no-mining-key': 'not-found',
  'bad-address': 'bad-request',
  'refused-address': 'forbidden',
  'no-challenge': 'not-found',
  'challenge-expired': 'conflict',
  'challenge-mismatch': 'conflict',
  'bad-signature': 'bad-request',
  'validator-refused': 'conflict',
  'validator-unreachable': 'unavailable',
};

/** The `Result` error an IPC handler answers for anything a wallet method threw. */
export function walletResultError(error: unknown): ResultError {
  const message = errorMessage(error);
  if (error instanceof CodedError) return error.toResultError();
  if (error instanceof PayoutLinkError) return { code: PAYOUT_CODES[error.code], message };
  if (error instanceof BadKeyInput || error instanceof WrongKeyFilePassword) return { code: 'bad-request', message };
  if (error instanceof MiningKeyExists) return { code: 'conflict', message };
  if (error instanceof NoMiningKey) return { code: 'not-found', message };
  if (error instanceof WrongPassphrase) return { code: 'forbidden', message };
  return { code: 'internal', message };
}
