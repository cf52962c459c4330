/**
 * The one-time payout link page's contract between main (which serves it, `src-main/wallet/
 * payout-link/`) and its browser script (`src-renderer/link-page/`). Zod-free so the page bundle
 * stays small; main parses the submit body with its own schema.
 */

/** What the page needs to know; all of it public (the challenge message is what gets signed). */
export interface LinkPageConfig {
  appName: string;
  miningAddress: string;
  message: string;
  challengeId: string;
  expiresAtMs: number;
  submitPath: string;
  /** Already in the payout form (prefix 42), or null. */
  suggestedAddress: string | null;
  /** The SS58 prefix every address is shown and sent in. */
  ss58Prefix: number;
}

/** The `<script type="application/json">` block that carries the config into the page. */
export const LINK_PAGE_CONFIG_ID = 'nya-link-config';
export const LINK_PAGE_SCRIPT_PATH = '/link-page.js';
export const LINK_PAGE_STYLE_PATH = '/link-page.css';

/** The page's POST to `submitPath`. */
export interface LinkPageSubmit {
  payoutAddress: string;
  signature: string;
}

/** Main's answer to a submit. `retry`: the same page (and challenge) can still be used. */
export type LinkPageAnswer = { ok: true; payoutAddress: string } | { ok: false; error: { code: string; message: string }; retry: boolean };
