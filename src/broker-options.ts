// Maps the one config object to what each layer takes (storage, core). Used by the supervisor
// (main thread) and every shard, so both sides build identical storage and core settings.
import type { EvmeshConfig } from './config/schema.js';
import { createStorage, type Storage } from './storage/index.js';

export function storageFor(config: EvmeshConfig): Storage {
  if (config.storage === 'memory') return createStorage('memory');
  return createStorage('log', {
    dataDir: config.dataDir,
    fsync: config.log.fsync,
    fsyncIntervalMs: config.log.fsyncIntervalMs,
    segmentBytes: config.log.segmentBytes,
    indexIntervalBytes: config.log.indexIntervalBytes,
    retentionBytes: config.log.retentionBytes,
    retentionMs: config.log.retentionMs,
  });
}

export function coreSettings(config: EvmeshConfig) {
  return {
    shards: config.shards,
    defaultPartitions: config.topics.defaultPartitions,
    autoCreateTopics: config.topics.autoCreate,
    ackTimeoutMs: config.delivery.ackTimeoutMs,
    maxAttempts: config.delivery.maxAttempts,
    maxInflight: config.delivery.maxInflight,
    deadLetterTopic: config.delivery.deadLetterTopic,
    requestTimeoutMs: config.delivery.requestTimeoutMs,
    maxEventBytes: config.limits.maxEventBytes,
    maxBatchEvents: config.limits.maxBatchEvents,
  };
}
