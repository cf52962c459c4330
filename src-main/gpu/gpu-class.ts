import type { GpuTelemetry } from '../../src-shared/state';

/**
 * The leaderboard's GPU class: the model a volunteer would name ("RTX 4090", "A100", "Radeon RX
 * 7900 XTX"), without vendor prefixes or data-centre packaging, so boards of one model group
 * together whatever the driver calls them. The teacher runs on one device, so that is the class.
 */
export function gpuClass(gpus: readonly GpuTelemetry[], deviceIndex = 0): string {
  const gpu = gpus.find((candidate) => candidate.index === deviceIndex) ?? gpus[0];
  return gpu ? gpuModelName(gpu.name) : 'cpu';
}

export function gpuModelName(name: string): string {
  const words = name
    .replace(/\((?:R|TM)\)/gi, ' ')
    // A100-SXM4-80GB, V100-PCIE-16GB: the part after the model is packaging and memory size.
    .replace(/-(?:SXM\d*|PCIE|\d+GB)\b.*$/i, '')
    .split(/\s+/)
    .filter((word) => word.length > 0 && !PACKAGING_WORD.test(word));
  while (words.length > 1 && VENDOR_WORD.test(words[0]!)) words.shift();
  if (words.length > 1 && words[words.length - 1]!.toUpperCase() === 'GPU') words.pop();
  return words.join(' ') || name.trim();
}

const VENDOR_WORD = /^(?:NVIDIA|GeForce|Tesla|AMD|ATI|Intel)$/i;
const PACKAGING_WORD = /^(?:\d+GB|HBM\d*e?|PCIe|SXM\d*|NVL)$/i;
