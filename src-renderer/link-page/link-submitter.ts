import type { LinkPageAnswer, LinkPageConfig, LinkPageSubmit } from '../../src-shared/payout-link-page';
import { byId, disableControls, reasonOf, setStatus } from './page-dom';

const START_AGAIN = 'Start the payout link again in Nya Miner.';

/** Posts a signature to Nya Miner and shows its answer; after a link or a final refusal the page is done. */
export class LinkSubmitter {
  private done = false;

  constructor(private readonly config: LinkPageConfig) {}

  get finished(): boolean {
    return this.done;
  }

  private expired(): boolean {
    return Date.now() >= this.config.expiresAtMs;
  }

  async submit(payoutAddress: string, signature: string): Promise<void> {
    if (this.expired()) return setStatus(`This link request expired. ${START_AGAIN}`, 'error');
    setStatus('Sending the signature to Nya Miner…');
    let answer: LinkPageAnswer;
    try {
      const body: LinkPageSubmit = { payoutAddress, signature };
      const response = await fetch(this.config.submitPath, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      answer = (await response.json()) as LinkPageAnswer;
    } catch (error) {
      return setStatus(`Nya Miner did not answer (${reasonOf(error)}). Is the app still running?`, 'error');
    }
    if (answer.ok) {
      this.finish();
      byId('expires').textContent = '';
      setStatus(`Linked: earnings now go to ${answer.payoutAddress}. You can close this tab.`, 'ok');
      document.body.setAttribute('data-linked', answer.payoutAddress);
      return;
    }
    setStatus(answer.error.message + (answer.retry ? '' : ` ${START_AGAIN}`), 'error');
    if (!answer.retry) this.finish();
  }

  private finish(): void {
    this.done = true;
    disableControls();
  }
}
