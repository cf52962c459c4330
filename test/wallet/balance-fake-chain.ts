import type { AddressInfo } from 'node:net';
import { Metadata, TypeRegistry } from '@polkadot/types';
import substrateMetadataHex from '@polkadot/types-support/metadata/static-substrate';
import { u8aToHex } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import * as substrateStatic from '@polkadot/types-support/metadata/static-substrate';

/**
 * A Substrate node as far as @polkadot/api can tell: a JSON-RPC WebSocket server answering the
 * calls ApiPromise makes to start (with the real v14 metadata of the Substrate dev node, shipped
 * in @polkadot/types-support) and the storage subscriptions `api.query` uses. Accounts live in a
 * map the test edits; `unknown` records any method this server does not answer.
 */
export class FakeChain {
  readonly accounts = new Map<string, { free: bigint; reserved: bigint }>();
  readonly unknown: string[] = [];
  readonly calls: string[] = [];
  private wss: WebSocketServer | null = null;
  protected readonly registry = new TypeRegistry();
  private readonly accountType: string;
  private subscriptionSeq = 0;
  port = 0;

  /** `metadataHex`: another runtime's metadata (a sibling fake adding a pallet); default the Substrate dev node's. */
  constructor(private readonly metadataHex: `0x${string}` = substrateMetadataHex) {
    const metadata = new Metadata(this.registry, metadataHex);
    this.registry.setMetadata(metadata);
    const entry = metadata.asLatest.pallets
      .find((p) => p.name.toString() === 'System')!
      .storage.unwrap()
      .items.find((i) => i.name.toString() === 'Account')!;
    this.accountType = this.registry.lookup.getTypeDef(entry.type.asMap.value).lookupName!;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  setAccount(address: string, free: bigint, reserved = 0n): void {
    this.accounts.set(u8aToHex(decodeAddress(address)).slice(2), { free, reserved });
  }

  /** Listens on `port` (0 = a free one; pass the old port to come back on the same URL). */
  async start(port = this.port): Promise<void> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    this.port = (wss.address() as AddressInfo).port;
    wss.on('connection', (socket) => socket.on('message', (data) => this.answer(socket, String(data))));
    this.wss = wss;
  }

  /** Closes the server and drops every client, as a node going down does. */
  async stop(): Promise<void> {
    const wss = this.wss;
    this.wss = null;
    if (!wss) return;
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  private answer(socket: WebSocket, text: string): void {
    const { id, method, params } = JSON.parse(text) as { id: number; method: string; params: unknown[] };
    this.calls.push(method);
    const reply = (result: unknown) => socket.send(JSON.stringify({ jsonrpc: '2.0', id, result }));
    const notify = (name: string, subscription: string, result: unknown) =>
      socket.send(JSON.stringify({ jsonrpc: '2.0', method: name, params: { subscription, result } }));
    const genesis = `0x${'11'.repeat(32)}`;
    const head = `0x${'22'.repeat(32)}`;
    switch (method) {
      case 'rpc_methods':
        return reply({ version: 1, methods: substrateStatic.rpc.methods });
      case 'chain_getBlockHash':
        return reply(params[0] === 0 ? genesis : head);
      case 'state_getRuntimeVersion':
        return reply(substrateStatic.version);
      case 'state_getMetadata':
        return reply(this.metadataHex);
      case 'system_chain':
        return reply('Nya test chain');
      case 'system_properties':
        return reply({ ss58Format: 42, tokenDecimals: 9, tokenSymbol: 'COMAI' });
      case 'chain_getHeader':
        return reply({ parentHash: genesis, number: '0x10', stateRoot: head, extrinsicsRoot: head, digest: { logs: [] } });
      case 'state_subscribeRuntimeVersion': {
        const sub = `rv-${++this.subscriptionSeq}`;
        reply(sub);
        return notify('state_runtimeVersion', sub, substrateStatic.version);
      }
      case 'state_subscribeStorage': {
        const sub = `st-${++this.subscriptionSeq}`;
        reply(sub);
        const keys = params[0] as string[];
        return notify('state_storage', sub, { block: head, changes: keys.map((key) => [key, this.storage(key)]) });
      }
      case 'state_queryStorageAt': {
        const keys = params[0] as string[];
        return reply([{ block: head, changes: keys.map((key) => [key, this.storage(key)]) }]);
      }
      case 'state_call':
        // A node too old for Metadata_metadata_versions: the API falls back to state_getMetadata.
        return socket.send(
          JSON.stringify({
            jsonrpc: '2.0',
            id,
            error: { code: -32000, message: 'Client error: Execution failed: Exported method Metadata_metadata_versions is not found' },
          }),
        );
      case 'state_getKeysPaged':
        return reply(this.keysPaged(params[0] as string, params[1] as number, (params[2] as string | null | undefined) ?? null));
      case 'state_getStorage':
        return reply(this.storage(params[0] as string));
      case 'state_unsubscribeStorage':
      case 'state_unsubscribeRuntimeVersion':
        return reply(true);
      default:
        this.unknown.push(method);
        socket.send(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } }));
    }
  }

  /** The stored keys under `prefix` after `startKey`, in order, as `.entries()` pages through them; none here. */
  protected keysPaged(_prefix: string, _count: number, _startKey: string | null): string[] {
    return [];
  }

  /** system.account keys end in the 32-byte account id (blake2_128concat); anything else is empty. */
  protected storage(key: string): string | null {
    const SYSTEM_ACCOUNT_PREFIX = '0x26aa394eea5630e07c48ae0c9558cef7b99d880ec681799c0cf30e8886371da9';
    if (!key.startsWith(SYSTEM_ACCOUNT_PREFIX)) return null;
    const account = this.accounts.get(key.slice(-64));
    if (!account) return null;
    return this.registry
      .createType(this.accountType, { nonce: 0, providers: 1, data: { free: account.free, reserved: account.reserved } })
      .toHex();
  }
}
