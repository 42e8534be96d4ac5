// The config package's public surface: load a YAML experiment, print it back, describe its keys.
export { type ConfigExtras, type LoadedConfig, type LoadTextOptions, defaultName, loadConfig, loadConfigText } from './load.ts';
export { stringifyConfig } from './print.ts';
export { type ConfigField, defaultConfig, describeConfig } from './defaults.ts';
export { type BuiltinDataset, type DatasetSpec, DATASET_FORMS, parseDatasetSpec } from './dataset-spec.ts';
export { type RawConfig, configSchema } from './schema.ts';
export type * from './types.ts';
