import { createInterface } from 'node:readline';

/**
 * Shows a new mnemonic once, in the main process (Electron: a native dialog; headless: the
 * terminal running `nya mine`), and checks the user wrote it down by asking for three random
 * words. The words never reach the renderer.
 */
export interface MnemonicPresenter {
  show(words: readonly string[]): Promise<{ confirmed: boolean }>;
}

/** Asks for a key file's password in the main process, so it need not cross IPC; null = cancelled. */
export interface PasswordPrompt {
  ask(question: string): Promise<string | null>;
}

const BACKUP_CHECK_WORDS = 3;

/** Three distinct 0-based positions, in ascending order, for the backup check. */
export function backupCheckPositions(wordCount: number, random: () => number = Math.random, count = BACKUP_CHECK_WORDS): number[] {
  // A partial Fisher-Yates shuffle: distinct positions in `count` draws, whatever `random` returns.
  const order = Array.from({ length: wordCount }, (_, i) => i);
  const take = Math.min(count, wordCount);
  for (let i = 0; i < take; i++) {
    const j = i + Math.min(wordCount - i - 1, Math.floor(random() * (wordCount - i)));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, take).sort((a, b) => a - b);
}

/** Whether every answer is the word at its position (case and surrounding space ignored). */
export function backupAnswersMatch(words: readonly string[], positions: readonly number[], answers: readonly string[]): boolean {
  return positions.length === answers.length && positions.every((p, i) => words[p] === answers[i]?.trim().toLowerCase());
}

export interface TerminalIo {
  write(text: string): void;
  ask(question: string): Promise<string>;
}

/** The headless presenter: prints the words once, then asks for three of them. */
export function terminalMnemonicPresenter(io: TerminalIo = processTerminal(), random: () => number = Math.random): MnemonicPresenter {
  return {
    async show(words) {
      const numbered = words.map((w, i) => `${String(i + 1).padStart(2)}. ${w}`);
      io.write(
        `\nYour new mining key's recovery phrase. Write it down on paper now; it is shown only this once\n` +
          `and is the only way to restore the key:\n\n${numbered.join('\n')}\n\n`,
      );
      await io.ask('Press Enter when it is written down. ');
      // Push the words off a scrolling terminal before the check, so it checks the paper, not the screen.
      io.write('\n'.repeat(60));
      const positions = backupCheckPositions(words.length, random);
      const answers: string[] = [];
      for (const p of positions) answers.push(await io.ask(`Word #${p + 1}: `));
      const confirmed = backupAnswersMatch(words, positions, answers);
      io.write(confirmed ? 'Backup confirmed.\n' : 'Those words do not match the phrase.\n');
      return { confirmed };
    },
  };
}

function processTerminal(): TerminalIo {
  return {
    write: (text) => void process.stderr.write(text),
    ask: (question) =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
        rl.question(question, (answer) => {
          rl.close();
          resolve(answer);
        });
      }),
  };
}
