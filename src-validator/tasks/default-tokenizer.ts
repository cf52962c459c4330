import { loadTokenizer as loadTeacherTokenizer } from '../../src-node/tokenizer';
import type { Tokenizer } from './tokenizer';

/** The teacher's own Mistral v0.3 tokenizer, so checksums match what honest miners compute. */
export function loadTokenizer(modelDir?: string | null): Promise<Tokenizer> {
  return loadTeacherTokenizer(modelDir);
}
