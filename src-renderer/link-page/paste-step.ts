import type { LinkPageConfig } from '../../src-shared/payout-link-page';
import type { LinkSubmitter } from './link-submitter';
import { byId, setStatus } from './page-dom';

/** Shape checks only, so a slip is caught before a round trip; main checks the address and signature for real. */
const SS58_SHAPE = /^[1-9A-HJ-NP-Za-km-z]{40,60}$/;
const SIGNATURE_SHAPE = /^0x[0-9a-fA-F]{128}$/;

/** The paste path: the message to copy, and a form for an address and a signature made elsewhere. */
export function startPasteStep(config: LinkPageConfig, submitter: LinkSubmitter): void {
  byId('copy').addEventListener('click', () => {
    navigator.clipboard.writeText(config.message).then(
      () => setStatus('Message copied.'),
      () => setStatus('Copy failed; select the message and copy it by hand.', 'error'),
    );
  });
  const address = byId<HTMLInputElement>('paste-address');
  const signature = byId<HTMLTextAreaElement>('paste-signature');
  if (config.suggestedAddress) address.value = config.suggestedAddress;
  byId('paste-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const payoutAddress = address.value.trim();
    const signed = signature.value.trim();
    if (!SS58_SHAPE.test(payoutAddress)) return setStatus('The payout address is not an SS58 address.', 'error');
    if (!SIGNATURE_SHAPE.test(signed)) return setStatus('A signature is 0x followed by 128 hex digits.', 'error');
    void submitter.submit(payoutAddress, signed);
  });
}
