export { HistoryStore, type HistoryStoreOptions } from './history-store';
export { HistorySampler, type HistorySamplerOptions } from './history-sampler';
export { HISTORY_RANGES, type HistorySample, type HistorySeries } from './history-tiers';
export { RingBuffer } from './ring-buffer';
