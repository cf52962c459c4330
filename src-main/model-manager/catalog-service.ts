import type { ModelCatalog } from '../../src-shared/ipc';
import { CodedError } from '../../src-shared/result';
import type { ModelDownload } from '../../src-shared/state';
import { errorMessage, type Logger } from '../../src-node/log';
import { BUILTIN_VARIANTS, fetchCatalog, type ModelVariant } from './catalog';
import type { Event } from '../../src-node/event';
import { ModelDownloadService, type ModelDownloadState } from './download-service';
import { ModelDownloader } from './downloader';
import { recommendVariant } from './recommend';

export interface ModelCatalogServiceOptions {
  modelsDir: string;
  manifestUrl: () => string | null;
  /** The chosen GPU's memory, for the recommendation; null when unknown or no GPU. */
  vramMiB: () => number | null;
  log: Logger;
  fetch?: typeof fetch;
}

/**
 * What the Settings page and onboarding ask of the model manager: the variants (with download
 * sources from the configured manifest), the one that fits this GPU, and a download whose
 * progress goes into the state snapshot.
 */
export class ModelCatalogService {
  private readonly downloads: ModelDownloadService;
  private variants: { url: string; variants: ModelVariant[] } | null = null;

  constructor(private readonly o: ModelCatalogServiceOptions) {
    this.downloads = new ModelDownloadService(new ModelDownloader({ modelsDir: o.modelsDir, ...(o.fetch ? { fetch: o.fetch } : {}) }));
  }

  get onChange(): Event<ModelDownloadState> {
    return this.downloads.onChange;
  }

  async catalog(): Promise<ModelCatalog> {
    let variants: readonly ModelVariant[] = BUILTIN_VARIANTS;
    let manifestError: string | null = null;
    const url = this.o.manifestUrl();
    if (!url) {
      manifestError =
        'No model manifest is configured: set its URL in Settings to download a model, or point the model folder at an export you made (docs/MODELS.md).';
    } else {
      try {
        variants = await this.load(url);
      } catch (error) {
        manifestError = errorMessage(error);
      }
    }
    const rec = recommendVariant(this.o.vramMiB(), variants);
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

  download(variantId: string): ModelDownload {
    const url = this.o.manifestUrl();
    const variant = this.variants && url === this.variants.url ? this.variants.variants.find((v) => v.id === variantId) : undefined;
    if (!variant)
      throw new CodedError(
        'not-found',
        `No download source for '${variantId}': load the catalog (with a model manifest configured) first.`,
      );
    if (variant.files.length === 0) throw new CodedError('not-found', `The model manifest lists no files for ${variant.label}.`);
    this.o.log.info(`downloading ${variant.label} to ${this.o.modelsDir}`);
    void this.downloads.download(variant).then((s) => {
      if (s.status === 'done') this.o.log.info(`downloaded ${variant.label} to ${s.dir}`);
      if (s.status === 'error') this.o.log.error(`model download failed: ${s.error}`);
    });
    return this.downloads.state;
  }

  cancel(): ModelDownload {
    this.downloads.cancel();
    return this.downloads.state;
  }

  dispose(): void {
    this.downloads.dispose();
  }

  private async load(url: string): Promise<ModelVariant[]> {
    if (this.variants?.url !== url) this.variants = { url, variants: await fetchCatalog(url, this.o.fetch ?? fetch) };
    return this.variants.variants;
  }
}
