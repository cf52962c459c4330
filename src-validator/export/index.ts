export { writeDataset, shardFileName, type ExportRecord, type WriteDatasetOptions, type WrittenDataset } from './write-dataset';
export { ExportRecordError } from './export-record';
export { DATASET_COLUMNS } from './dataset-schema';
export type { DatasetManifest, ShardEntry } from './manifest';
