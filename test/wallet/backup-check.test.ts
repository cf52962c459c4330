import { describe, expect, it } from 'vitest';
import { backupQuestions, checkBackupAnswers } from '../../src-main/wallet';

const PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';

describe('backup check', () => {
  it('asks distinct positions within the phrase, in reading order', () => {
    for (let seed = 0; seed < 50; seed++) {
      let state = seed;
      const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const questions = backupQuestions(PHRASE, 3, random).map((q) => q.position);
      expect(new Set(questions).size).toBe(3);
      expect([...questions].sort((a, b) => a - b)).toEqual(questions);
      for (const p of questions) expect(p >= 1 && p <= 12).toBe(true);
    }
  });

  it('accepts the right words in any case and refuses a wrong or missing one', () => {
    expect(
      checkBackupAnswers(PHRASE, [
        { position: 1, word: 'Bottom ' },
        { position: 12, word: 'walk' },
      ]),
    ).toBe(true);
    expect(
      checkBackupAnswers(PHRASE, [
        { position: 1, word: 'bottom' },
        { position: 12, word: 'fit' },
      ]),
    ).toBe(false);
    expect(checkBackupAnswers(PHRASE, [])).toBe(false);
  });
});
