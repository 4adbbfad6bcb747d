// evmesh's public API: run a broker in-process and use its client; the config loader; the error
// catalog; the shapes of events, deliveries and subscriptions; the Storage boundary.
export { startBroker, type BrokerOptions, type BrokerPorts, type RunningBroker } from './broker.js';
export { loadConfig, defaultConfig, type LoadOptions, type EvmeshConfig } from './config/index.js';
export { EvmeshError, ERRORS, type ErrorCode, type WireError } from './errors.js';
export type {
  AttrValue, Client, Delivery, GroupMode, MeshEvent, PublishResult, StartPosition, SubscribeOptions, Subscription,
} from './core/types.js';
export type { PluginContext, PluginInstance, PluginSpec, ShardPlugin } from './shard/plugin.js';
export { createStorage, LogStorage, MemoryStorage, type Storage, type TopicMeta, type StoredRecord } from './storage/index.js';
export { fromStructuredJson, toStructuredJson } from './protocol/cloudevents-json.js';
export * from './sdk/index.js';
