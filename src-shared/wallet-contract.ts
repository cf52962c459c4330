import { z } from 'zod';
import { NanoAmount } from './protocol';

/**
 * The wallet's IPC contract, kept apart from `ipc.ts` until the lead merges it there. Nothing in
 * a request or a response is secret: the mining key's secret never crosses IPC. Import happens by
 * naming a FILE that main reads (a mnemonic is never typed into the renderer), and a new
 * mnemonic is shown once by a main-process presenter (native dialog or the terminal).
 *
 * Trade-off, documented: an encrypted keystore's password does travel over IPC in
 * `wallet:import` (a sandboxed renderer, context isolation and a sender check on the handler).
 * The password alone opens nothing without the file on the user's disk, and Electron can instead
 * ask for it in a main-process prompt by leaving `password` out; `passwordFromPresenter` says
 * which the handler should do.
 */

/** An SS58 address as typed or pasted: shape only; main checks the checksum. */
export const Ss58Text = z
  .string()
  .trim()
  .min(40)
  .max(60)
  .regex(/^[1-9A-HJ-NP-Za-km-z]+$/, 'An SS58 address uses base-58 characters only.');

const KEY_SOURCE_NAMES = ['created', 'mnemonic', 'seed', 'polkadot-json', 'comx'] as const;
const KeySourceName = z.enum(KEY_SOURCE_NAMES);

/** One address's balance on chain, in nano-COMAI. `stakedNano` is null where the chain has no stake storage this build reads. */
export const AccountBalance = z.object({
  address: z.string(),
  freeNano: NanoAmount,
  stakedNano: NanoAmount.nullable(),
});
export type AccountBalance = z.infer<typeof AccountBalance>;

/** The chain connection and what it last said; offline is a state to show, never an error dialog. */
export const BalanceState = z.discriminatedUnion('state', [
  z.object({ state: z.literal('idle') }),
  z.object({ state: z.literal('connecting'), endpoint: z.string() }),
  z.object({ state: z.literal('online'), endpoint: z.string(), balances: z.array(AccountBalance), atMs: z.number() }),
  z.object({
    state: z.literal('offline'),
    endpoint: z.string(),
    error: z.string(),
    retryAtMs: z.number(),
    /** The last balances read before the connection was lost, so the page does not go blank. */
    last: z.object({ balances: z.array(AccountBalance), atMs: z.number() }).nullable(),
  }),
]);
export type BalanceState = z.infer<typeof BalanceState>;

export const WalletStatus = z.object({
  miningAddress: z.string().nullable(),
  keySource: KeySourceName.nullable(),
  hasMnemonic: z.boolean(),
  payoutAddress: z.string().nullable(),
  payoutLinked: z.boolean(),
  balance: BalanceState,
});
export type WalletStatus = z.infer<typeof WalletStatus>;

export const IMPORT_KINDS = ['mnemonic-file', 'seed-file', 'polkadot-json', 'comx'] as const;
export const ImportKind = z.enum(IMPORT_KINDS);
export type ImportKind = z.infer<typeof ImportKind>;

export const PayoutLinkStart = z.object({
  /** The one-time page on 127.0.0.1 to open in the user's browser. */
  linkUrl: z.string(),
  /** The exact text the payout key signs (for the paste path). */
  message: z.string(),
  challengeId: z.string(),
  expiresAtMs: z.number(),
});
export type PayoutLinkStart = z.infer<typeof PayoutLinkStart>;

/** 0x-hex sr25519 signature (64 bytes). */
export const SignatureHex = z
  .string()
  .trim()
  .regex(/^0x[0-9a-fA-F]{128}$/, 'A signature is 0x followed by 128 hex digits.');

/**
 * Wallet channels: `{ request, response }` per channel, strict requests like the rest of `IPC`.
 * The lead pastes these entries into `IPC` and the names into `INVOKE_CHANNELS`.
 */
export const WALLET_CHANNELS = {
  'wallet:status': {
    request: z.strictObject({}),
    response: WalletStatus,
  },
  'wallet:create': {
    request: z.strictObject({}),
    /**
     * Only the address: the mnemonic goes to the main-process presenter, once. A key whose
     * backup check fails is not kept (the call fails with `conflict`), so nobody mines to a key
     * they cannot restore.
     */
    response: z.object({ address: z.string() }),
  },
  'wallet:import': {
    request: z.strictObject({
      kind: ImportKind,
      /** Absolute path chosen in a native open dialog (Electron) or typed at the CLI. */
      filePath: z.string().min(1).max(4096),
      password: z.string().max(1024).optional(),
      /** Ask for the password in a main-process prompt instead of carrying it here. */
      passwordFromPresenter: z.boolean().optional(),
    }),
    response: z.object({ address: z.string(), keySource: KeySourceName }),
  },
  'wallet:export': {
    /** The phrase is shown by main (terminal or native dialog); a keystore is written by main to `filePath`. */
    request: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('mnemonic') }),
      z.strictObject({ kind: z.literal('polkadot-json'), filePath: z.string().min(1).max(4096), password: z.string().min(8).max(1024) }),
    ]),
    response: z.object({ exported: z.enum(['mnemonic', 'polkadot-json']), filePath: z.string().nullable() }),
  },
  'wallet:remove': {
    /** The user types the mining address: removal is deliberate, never one click. */
    request: z.strictObject({ confirmAddress: Ss58Text }),
    response: z.object({ removed: z.boolean() }),
  },
  'wallet:start-payout-link': {
    request: z.strictObject({ payoutAddress: Ss58Text.optional() }),
    response: PayoutLinkStart,
  },
  'wallet:submit-payout-signature': {
    request: z.strictObject({ payoutAddress: Ss58Text, challengeId: z.string().min(1).max(128), signature: SignatureHex }),
    response: z.object({ payoutAddress: z.string(), linked: z.literal(true) }),
  },
  'wallet:refresh-balance': {
    request: z.strictObject({}),
    response: BalanceState,
  },
} as const satisfies Record<string, { request: z.ZodType; response: z.ZodType }>;

export type WalletChannel = keyof typeof WALLET_CHANNELS;
export type WalletRequest<C extends WalletChannel> = z.input<(typeof WALLET_CHANNELS)[C]['request']>;
export type WalletResponse<C extends WalletChannel> = z.output<(typeof WALLET_CHANNELS)[C]['response']>;
