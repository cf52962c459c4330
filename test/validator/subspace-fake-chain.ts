import { Metadata, TypeRegistry } from '@polkadot/types';
import type { MetadataV14 } from '@polkadot/types/interfaces';
import substrateMetadataHex from '@polkadot/types-support/metadata/static-substrate';
import { u8aToHex } from '@polkadot/util';
import { decodeAddress, xxhashAsHex } from '@polkadot/util-crypto';
import { FakeChain } from '../wallet/balance-fake-chain';

/** SCALE magic number "meta" and the metadata version byte 14. */
const METADATA_V14_PREFIX = '0x6d6574610e';

/**
 * The Substrate dev node's real v14 metadata with one pallet more: Commune's `SubspaceModule`
 * and its `Keys` storage, a double map netuid → uid → module key with Identity hashers
 * (`StorageDoubleMap<_, Identity, u16, Identity, u16, T::AccountId>` in the subspace pallet).
 * @polkadot/api builds `api.query.subspaceModule.keys` from it as it does from a Commune node.
 */
function metadataWithSubspaceKeys(): `0x${string}` {
  const registry = new TypeRegistry();
  const v14 = new Metadata(registry, substrateMetadataHex).asV14;
  const types = v14.lookup.types;
  const idOf = (pred: (t: (typeof types)[number]) => boolean) => types.find(pred)!.id.toNumber();
  const u16 = idOf((t) => t.type.def.isPrimitive && t.type.def.asPrimitive.isU16);
  const accountId = idOf((t) => t.type.path.map(String).join('::') === 'sp_core::crypto::AccountId32');
  const netuidAndUid = types.length;
  const withKeys = registry.createType<MetadataV14>('MetadataV14', {
    lookup: {
      types: [...(types.toJSON() as unknown[]), { id: netuidAndUid, type: { path: [], params: [], def: { tuple: [u16, u16] }, docs: [] } }],
    },
    pallets: [
      ...(v14.pallets.toJSON() as unknown[]),
      {
        name: 'SubspaceModule',
        storage: {
          prefix: 'SubspaceModule',
          items: [
            {
              name: 'Keys',
              modifier: 'Optional',
              type: { map: { hashers: ['Identity', 'Identity'], key: netuidAndUid, value: accountId } },
              fallback: '0x00',
              docs: [],
            },
          ],
        },
        calls: null,
        events: null,
        constants: [],
        errors: null,
        index: 200,
      },
    ],
    extrinsic: v14.extrinsic.toJSON(),
    type: v14.type.toJSON(),
  });
  return `${METADATA_V14_PREFIX}${u8aToHex(withKeys.toU8a()).slice(2)}`;
}

const KEYS_PREFIX = xxhashAsHex('SubspaceModule', 128) + xxhashAsHex('Keys', 128).slice(2);

function u16Le(n: number): string {
  return u8aToHex(new Uint8Array([n & 0xff, n >> 8])).slice(2);
}

/** A Commune node as far as the validator's subnet registry can tell: modules registered per subnet. */
export class SubspaceFakeChain extends FakeChain {
  /** netuid → uid → SS58 key; the test edits it as registrations come and go. */
  readonly modules = new Map<number, Map<number, string>>();

  constructor() {
    super(metadataWithSubspaceKeys());
  }

  register(netuid: number, uid: number, address: string): void {
    let subnet = this.modules.get(netuid);
    if (!subnet) this.modules.set(netuid, (subnet = new Map()));
    subnet.set(uid, address);
  }

  deregister(netuid: number, uid: number): void {
    this.modules.get(netuid)?.delete(uid);
  }

  private storedKeys(): Map<string, string> {
    const stored = new Map<string, string>();
    for (const [netuid, subnet] of this.modules) {
      for (const [uid, address] of subnet) stored.set(KEYS_PREFIX + u16Le(netuid) + u16Le(uid), u8aToHex(decodeAddress(address)));
    }
    return stored;
  }

  protected override keysPaged(prefix: string, count: number, startKey: string | null): string[] {
    return [...this.storedKeys().keys()]
      .filter((k) => k.startsWith(prefix) && (startKey === null || k > startKey))
      .sort()
      .slice(0, count);
  }

  protected override storage(key: string): string | null {
    return this.storedKeys().get(key) ?? super.storage(key);
  }
}
