import type { Task } from '../../src-shared/protocol';
import { decodeResultBundle, encodeResultBundle, type SoftLabels } from '../../src-node/soft-labels';
import { bundleOf, honestLabels, seededRandom } from './harness';

/** What a miner sends for a task; `memory` holds bundles it has seen (its own, earlier). */
export type Behaviour = (task: Task, memory: { lastBundle: Uint8Array | null }) => Uint8Array;

export const honest =
  (seed: number): Behaviour =>
  (task) =>
    bundleOf(honestLabels(task, seed));

function mapRows(labels: SoftLabels[], pick: (p: number, positions: number) => number): SoftLabels[] {
  return labels.map((l) => {
    const { k, positions } = l.header;
    const ids = new Int32Array(l.topkIds.length);
    const lps = new Float32Array(l.topkLogprobs.length);
    for (let p = 0; p < positions; p++) {
      const from = pick(p, positions);
      ids.set(l.topkIds.subarray(from * k, from * k + k), p * k);
      lps.set(l.topkLogprobs.subarray(from * k, from * k + k), p * k);
    }
    return { header: l.header, topkIds: ids, topkLogprobs: lps };
  });
}

/** Structurally perfect noise: distinct random ids, sorted log-probs with mass below one. */
export const randomOutputs =
  (seed: number): Behaviour =>
  (task) => {
    const rand = seededRandom(seed);
    const labels = honestLabels(task, seed).map((l) => {
      const { k, positions } = l.header;
      const ids = new Int32Array(k * positions);
      const lps = new Float32Array(k * positions);
      for (let p = 0; p < positions; p++) {
        const raw = Array.from({ length: k }, () => rand()).sort((a, b) => b - a);
        const sum = raw.reduce((s, v) => s + v, 0) / 0.9;
        const used = new Set<number>();
        for (let r = 0; r < k; r++) {
          let id = Math.floor(rand() * 32768);
          while (used.has(id)) id = (id + 1) % 32768;
          used.add(id);
          ids[p * k + r] = id;
          lps[p * k + r] = Math.log(raw[r]! / sum);
        }
      }
      return { header: l.header, topkIds: ids, topkLogprobs: lps };
    });
    return bundleOf(labels);
  };

/** Colluders' shared fabrication: the same well-formed random labels for a task, whoever sends them. */
export function fabricatedFor(taskId: string): Behaviour {
  let seed = 0;
  for (let i = 0; i < taskId.length; i++) seed = (seed * 31 + taskId.charCodeAt(i)) >>> 0;
  return randomOutputs(seed);
}

/**
 * Re-sends an earlier result (its own, or one copied from another miner) for a new task, its
 * records repeated or cut to the new task's document count so the bundle's shape fits.
 */
export const resend: Behaviour = (task, memory) => {
  if (!memory.lastBundle) return bundleOf(honestLabels(task, 1));
  const records = decodeResultBundle(memory.lastBundle);
  return encodeResultBundle(task.documents.map((_, i) => records[i % records.length]!));
};

export const shuffledPositions =
  (seed: number): Behaviour =>
  (task) => {
    const rand = seededRandom(seed);
    return bundleOf(
      honestLabels(task, seed).map((l) => {
        const order = Array.from({ length: l.header.positions }, (_, i) => i).sort(() => rand() - 0.5);
        return mapRows([l], (p) => order[p]!)[0]!;
      }),
    );
  };

export const shiftedPositions =
  (seed: number): Behaviour =>
  (task) =>
    bundleOf(mapRows(honestLabels(task, seed), (p, n) => Math.min(n - 1, p + 1)));

/** Computes half of each document and claims that is all there is. */
export const truncatedWork =
  (seed: number): Behaviour =>
  (task) =>
    bundleOf(
      honestLabels(task, seed).map((l) => {
        const positions = Math.ceil(l.header.positions / 2);
        const cells = positions * l.header.k;
        return { header: { ...l.header, positions }, topkIds: l.topkIds.slice(0, cells), topkLogprobs: l.topkLogprobs.slice(0, cells) };
      }),
    );

/** A smaller model of another family: different temperature and different tail candidates. */
export const smallerModel =
  (seed: number): Behaviour =>
  (task) =>
    bundleOf(honestLabels(task, seed, { temperature: 1.4, variant: 1 }));
