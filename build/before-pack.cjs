// electron-builder `beforePack` hook: a Linux x64 build must carry ONNX Runtime's CUDA 12 provider
// libraries, which onnxruntime-node's npm package does not include (package.json's allowScripts blocks the download so
// CI and developers without a GPU do not fetch ~400 MB). docs/PACKAGING.md gives the step; this
// stops a build that forgot it, unless NYA_PACKAGE_CPU_ONLY=1 says a CPU-only build is meant.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const CUDA_PROVIDER_FILES = [
  'libonnxruntime_providers_cuda.so',
  'libonnxruntime_providers_shared.so',
  'libonnxruntime_providers_tensorrt.so',
];

function missingCudaProviderFiles(projectDir) {
  const dir = join(projectDir, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
  return CUDA_PROVIDER_FILES.filter((file) => !existsSync(join(dir, file)));
}

async function beforePack(context) {
  // electron-builder's Arch enum: 1 is x64.
  if (context.electronPlatformName !== 'linux' || context.arch !== 1) return;
  if (process.env.NYA_PACKAGE_CPU_ONLY === '1') return;
  const missing = missingCudaProviderFiles(context.packager.projectDir);
  if (missing.length > 0) {
    throw new Error(
      `ONNX Runtime's CUDA 12 provider is missing (${missing.join(', ')}). Run ` +
        '`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` first ' +
        '(docs/PACKAGING.md), or set NYA_PACKAGE_CPU_ONLY=1 for a CPU-only build.',
    );
  }
}

module.exports = beforePack;
module.exports.default = beforePack;
module.exports.CUDA_PROVIDER_FILES = CUDA_PROVIDER_FILES;
module.exports.missingCudaProviderFiles = missingCudaProviderFiles;
