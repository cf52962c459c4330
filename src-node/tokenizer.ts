import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { resourcePath } from './app-paths';

export interface MistralTokenizer {
  /** BOS first, no EOS, right-truncated so the result has at most seqLen ids (BOS included). */
  encode(text: string, seqLen?: number): Int32Array;
  /** The text of the ids; control tokens (BOS, EOS, [INST], ...) are left out. */
  decode(ids: ArrayLike<number>): string;
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  /** Where it came from: 'bundled mistral-v3' or the model folder's tokenizer.json path. */
  readonly source: string;
}

export const BUNDLED_TOKENIZER_SOURCE = 'bundled mistral-v3';

/** The committed tokenizer, built by scripts/build-tokenizer.ts. */
export function bundledTokenizerPath(): string {
  return resourcePath('assets', 'tokenizer', 'mistral-v3', 'tokenizer.json');
}

export class TokenizerLoadError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot load the tokenizer ${path}: ${reason}`);
    this.name = 'TokenizerLoadError';
  }
}

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

export interface TokenizerJson {
  added_tokens?: AddedTokenJson[];
  pre_tokenizer?: unknown;
  model?: { type?: string; vocab?: Record<string, number>; merges?: Array<string | [string, string]> };
  [key: string]: unknown;
}

/** A whitespace run and the text up to the next one: "▁▁the", "▁cat", "▁" at the very end. */
const WORD_PATTERN = /▁+[^▁]*|[^▁]+/gu;

/**
 * The legacy Mistral tokenizer has no pre-tokenizer: the whole document is one BPE "word", which
 * the library neither caches nor handles quickly (13 s for 1,000 documents of 4 KB on our 2-core
 * CI machine). Cutting the normalised text before each whitespace run gives the same ids exactly
 * when no merge can join a piece ending in a non-space to one starting with "▁", i.e. no merge
 * result holds "▁" after another character. True for v3; checked per file, else we do not cut.
 */
function mergesStayInsideWords(json: TokenizerJson): boolean {
  if (json.pre_tokenizer != null) return false;
  const merges = json.model?.merges ?? [];
  return merges.every((merge) => !/[^▁]▁/u.test(typeof merge === 'string' ? merge.replace(' ', '') : merge.join('')));
}

export interface TokenizerConfigJson {
  bos_token?: unknown;
  eos_token?: unknown;
  [key: string]: unknown;
}

/** `bos_token` is a string or, in older files, `{ content: "<s>", ... }`. */
function tokenName(value: unknown, fallback: string): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return fallback;
}

async function readJson<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new TokenizerLoadError(path, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : String(error));
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new TokenizerLoadError(path, `it is not valid JSON (${(error as Error).message})`);
  }
}

class HfMistralTokenizer implements MistralTokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;

  constructor(
    private readonly inner: Tokenizer,
    private readonly controlIds: ReadonlySet<number>,
    private readonly cutAtWhitespace: boolean,
    ids: { vocabSize: number; bosId: number; eosId: number },
    readonly source: string,
  ) {
    this.vocabSize = ids.vocabSize;
    this.bosId = ids.bosId;
    this.eosId = ids.eosId;
  }

  encode(text: string, seqLen?: number): Int32Array {
    if (seqLen !== undefined && (!Number.isInteger(seqLen) || seqLen < 1)) {
      throw new RangeError(`seqLen must be a positive integer, got ${seqLen}`);
    }
    // Raw FineWeb text gets no special-token parsing: "[INST]" or "<s>" written in a document is
    // text, as mistral-common and SentencePiece treat it, never a control token.
    const ids = text.length === 0 ? [] : this.textIds(text);
    const length = Math.min(ids.length + 1, seqLen ?? Number.POSITIVE_INFINITY);
    const out = new Int32Array(length);
    out[0] = this.bosId;
    for (let i = 1; i < length; i++) out[i] = ids[i - 1]!;
    return out;
  }

  private textIds(text: string): number[] {
    const { normalizer, model } = this.inner;
    if (!this.cutAtWhitespace || !model) return this.inner.encode(text, { add_special_tokens: false }).ids;
    const normalized = normalizer ? normalizer(text) : text;
    const pieces = model(normalized.match(WORD_PATTERN) ?? []);
    const unk = model.unk_token_id ?? 0;
    return pieces.map((piece) => model.tokens_to_ids.get(piece) ?? unk);
  }

  decode(ids: ArrayLike<number>): string {
    const kept: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`token id ${id} at index ${i} is outside the vocabulary (0..${this.vocabSize - 1})`);
      }
      if (!this.controlIds.has(id)) kept.push(id);
    }
    if (kept.length === 0) return '';
    return this.inner.decode(kept, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }
}

/**
 * A tokenizer from parsed tokenizer.json and tokenizer_config.json. `cutAtWhitespace: false` forces
 * the library's own whole-document path (tests compare both).
 */
export function tokenizerFromJson(
  json: TokenizerJson,
  config: TokenizerConfigJson,
  source: string,
  options: { cutAtWhitespace?: boolean } = {},
): MistralTokenizer {
  const vocab = json.model?.vocab;
  if (json.model?.type !== 'BPE' || !vocab || typeof vocab !== 'object') {
    throw new TokenizerLoadError(source, `expected a BPE model with a vocabulary (Mistral v0.3), found ${json.model?.type ?? 'no model'}`);
  }
  const added = json.added_tokens ?? [];
  const controlIds = new Set(added.filter((t) => t.special !== false).map((t) => t.id));
  // Without added tokens the library cannot split them out of text (see encode); their ids stay in
  // the BPE vocabulary, so decoding them still works. BOS is added by encode itself.
  const inner = new Tokenizer({ ...json, added_tokens: [], post_processor: null }, config);
  const bosName = tokenName(config.bos_token, '<s>');
  const eosName = tokenName(config.eos_token, '</s>');
  const bosId = inner.token_to_id(bosName);
  const eosId = inner.token_to_id(eosName);
  if (bosId === undefined || eosId === undefined) {
    throw new TokenizerLoadError(source, `the vocabulary has no ${bosId === undefined ? bosName : eosName} token`);
  }
  let maxId = -1;
  for (const id of Object.values(vocab)) maxId = Math.max(maxId, id);
  for (const token of added) maxId = Math.max(maxId, token.id);
  const cut = (options.cutAtWhitespace ?? true) && mergesStayInsideWords(json);
  return new HfMistralTokenizer(inner, controlIds, cut, { vocabSize: maxId + 1, bosId, eosId }, source);
}

async function load(tokenizerPath: string, source: string): Promise<MistralTokenizer> {
  const json = await readJson<TokenizerJson>(tokenizerPath);
  const configPath = join(dirname(tokenizerPath), 'tokenizer_config.json');
  const config = existsSync(configPath) ? await readJson<TokenizerConfigJson>(configPath) : {};
  try {
    return tokenizerFromJson(json, config, source);
  } catch (error) {
    const reason = error instanceof TokenizerLoadError ? error.reason : error instanceof Error ? error.message : String(error);
    throw new TokenizerLoadError(tokenizerPath, reason);
  }
}

const cache = new Map<string, Promise<MistralTokenizer>>();

/** A model folder's own tokenizer.json wins over the bundled one. */
export async function loadTokenizer(modelDir?: string | null): Promise<MistralTokenizer> {
  const own = modelDir ? resolve(modelDir, 'tokenizer.json') : null;
  const ownStat = own ? statSync(own, { throwIfNoEntry: false }) : undefined;
  const path = own && ownStat?.isFile() ? own : bundledTokenizerPath();
  const source = path === own ? own : BUNDLED_TOKENIZER_SOURCE;
  // Keyed by the file's size and time too: a model folder whose tokenizer.json was replaced
  // (a new download, a user's fix) is read again, not served from memory.
  const key = path === own ? `${path}|${ownStat!.size}|${ownStat!.mtimeMs}` : path;
  let pending = cache.get(key);
  if (!pending) {
    pending = load(path, source);
    cache.set(key, pending);
    // A failed load is not cached: the user may fix the file and try again.
    pending.catch(() => cache.delete(key));
  }
  return pending;
}
