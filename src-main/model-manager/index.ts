/**
 * The model manager: which teacher model variants exist and which fits this GPU, downloading one
 * (resumable, verified, with progress), and checking a model folder before the teacher loads it.
 */
export { applyManifest, BUILTIN_VARIANTS, fetchCatalog, findVariant, ManifestError, ModelManifest } from './catalog';
export type { ModelFile, ModelVariant, VariantId } from './catalog';
export { recommendVariant } from './recommend';
export type { VariantRecommendation } from './recommend';
export { DISK_RESERVE_BYTES, ModelDownloader, statfsFreeBytes } from './downloader';
export type { DownloadOptions, DownloadProgress, ModelDownloaderPorts } from './downloader';
export { ChecksumMismatchError, DiskFullError, formatBytes, HttpStatusError, ModelError } from './errors';
export type { ModelErrorCode } from './errors';
export { verifyModelDir } from './verify';
export type { ExternalDataFile, VerifiedModelDir, VerifyOptions } from './verify';
export { IDLE_DOWNLOAD, ModelDownloadService } from './download-service';
export type { ModelDownloadState } from './download-service';
