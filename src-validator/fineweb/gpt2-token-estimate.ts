/**
 * FineWeb's `token_count` is the GPT-2 token count. The sample shard needs a plausible value
 * without shipping GPT-2's 1 MB vocabulary, so this estimates it from GPT-2's own pre-tokenizer
 * pattern: every pre-token is at least one BPE token, common English words are exactly one,
 * long or rare ASCII words split about every four characters, and text outside ASCII (which
 * byte-level BPE sees as two to four bytes a character, rarely merged) costs about one token per
 * two UTF-8 bytes. On English prose this lands within about 10 % of the real count; nothing
 * relies on it being exact, since the validator recounts with its own (Mistral) tokenizer.
 */
const GPT2_PRETOKEN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const ONE_TOKEN_WORD_CHARS = 7;
const CHARS_PER_EXTRA_TOKEN = 4;
const UTF8_BYTES_PER_TOKEN = 2;

export function estimateGpt2Tokens(text: string): number {
  let tokens = 0;
  for (const [piece] of text.matchAll(GPT2_PRETOKEN)) tokens += pieceTokens(piece);
  return tokens;
}

function pieceTokens(piece: string): number {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(piece)) {
    const extra = Math.max(0, piece.length - ONE_TOKEN_WORD_CHARS);
    return 1 + Math.ceil(extra / CHARS_PER_EXTRA_TOKEN);
  }
  return Math.max(1, Math.ceil(Buffer.byteLength(piece, 'utf8') / UTF8_BYTES_PER_TOKEN));
}
