import { BUILTIN_VARIANTS, type ModelVariant } from './catalog';

export interface VariantRecommendation {
  variant: ModelVariant;
  /** False when no real variant fits the GPU: it still runs, on the CPU, slowly. */
  fitsGpu: boolean;
  /** A sentence for the UI and the log. */
  reason: string;
}

const formatGiB = (mib: number) => `${(mib / 1024).toFixed(mib % 1024 === 0 ? 0 : 1)} GB`;

/**
 * The largest real (non-demo) variant whose VRAM need fits the GPU; fp16 on 16 GB+ cards, int4 on
 * 8–12 GB ones. Without a GPU that fits even int4 (or with none found) the smallest real variant
 * is still the answer, because it is the only one a CPU can run at all (4 GB of RAM, not 15).
 * The demo model is never recommended: it produces no real teacher output.
 */
export function recommendVariant(vramMiB: number | null, variants: readonly ModelVariant[] = BUILTIN_VARIANTS): VariantRecommendation {
  const real = variants.filter((v) => !v.isDemo).sort((a, b) => b.minVramMiB - a.minVramMiB);
  const smallest = real[real.length - 1];
  if (!smallest) throw new Error('the model catalog has no real variant');
  if (vramMiB === null || !Number.isFinite(vramMiB)) {
    return {
      variant: smallest,
      fitsGpu: false,
      reason: `No GPU memory size is known; ${smallest.label} is the one that also runs on a CPU.`,
    };
  }
  const fitting = real.find((v) => v.minVramMiB <= vramMiB);
  if (fitting) {
    return {
      variant: fitting,
      fitsGpu: true,
      reason: `${fitting.label} fits ${formatGiB(vramMiB)} of GPU memory (needs ${formatGiB(fitting.minVramMiB)}).`,
    };
  }
  return {
    variant: smallest,
    fitsGpu: false,
    reason: `${formatGiB(vramMiB)} of GPU memory is less than the ${formatGiB(smallest.minVramMiB)} even ${smallest.label} needs; it will run on the CPU.`,
  };
}
