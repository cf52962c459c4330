export { readFineWebShard } from './read-shard';
