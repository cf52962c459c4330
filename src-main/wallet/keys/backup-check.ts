/**
 * The "did you write it down?" check after a key is created: ask for a few words of the recovery
 * phrase by position. Pure, so the desktop page and the CLI ask the same way.
 */
export interface BackupQuestion {
  /** 1-based, as a person counts the words on paper. */
  position: number;
}

export function backupQuestions(mnemonic: string, count: number, random: () => number = Math.random): BackupQuestion[] {
  const words = mnemonic.trim().split(/\s+/).length;
  const positions = Array.from({ length: words }, (_, i) => i + 1);
  // Fisher-Yates prefix: `count` distinct positions, then shown in reading order.
  for (let i = 0; i < Math.min(count, words); i++) {
    const j = i + Math.floor(random() * (words - i));
    [positions[i], positions[j]] = [positions[j]!, positions[i]!];
  }
  return positions
    .slice(0, Math.min(count, words))
    .sort((a, b) => a - b)
    .map((position) => ({ position }));
}

/** Whether each answer is the word at its position (case and surrounding spaces ignored). */
export function checkBackupAnswers(mnemonic: string, answers: { position: number; word: string }[]): boolean {
  const words = mnemonic.trim().toLowerCase().split(/\s+/);
  return answers.length > 0 && answers.every((a) => words[a.position - 1] === a.word.trim().toLowerCase());
}
