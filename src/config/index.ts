// The config module's public surface: the typed config object and how it is loaded.
export { loadConfig, defaultConfig, type LoadOptions, type ConfigOverrides } from './load.js';
export { CONFIG_KEYS, envName, type ConfigKey, type EvmeshConfig } from './schema.js';
