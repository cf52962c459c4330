import type { ExecutionProviderChoice } from '../../src-shared/state';

/**
 * Which ONNX Runtime execution providers to try, in order, for a setting on a platform, as
 * onnxruntime-node's prebuilt binaries offer them: CUDA 12 only in the Linux x64 build, DirectML
 * only in the Windows x64 build (which has no CUDA), CPU everywhere. Pure, so the choice is tested
 * for every platform on any one of them.
 */
export type ProviderName = 'cuda' | 'dml' | 'cpu';

export interface ProviderPlan {
  /** Tried in order; the last is always 'cpu'. */
  candidates: ProviderName[];
  /** Why a requested provider is not even tried here (null when nothing was ruled out). */
  ruledOut: string | null;
}

const LABEL: Record<ProviderName, string> = { cuda: 'CUDA', dml: 'DirectML', cpu: 'CPU' };

export function providerLabel(name: ProviderName): string {
  return LABEL[name];
}

export function planProviders(choice: ExecutionProviderChoice, platform: string, arch: string): ProviderPlan {
  const native: ProviderName | null =
    platform === 'linux' && arch === 'x64' ? 'cuda' : platform === 'win32' && arch === 'x64' ? 'dml' : null;
  if (choice === 'cpu') return { candidates: ['cpu'], ruledOut: null };
  if (choice === 'auto')
    return {
      candidates: native ? [native, 'cpu'] : ['cpu'],
      ruledOut: native ? null : `no GPU provider in onnxruntime-node for ${platform}-${arch}`,
    };
  if (choice === native) return { candidates: [choice, 'cpu'], ruledOut: null };
  const where = choice === 'cuda' ? 'Linux x64' : 'Windows x64';
  return { candidates: ['cpu'], ruledOut: `${LABEL[choice]} is only in onnxruntime-node's ${where} build (this is ${platform}-${arch})` };
}

/** ONNX Runtime's session option for a provider. */
export function providerOption(name: ProviderName, deviceId: number): string | { name: string; deviceId: number } {
  return name === 'cpu' ? 'cpu' : { name, deviceId };
}

/** The sentence for TeacherState.providerReason and the log. */
export function providerReason(used: ProviderName, choice: ExecutionProviderChoice, failures: string[], ruledOut: string | null): string {
  const why = [ruledOut, ...failures].filter(Boolean).join('; ');
  if (used === 'cpu') {
    if (choice === 'cpu') return 'CPU chosen in settings';
    return why ? `${why}; using CPU` : 'no GPU provider available; using CPU';
  }
  return `${LABEL[used]} ${choice === 'auto' ? 'selected automatically' : 'chosen in settings'}`;
}

/**
 * Why a provider that was tried is not used, in words and with what to install. ONNX Runtime says
 * only `OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library` whether its
 * own CUDA provider library is missing (onnxruntime-node's install script did not fetch it) or the
 * CUDA and cuDNN libraries that library needs are; `providerLibraryInstalled` tells them apart.
 */
export function providerFailure(name: ProviderName, rawMessage: string, providerLibraryInstalled: boolean): string {
  const raw = rawMessage.split('\n')[0]!.trim();
  if (name !== 'cuda' || !/Failed to load (shared )?librar/i.test(raw)) return `${LABEL[name]} unavailable: ${raw}`;
  const needs = 'an NVIDIA GPU with its driver, and the CUDA 12 and cuDNN 9 runtime libraries on the library path';
  return providerLibraryInstalled
    ? `the GPU is not used: CUDA 12 or cuDNN 9 could not be loaded (CUDA needs ${needs})`
    : 'the GPU is not used: onnxruntime-node was installed without its CUDA provider; ' +
        `add it with \`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js\` (CUDA also needs ${needs})`;
}
