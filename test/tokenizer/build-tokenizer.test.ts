import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTokenizerFiles, readPackagedV3 } from '../../scripts/build-tokenizer';
import { bundledTokenizerPath } from '../../src-node/tokenizer';

describe('scripts/build-tokenizer.ts', () => {
  it('rebuilds the committed tokenizer files byte for byte', () => {
    const dir = dirname(bundledTokenizerPath());
    const built = buildTokenizerFiles();
    expect(Object.keys(built).sort()).toEqual(['tokenizer.json', 'tokenizer_config.json']);
    for (const [name, text] of Object.entries(built)) {
      // Compare sizes first: a 2 MB diff in a failure message helps nobody.
      const committed = readFileSync(`${dir}/${name}`, 'utf8');
      expect({ name, length: committed.length }).toEqual({ name, length: text.length });
      expect(committed === text, `${name} differs from a fresh build; re-run scripts/build-tokenizer.ts`).toBe(true);
    }
  });

  it('keeps every piece, merge and byte-fallback piece of the packaged v3 vocabulary', () => {
    const source = readPackagedV3();
    const json = JSON.parse(buildTokenizerFiles(source)['tokenizer.json']!);
    expect(Object.keys(json.model.vocab)).toHaveLength(32768);
    expect(json.model.merges).toHaveLength(source.merges.length);
    expect(json.model.vocab['<0x00>']).toBe(771);
    expect(json.model.vocab['<0xFF>']).toBe(1026);
    // Ordinary pieces keep the package's ids; only control-slot names 10..770 follow the published model.
    for (let id = 771; id < 32768; id += 97) expect(json.model.vocab[source.vocab[id]!]).toBe(id);
    expect(json.model.vocab['[control_8]']).toBe(10);
    expect(json.model.vocab['[control_768]']).toBe(770);
    expect(json.added_tokens).toHaveLength(771);
  });

  it('refuses a source that is not the v3 vocabulary', () => {
    const source = readPackagedV3();
    expect(() => buildTokenizerFiles({ ...source, vocab: source.vocab.slice(0, 32000) })).toThrow(/32768-piece/);
    expect(() => buildTokenizerFiles({ ...source, merges: [[771, 772]] })).toThrow(/does not merge/);
  });
});
