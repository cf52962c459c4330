import type { Dialog } from 'electron';
import type { MnemonicPresenter } from '../wallet/wallet-service-presenter';

/**
 * The desktop app's way to show a new recovery phrase: a native dialog owned by main, so the
 * words never enter the renderer. Electron has no native text prompt for the three-word quiz the
 * terminal presenter asks, so the check here is an explicit confirmation the user must tick;
 * without it the new key is not kept.
 */
export function dialogMnemonicPresenter(dialog: Pick<Dialog, 'showMessageBox'>): MnemonicPresenter {
  return {
    async show(words) {
      const numbered = words.map((w, i) => `${String(i + 1).padStart(2)}. ${w}`).join('\n');
      const answer = await dialog.showMessageBox({
        type: 'warning',
        title: 'Your mining key’s recovery phrase',
        message: 'Write these words down on paper, in order. They are shown only this once and are the only way to restore the key.',
        detail: numbered,
        checkboxLabel: 'I have written the words down and will keep them safe',
        checkboxChecked: false,
        buttons: ['Done', 'Cancel'],
        defaultId: 0,
        cancelId: 1,
        noLink: true,
      });
      return { confirmed: answer.response === 0 && answer.checkboxChecked };
    },
  };
}
