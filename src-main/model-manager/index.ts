/**
 * The model manager: which teacher model variants exist and which fits this GPU, downloading one
 * (resumable, verified, with progress), and checking a model folder before the teacher loads it.
 */
export { applyManifest, BUILTIN_VARIANTS, fetchCatalog, findVariant, ManifestError } from './catalog';
export type { ModelFile, ModelVariant } from './catalog';
export { recommendVariant } from './recommend';
export { DISK_RESERVE_BYTES, ModelDownloader } from './downloader';
export type { DownloadProgress, ModelDownloaderPorts } from './downloader';
export { ChecksumMismatchError, DiskFullError, formatBytes, HttpStatusError, ModelError } from './errors';
export { verifyModelDir } from './verify';
export { ModelDownloadService } from './download-service';
export type { ModelDownloadState } from './download-service';
