import { Agent, request } from 'node:http';

export interface LoopbackResponse {
  status: number;
  body: Buffer;
}

// One keep-alive pool for every simulated miner of a process, as N real miners each hold one connection.
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

/**
 * A plain `node:http` round trip for the simulated miners. `fetch` (undici) copies a request body
 * before sending it and decodes answers through web streams: several milliseconds per megabyte of
 * the simulators' CPU, which on a shared machine is taken from the validator they measure and
 * shows up in their own latency figures.
 */
export function loopbackRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Uint8Array,
): Promise<LoopbackResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body ? { ...headers, 'content-length': String(body.length) } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The JSON answer of a loopback request (every validator answer is JSON). */
export function jsonOf<T>(res: LoopbackResponse): T {
  return JSON.parse(res.body.toString('utf8')) as T;
}
