import type { ModelCatalog } from '../../src-shared/ipc';
import { CodedError } from '../../src-shared/result';
import type { ModelDownload } from '../../src-shared/state';
import { errorMessage, type Logger } from '../../src-node/log';
import { BUILTIN_VARIANTS, fetchCatalog, type ModelVariant } from './catalog';
import type { Event } from '../../src-node/event';
import { ModelDownloadService, type ModelDownloadState } from './download-service';
import { ModelDownloader, type ModelDownloaderPorts } from './downloader';
import { recommendVariant } from './recommend';
import { fetchValidatorVariants } from './validator-variants';

export interface ModelCatalogServiceOptions {
  modelsDir: string;
  /** The validator the miner mines for (the network's, or the user's override); null: local mode. */
  validatorUrl: () => string | null;
  manifestUrl: () => string | null;
  /** The chosen GPU's memory, for the recommendation; null when unknown or no GPU. */
  vramMiB: () => Promise<number | null>;
  log: Logger;
  fetch?: typeof fetch;
  /** Tests shrink the disk or the retry waits. */
  downloader?: Omit<ModelDownloaderPorts, 'modelsDir' | 'fetch'>;
}

/** Where the variants' files come from: the validator the miner mines for, else a model manifest. */
type VariantSource = { kind: 'validator' | 'manifest'; url: string };

/**
 * What the Settings page, onboarding and the teacher provisioner ask of the model manager: the
 * variants (with download sources from the validator, or the configured manifest), the one that
 * fits this GPU, and a download whose progress goes into the state snapshot.
 */
export class ModelCatalogService {
  readonly downloads: ModelDownloadService;
  private loaded: { source: VariantSource; variants: ModelVariant[] } | null = null;

  constructor(private readonly o: ModelCatalogServiceOptions) {
    this.downloads = new ModelDownloadService(
      new ModelDownloader({ modelsDir: o.modelsDir, ...o.downloader, ...(o.fetch ? { fetch: o.fetch } : {}) }),
    );
  }

  get onChange(): Event<ModelDownloadState> {
    return this.downloads.onChange;
  }

  async catalog(): Promise<ModelCatalog> {
    let variants: readonly ModelVariant[] = BUILTIN_VARIANTS;
    let manifestError: string | null = null;
    const source = this.source();
    if (!source) {
      manifestError =
        'No validator or model manifest is configured: pick a network (or set a manifest URL) in Settings to download a model, or point the model folder at an export you made (docs/MODELS.md).';
    } else {
      try {
        variants = await this.variants();
        if (variants.length === 0) {
          variants = BUILTIN_VARIANTS;
          manifestError = `The validator ${source.url} offers no teacher download.`;
        }
      } catch (error) {
        manifestError = errorMessage(error);
      }
    }
    const rec = recommendVariant(await this.o.vramMiB(), variants);
    return {
      variants: variants.map((v) => ({
        id: v.id,
        label: v.label,
        isDemo: v.isDemo,
        diskBytes: v.diskBytes,
        minVramMiB: v.minVramMiB,
        downloadable: v.files.length > 0,
      })),
      recommended: { variantId: rec.variant.id, fitsGpu: rec.fitsGpu, reason: rec.reason },
      manifestError,
    };
  }

  /** The variants the current source offers (fetched once per source unless `fresh`); [] from a validator that offers none. */
  async variants(fresh = false): Promise<ModelVariant[]> {
    const source = this.source();
    if (!source) return [];
    const cached = this.loaded;
    if (!fresh && cached && cached.source.kind === source.kind && cached.source.url === source.url) return cached.variants;
    const fetchFn = this.o.fetch ?? fetch;
    const variants =
      source.kind === 'validator' ? await fetchValidatorVariants(source.url, fetchFn) : await fetchCatalog(source.url, fetchFn);
    this.loaded = { source, variants };
    return variants;
  }

  download(variantId: string): ModelDownload {
    const source = this.source();
    const loaded = this.loaded;
    const variant = source && loaded?.source.url === source.url ? loaded.variants.find((v) => v.id === variantId) : undefined;
    if (!variant)
      throw new CodedError(
        'not-found',
        `No download source for '${variantId}': load the catalog (with a validator or a model manifest configured) first.`,
      );
    if (variant.files.length === 0) throw new CodedError('not-found', `The model manifest lists no files for ${variant.label}.`);
    void this.fetch(variant);
    return this.downloads.state;
  }

  /** Downloads and verifies `variant`, logging the outcome; resolves to the final state. */
  async fetch(variant: ModelVariant): Promise<ModelDownloadState> {
    this.o.log.info(`downloading ${variant.label} to ${this.o.modelsDir}`);
    const s = await this.downloads.download(variant);
    if (s.status === 'done') this.o.log.info(`downloaded and verified ${variant.label} in ${s.dir}`);
    if (s.status === 'error') this.o.log.error(`model download failed: ${s.error}`);
    return s;
  }

  cancel(): ModelDownload {
    this.downloads.cancel();
    return this.downloads.state;
  }

  dispose(): void {
    this.downloads.dispose();
  }

  private source(): VariantSource | null {
    const validator = this.o.validatorUrl();
    if (validator) return { kind: 'validator', url: validator };
    const manifest = this.o.manifestUrl();
    return manifest ? { kind: 'manifest', url: manifest } : null;
  }
}
