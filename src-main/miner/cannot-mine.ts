/**
 * Why mining cannot go on until the user changes something: no retry fixes these, unlike an
 * unreachable validator (which the session retries with backoff) or a failed task. The app shows
 * the message in its status; `nya mine` exits with it and the command that fixes it
 * (`src-main/cli/commands/mine.ts`), since a headless miner that waits silently helps no one.
 */
export type CannotMineReason =
  /** The model folder is missing, unreadable or not a model the teacher can load. */
  | 'model-unusable'
  /** A remote validator needs the mining key, and the wallet has no passphrase to open it. */
  | 'wallet-locked'
  /** A remote validator needs a mining key, and there is none yet. */
  | 'no-mining-key'
  /** The validator wants another teacher model than the one loaded. */
  | 'wrong-model';

export class CannotMine extends Error {
  override readonly name = 'CannotMine';
  constructor(
    readonly reason: CannotMineReason,
    message: string,
  ) {
    super(message);
  }
}
