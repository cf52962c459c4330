export { readFineWebShard, type FineWebDoc, type ReadFineWebShardOptions } from './read-shard';
export { writeFineWebShard, type FineWebRow } from './write-shard';
export { FineWebShardError, type FineWebShardErrorReason } from './shard-error';
export { FINEWEB_COLUMNS } from './fineweb-doc';
