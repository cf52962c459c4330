import { DEFAULT_TOKENS_PER_S, MAX_TASK_DOCUMENTS, TARGET_TASK_SECONDS } from '../config';

/**
 * Picks queued documents (oldest first) for one task: about TARGET_TASK_SECONDS of the miner's
 * measured speed (a soft budget: at least one document), never more than its maxTokens (hard).
 */
export function pickDocuments<T extends { tokens: number }>(
  queued: T[],
  miner: { tokensPerS?: number | undefined; maxTokens?: number | undefined },
): T[] {
  const hardCap = miner.maxTokens ?? Number.POSITIVE_INFINITY;
  const budget = Math.min(hardCap, (miner.tokensPerS ?? DEFAULT_TOKENS_PER_S) * TARGET_TASK_SECONDS);
  const picked: T[] = [];
  let total = 0;
  for (const doc of queued) {
    if (picked.length >= MAX_TASK_DOCUMENTS || total >= budget) break;
    if (total + doc.tokens > hardCap) continue;
    if (picked.length > 0 && total + doc.tokens > budget) break;
    picked.push(doc);
    total += doc.tokens;
  }
  return picked;
}
