/**
 * Who wins when redundant results are compared. Never the first to arrive: a result is accepted
 * only as part of a strict majority of agreeing results (at least two). Without one, the caller
 * asks the Recomputer or one more miner (`undecided`).
 */
export type Consensus = { kind: 'majority'; winners: number[]; losers: number[] } | { kind: 'undecided' };

export function findConsensus(count: number, agree: (i: number, j: number) => boolean): Consensus {
  let best: number[] = [];
  for (let i = 0; i < count; i++) {
    const group = [i];
    for (let j = 0; j < count; j++) if (j !== i && agree(i, j)) group.push(j);
    if (group.length > best.length) best = group;
  }
  if (best.length >= 2 && best.length * 2 > count) {
    const winners = [...best].sort((x, y) => x - y);
    return { kind: 'majority', winners, losers: Array.from({ length: count }, (_, i) => i).filter((i) => !best.includes(i)) };
  }
  return { kind: 'undecided' };
}
