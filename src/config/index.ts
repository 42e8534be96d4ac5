// The config package's public surface: load a YAML experiment, print it back, describe its keys.

export { type BuiltinDataset, DATASET_FORMS, type DatasetSpec, parseDatasetSpec } from './dataset-spec.ts';
export { type ConfigField, defaultConfig, describeConfig } from './defaults.ts';
export {
  type ConfigExtras,
  defaultName,
  type LoadedConfig,
  type LoadTextOptions,
  loadConfig,
  loadConfigText,
} from './load.ts';
export { stringifyConfig } from './print.ts';
export { configSchema, type RawConfig } from './schema.ts';
export type * from './types.ts';
