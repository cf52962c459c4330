import { loadTokenizer as loadTeacherTokenizer } from '../../src-main/teacher/tokenizer';
import type { Tokenizer } from './tokenizer';

/** The teacher's own Mistral v0.3 tokenizer, so checksums match what honest miners compute. */
export function loadTokenizer(modelDir?: string | null): Promise<Tokenizer> {
  return loadTeacherTokenizer(modelDir);
}
