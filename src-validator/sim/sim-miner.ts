import { sr25519PairFromSeed } from '@polkadot/util-crypto';
import { API, SOFT_LABELS_CONTENT_TYPE, type LeaseRequest } from '../../src-shared/protocol';
import { addressOf, sha256Hex, signRequest, type SigningPair } from '../../src-shared/request-signing';

export interface SimResponse<T = unknown> {
  status: number;
  body: T;
}

/** A miner's HTTP side, for tests and the benchmark: every request signed as the real client does. */
export class SimMiner {
  readonly address: string;

  constructor(
    readonly baseUrl: string,
    readonly pair: SigningPair,
    private readonly clock: () => number = Date.now,
  ) {
    this.address = addressOf(pair.publicKey);
  }

  static fromSeed(baseUrl: string, seed: number, clock?: () => number): SimMiner {
    const bytes = new Uint8Array(32);
    new DataView(bytes.buffer).setUint32(0, seed + 1);
    return new SimMiner(baseUrl, sr25519PairFromSeed(bytes), clock);
  }

  async request<T = unknown>(method: string, path: string, body?: Uint8Array, contentType = 'application/json', extraHeaders: Record<string, string> = {}): Promise<SimResponse<T>> {
    const bytes = body ?? new Uint8Array(0);
    const headers: Record<string, string> = { ...signRequest(this.pair, method, path, { sha256Hex: sha256Hex(bytes) }, this.clock()), ...extraHeaders };
    if (body) headers['content-type'] = contentType;
    const res = await fetch(this.baseUrl + path, { method, headers, body: (body ?? null) as Uint8Array<ArrayBuffer> | null });
    return { status: res.status, body: (await res.json()) as T };
  }

  lease<T = unknown>(req: Partial<LeaseRequest> = {}): Promise<SimResponse<T>> {
    return this.request<T>('POST', API.lease, new TextEncoder().encode(JSON.stringify({ client: 'sim-miner/1', ...req })));
  }

  submit<T = unknown>(taskId: string, bundle: Uint8Array): Promise<SimResponse<T>> {
    return this.request<T>('POST', API.result(taskId), bundle, SOFT_LABELS_CONTENT_TYPE);
  }

  get<T = unknown>(path: string): Promise<SimResponse<T>> {
    return this.request<T>('GET', path);
  }
}
