import {
  LINK_PAGE_CONFIG_ID,
  LINK_PAGE_SCRIPT_PATH,
  LINK_PAGE_STYLE_PATH,
  type LinkPageConfig,
} from '../../../../src-shared/payout-link-page';

/** JSON inside a <script type="application/json"> block: `<` escaped so no text can close the block. */
function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export function renderLinkPage(config: LinkPageConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Link a payout address — Nya Miner</title>
<link rel="stylesheet" href="${LINK_PAGE_STYLE_PATH}">
<script type="application/json" id="${LINK_PAGE_CONFIG_ID}">${jsonForHtml(config)}</script>
</head>
<body>
<main>
  <h1>Link a payout address</h1>
  <p>Earnings of the mining key <code id="mining-address"></code> will go to the account that signs the message below.
  Signing proves you hold that account; it moves no funds and costs no fee.</p>
  <p id="expires" class="muted"></p>
  <p id="status" class="status" role="status" aria-live="polite"></p>

  <section aria-labelledby="ext-title">
    <h2 id="ext-title">Sign with a wallet extension</h2>
    <div id="extensions" class="row"></div>
    <p id="no-extension" class="muted" hidden>No Polkadot wallet extension (polkadot.js, Talisman, SubWallet) found in this browser. Install one, reload this page, or use the paste form below.</p>
    <div id="account-step" hidden>
      <label for="account">Payout account</label>
      <select id="account"></select>
      <button type="button" id="sign" class="primary">Sign and link</button>
    </div>
  </section>

  <section aria-labelledby="paste-title">
    <h2 id="paste-title">Or paste a signature made elsewhere</h2>
    <p>Sign exactly this message (UTF-8 bytes, sr25519) with the payout account, e.g. with <code>subkey sign --message</code>:</p>
    <pre id="message" data-testid="message"></pre>
    <button type="button" id="copy">Copy message</button>
    <form id="paste-form" class="form">
      <label for="paste-address">Payout address</label>
      <input id="paste-address" autocomplete="off" spellcheck="false">
      <label for="paste-signature">Signature (0x…)</label>
      <textarea id="paste-signature" rows="3" spellcheck="false"></textarea>
      <button type="submit" class="primary">Link with this signature</button>
    </form>
  </section>
</main>
<script src="${LINK_PAGE_SCRIPT_PATH}"></script>
</body>
</html>
`;
}

/** The answer for a token that is unknown, used or expired: says what to do, leaks nothing. */
export function renderGonePage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Link expired — Nya Miner</title><link rel="stylesheet" href="${LINK_PAGE_STYLE_PATH}"></head>
<body><main><h1>This link page is no longer valid</h1>
<p>Each payout link page works once and only until its challenge expires. Start the payout link again in Nya Miner to get a new one.</p></main></body></html>
`;
}
