import { API, ModelResponse, type ModelVariantInfo } from '../../src-shared/protocol';
import type { ModelVariant } from './catalog';
import { ModelError } from './errors';

/**
 * A file's URL under one source: the base, then the file's path, each segment encoded. A base
 * that is not absolute sits under the validator's URL as the API paths do (`/v1/model/files/...`
 * below a validator at `https://host/nya` is `https://host/nya/v1/model/files/...`).
 */
export function sourceFileUrl(base: string, path: string, validatorUrl: string): string {
  const validatorBase = validatorUrl.replace(/\/+$/, '');
  const root = /^[a-z][a-z0-9+.-]*:/i.test(base) ? base : `${validatorBase}${base.startsWith('/') ? '' : '/'}${base}`;
  const url = new URL(path.split('/').map(encodeURIComponent).join('/'), root.endsWith('/') ? root : `${root}/`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ModelError('no-source', `${base} is not an HTTP(S) source.`);
  return url.href;
}

/** A validator's variant as the model manager downloads it. */
export function variantFromValidator(info: ModelVariantInfo, validatorUrl: string): ModelVariant {
  return {
    id: info.id,
    label: info.label,
    isDemo: false,
    diskBytes: info.files.reduce((sum, f) => sum + f.bytes, 0),
    minVramMiB: info.minVramMiB,
    modelHash: info.modelHash,
    files: info.files.map((f) => ({
      name: f.path,
      bytes: f.bytes,
      sha256: f.sha256,
      // A source this client cannot use (not HTTP) is skipped; the others still serve.
      urls: info.sources.flatMap((base) => {
        try {
          return [sourceFileUrl(base, f.path, validatorUrl)];
        } catch {
          return [];
        }
      }),
    })),
  };
}

/**
 * `GET /v1/model`: the teacher variants a validator accepts and where to get them. A validator
 * from before that endpoint (404) offers none; then the miner runs what it has.
 */
export async function fetchValidatorVariants(
  validatorUrl: string,
  fetchFn: typeof fetch = fetch,
  signal?: AbortSignal,
): Promise<ModelVariant[]> {
  const url = `${validatorUrl.replace(/\/+$/, '')}${API.model}`;
  let response: Response;
  try {
    response = await fetchFn(url, { signal: signal ?? AbortSignal.timeout(30_000), headers: { accept: 'application/json' } });
  } catch (error) {
    throw new ModelError('network', `cannot ask ${url} which teacher to run: ${(error as Error).message}`, { cause: error });
  }
  if (response.status === 404) {
    await response.body?.cancel();
    return [];
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new ModelError('http-status', `${url} answered HTTP ${response.status}; the validator cannot say which teacher to run.`);
  }
  const parsed = ModelResponse.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelError('corrupt', `${url} sent a malformed teacher list at ${issue.path.join('.') || 'the top'}: ${issue.message}`);
  }
  const ids = new Set(parsed.data.variants.map((v) => v.id));
  if (ids.size !== parsed.data.variants.length) throw new ModelError('corrupt', `${url} lists a teacher variant twice.`);
  return parsed.data.variants.map((v) => variantFromValidator(v, validatorUrl));
}
