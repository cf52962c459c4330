/**
 * What the validator needs from a tokenizer: the ids the teacher will see (BOS first, truncated to
 * seqLen), so it can check a result's token-id checksum against its own tokenization. Production
 * uses the teacher's Mistral v0.3 tokenizer (`default-tokenizer.ts`); tests inject a small one.
 */
export interface Tokenizer {
  encode(text: string, seqLen?: number): Int32Array;
  readonly vocabSize: number;
}

export type TokenizerLoader = () => Promise<Tokenizer>;
