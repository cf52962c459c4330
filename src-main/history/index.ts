export { HistoryStore, type HistoryStoreOptions } from './history-store';
export {
  HISTORY_METRICS,
  HISTORY_RANGES,
  type HistoryMetric,
  type HistoryRange,
  type HistorySample,
  type HistorySeries,
} from './history-tiers';
export { RingBuffer } from './ring-buffer';
