import type { LinkPageConfig } from '../../src-shared/payout-link-page';
import type { LinkSubmitter } from './link-submitter';
import { byId, reasonOf, setStatus } from './page-dom';
import type { PayoutAccount } from './payout-accounts';
import { accountsOf, injectedExtensionNames, signMessage } from './wallet-extensions';

/** Extensions inject after the page loads; extension-dapp's own web3Enable waits for them too. */
const LOOK_AGAIN_AFTER_MS = [300, 1000, 2500];

/** The extension path: a button per injected extension, then an account picker and "Sign and link". */
export class ExtensionStep {
  /** The names the buttons were last drawn for: a button replaced between press and release loses the click. */
  private drawnFor: string | null = null;
  private accounts: PayoutAccount[] = [];
  private connected = false;

  constructor(
    private readonly config: LinkPageConfig,
    private readonly submitter: LinkSubmitter,
  ) {}

  start(): void {
    byId('sign').addEventListener('click', () => void this.sign());
    this.drawButtons();
    for (const ms of LOOK_AGAIN_AFTER_MS) setTimeout(() => this.connected || this.drawButtons(), ms);
  }

  private drawButtons(): void {
    const names = injectedExtensionNames();
    if (names.join('\n') === this.drawnFor) return;
    this.drawnFor = names.join('\n');
    const list = byId('extensions');
    list.textContent = '';
    byId('no-extension').hidden = names.length > 0;
    for (const name of names) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = `Connect ${name}`;
      button.setAttribute('data-extension', name);
      button.addEventListener('click', () => void this.connect(name));
      list.appendChild(button);
    }
  }

  private async connect(name: string): Promise<void> {
    setStatus(`Asking ${name} for its accounts… (approve in the extension)`);
    try {
      this.accounts = await accountsOf(name, this.config.appName, this.config.ss58Prefix);
    } catch (error) {
      return setStatus(`${name} did not connect: ${reasonOf(error)}`, 'error');
    }
    this.connected = true;
    this.fillAccounts();
    if (this.accounts.length === 0) {
      setStatus(
        `${name} shares no sr25519 accounts with this page. Add or allow one in the extension (Ethereum accounts cannot be payout accounts).`,
        'error',
      );
    } else {
      setStatus('Pick the account earnings should go to, then sign.');
    }
  }

  private fillAccounts(): void {
    const select = byId<HTMLSelectElement>('account');
    select.textContent = '';
    for (const account of this.accounts) {
      const option = document.createElement('option');
      option.value = account.address;
      option.textContent = (account.name ? `${account.name} — ` : '') + account.address;
      select.appendChild(option);
    }
    if (this.config.suggestedAddress && this.accounts.some((a) => a.address === this.config.suggestedAddress))
      select.value = this.config.suggestedAddress;
    byId('account-step').hidden = this.accounts.length === 0;
  }

  private async sign(): Promise<void> {
    const address = byId<HTMLSelectElement>('account').value;
    const account = this.accounts.find((a) => a.address === address);
    if (!account) return;
    setStatus('Approve the signature in the extension…');
    let signature: string | null;
    try {
      signature = await signMessage(account, this.config.message);
    } catch (error) {
      return setStatus(`The extension did not sign: ${reasonOf(error)}`, 'error');
    }
    if (signature === null) return setStatus('This extension cannot sign raw messages. Use the paste form below.', 'error');
    await this.submitter.submit(account.address, signature);
  }
}
