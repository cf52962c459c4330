import { describe, expect, it } from 'vitest';
import { planProviders, providerFailure, providerReason } from '../../src-main/teacher/execution-provider';

describe('planProviders', () => {
  it.each([
    ['auto', 'linux', 'x64', ['cuda', 'cpu']],
    ['auto', 'win32', 'x64', ['dml', 'cpu']],
    ['auto', 'darwin', 'arm64', ['cpu']],
    ['auto', 'linux', 'arm64', ['cpu']],
    ['cuda', 'linux', 'x64', ['cuda', 'cpu']],
    ['dml', 'win32', 'x64', ['dml', 'cpu']],
    ['cuda', 'win32', 'x64', ['cpu']],
    ['dml', 'linux', 'x64', ['cpu']],
    ['cpu', 'linux', 'x64', ['cpu']],
  ] as const)('%s on %s-%s tries %j', (choice, platform, arch, expected) => {
    expect(planProviders(choice, platform, arch).candidates).toEqual(expected);
  });

  it('says why CUDA is not used on Windows', () => {
    const plan = planProviders('cuda', 'win32', 'x64');
    expect(providerReason('cpu', 'cuda', [], plan.ruledOut)).toBe(
      "CUDA is only in onnxruntime-node's Linux x64 build (this is win32-x64); using CPU",
    );
  });

  it('passes on the failure of a provider that was tried', () => {
    expect(providerReason('cpu', 'auto', ['CUDA unavailable: Failed to load shared library'], null)).toBe(
      'CUDA unavailable: Failed to load shared library; using CPU',
    );
    expect(providerReason('cuda', 'auto', [], null)).toBe('CUDA selected automatically');
  });

  it('says in words why CUDA could not load, and what to install', () => {
    const raw = 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library';
    const noProvider = providerFailure('cuda', raw, false);
    expect(noProvider).toMatch(/^the GPU is not used: onnxruntime-node was installed without its CUDA provider/);
    expect(noProvider).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js');
    const noLibraries = providerFailure('cuda', raw, true);
    expect(noLibraries).toMatch(/CUDA 12 or cuDNN 9 could not be loaded/);
    expect(noLibraries).toMatch(/driver/);
    for (const sentence of [noProvider, noLibraries]) expect(sentence).not.toContain('OrtSessionOptions');
    expect(providerFailure('dml', 'DirectML device lost\nmore', true)).toBe('DirectML unavailable: DirectML device lost');
  });
});
