/**
 * Whether log-probs were given coarser than the codec holds them. The codec stores 1/128 nats; a
 * miner that rounds to 0.1 nats (or computes something cheaper and rounds it) puts its codes on a
 * grid of 12.8 steps, which |Δ| bounds cannot tell from honest jitter. Every grid of 1/n nats
 * repeats each nat, i.e. every 128 codes, so one histogram of codes mod 128 per side is all the
 * check reads: cheap enough to run on every comparison.
 *
 * Grids of 1/n nats for n ≤ 32 are tested (1, 1/2, ... 0.1, 0.05, 0.04, 1/32): the finest, 1/32
 * nats, stays above fp16's own spacing for log-probs above -32 nats (2^-6 nats from -16 to -32),
 * so an fp16 LogSoftmax is never mistaken for rounding.
 */
export const GRID_PERIOD = 128;
export const GRID_FINEST_DIVISOR = 32;
/**
 * Fewer codes than this (32 rows at k = 16) judge nothing: a max over grids and shifts of a few
 * dozen codes is noise. Code 0 (a top-1 probability above 0.996) is on every grid, but at most one
 * cell per row holds it, 6 % at k = 16, far below the bound.
 */
const MIN_CODES = 512;

/** For each n, the residues mod 128 of the grid 1/n nats (m·128/n rounded, m < n), without shift. */
const GRIDS: Int32Array[] = Array.from({ length: GRID_FINEST_DIVISOR }, (_, i) => {
  const n = i + 1;
  return Int32Array.from(new Set(Array.from({ length: n }, (_, m) => Math.round((m * GRID_PERIOD) / n) % GRID_PERIOD)));
});

/**
 * The largest share, over grids of 1/n nats (n ≤ 32) and their whole-step shifts, of codes on the
 * grid beyond the share chance puts there: (on − density) / (1 − density). About 0 for labels at
 * full precision (a max over shifts of a uniform histogram), 1 for labels rounded to any such grid.
 */
export function coarseGridShare(residues: Int32Array): number {
  let total = 0;
  for (let r = 0; r < GRID_PERIOD; r++) total += residues[r]!;
  if (total < MIN_CODES) return 0;
  let share = 0;
  for (const grid of GRIDS) {
    const density = grid.length / GRID_PERIOD;
    const shifts = Math.ceil(GRID_PERIOD / grid.length);
    for (let shift = 0; shift < shifts; shift++) {
      let on = 0;
      for (let j = 0; j < grid.length; j++) on += residues[(grid[j]! + shift) & (GRID_PERIOD - 1)]!;
      const excess = (on / total - density) / (1 - density);
      if (excess > share) share = excess;
    }
  }
  return share;
}
