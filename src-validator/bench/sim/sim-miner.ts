import { sr25519PairFromSeed } from '@polkadot/util-crypto';
import { API, SOFT_LABELS_CONTENT_TYPE, type LeaseRequest } from '../../../src-shared/protocol';
import { u8aToHex } from '@polkadot/util';
import { isReady, sr25519Sign as wasmSr25519Sign } from '@polkadot/wasm-crypto';
import { HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP } from '../../../src-shared/protocol';
import { jsonOf, loopbackRequest, type LoopbackResponse } from './loopback-http';
import {
  addressOf,
  newNonce,
  sha256Hex,
  signingMessage,
  signRequest,
  type BodyDigest,
  type SignedHeaders,
  type SigningPair,
} from '../../../src-shared/request-signing';

/**
 * `signRequest` with the sr25519 signature made in WebAssembly when it is loaded (util-crypto 14
 * signs in JavaScript, ~8 ms here), so simulated miners do not starve the validator they measure.
 */
export function signFast(pair: SigningPair, method: string, path: string, body: BodyDigest, nowMs: number): SignedHeaders {
  if (!isReady()) return signRequest(pair, method, path, body, nowMs);
  const timestampMs = Math.floor(nowMs);
  const nonce = newNonce();
  const signature = wasmSr25519Sign(pair.publicKey, pair.secretKey, signingMessage(method, path, timestampMs, nonce, body));
  return {
    [HEADER_KEY]: addressOf(pair.publicKey),
    [HEADER_TIMESTAMP]: String(timestampMs),
    [HEADER_NONCE]: nonce,
    [HEADER_SIGNATURE]: u8aToHex(signature),
  };
}

function leaseRequestBody(req: Partial<LeaseRequest>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ client: 'sim-miner/1', ...req }));
}

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

  async request<T = unknown>(
    method: string,
    path: string,
    body?: Uint8Array,
    contentType = 'application/json',
    extraHeaders: Record<string, string> = {},
  ): Promise<SimResponse<T>> {
    const res = await this.requestBytes(method, path, body, contentType, extraHeaders);
    return { status: res.status, body: jsonOf<T>(res) };
  }

  /** `request` with the answer left as bytes. */
  requestBytes(
    method: string,
    path: string,
    body?: Uint8Array,
    contentType = 'application/json',
    extraHeaders: Record<string, string> = {},
  ): Promise<LoopbackResponse> {
    const bytes = body ?? new Uint8Array(0);
    const headers: Record<string, string> = {
      ...signFast(this.pair, method, path, { sha256Hex: sha256Hex(bytes) }, this.clock()),
      ...extraHeaders,
    };
    if (body) headers['content-type'] = contentType;
    return loopbackRequest(this.baseUrl + path, method, headers, body);
  }

  lease<T = unknown>(req: Partial<LeaseRequest> = {}): Promise<SimResponse<T>> {
    return this.request<T>('POST', API.lease, leaseRequestBody(req));
  }

  /** `lease` with the answer left as bytes (the benchmark parses it off the event loop). */
  leaseBytes(req: Partial<LeaseRequest> = {}): Promise<LoopbackResponse> {
    return this.requestBytes('POST', API.lease, leaseRequestBody(req));
  }

  submit<T = unknown>(taskId: string, bundle: Uint8Array): Promise<SimResponse<T>> {
    return this.request<T>('POST', API.result(taskId), bundle, SOFT_LABELS_CONTENT_TYPE);
  }

  get<T = unknown>(path: string): Promise<SimResponse<T>> {
    return this.request<T>('GET', path);
  }
}
