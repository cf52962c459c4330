export { HistoryStore } from './history-store';
export { HistorySampler } from './history-sampler';
export { type HistorySample } from './history-tiers';
export { RingBuffer } from './ring-buffer';
