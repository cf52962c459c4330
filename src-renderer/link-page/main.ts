/**
 * The payout link page's script (bundled to dist/link-page/link-page.js, served by main's
 * PayoutLinkServer). It runs in the user's own browser, beside their Polkadot wallet extension,
 * and talks only to that extension (through @polkadot/extension-dapp) and to the server that
 * served it.
 */
import { LINK_PAGE_CONFIG_ID, type LinkPageConfig } from '../../src-shared/payout-link-page';
import { startCountdown } from './countdown';
import { ExtensionStep } from './extension-step';
import { LinkSubmitter } from './link-submitter';
import { byId } from './page-dom';
import { startPasteStep } from './paste-step';

// Written by main into the same response as this script's tag, so trusted as it is.
const config = JSON.parse(byId(LINK_PAGE_CONFIG_ID).textContent ?? '') as LinkPageConfig;
const submitter = new LinkSubmitter(config);

byId('message').textContent = config.message;
byId('mining-address').textContent = config.miningAddress;
startPasteStep(config, submitter);
startCountdown(config.expiresAtMs, () => submitter.finished);
new ExtensionStep(config, submitter).start();
