// Maps the one config object to what each layer takes (storage, core). Used by the supervisor
// (main thread) and every shard, so both sides build identical storage and core settings.
import { availableParallelism } from 'node:os';
import type { EvmeshConfig } from './config/schema.js';
import { createStorage, type Storage } from './storage/index.js';
import { NoStorage } from './storage/none.js';

/** The controller's (main thread's) storage. Kafka is imported only here: node-rdkafka must never
 *  load in a shard worker (STACK.md). */
export async function controllerStorageFor(config: EvmeshConfig): Promise<Storage> {
  if (config.storage !== 'kafka') return storageFor(config);
  const { KafkaStorage } = await import('./storage/kafka/kafka-storage.js');
  const k = config.kafka;
  return new KafkaStorage({
    brokers: k.brokers, prefix: k.prefix, lingerMs: k.lingerMs, batchBytes: k.batchBytes, compression: k.compression,
    maxInFlight: k.maxInFlight, deliveryTimeoutMs: k.deliveryTimeoutMs, requestTimeoutMs: k.requestTimeoutMs,
    maxMessageBytes: k.maxMessageBytes, replicationFactor: k.replicationFactor,
  });
}

/** A shard's storage: its own partitions' (log, memory); none with kafka, where every partition
 *  lives on the controller (coreSettings partitionsOnController). */
export function storageFor(config: EvmeshConfig): Storage {
  if (config.storage === 'kafka') return new NoStorage();
  if (config.storage === 'memory') return createStorage('memory');
  return createStorage('log', {
    dataDir: config.dataDir,
    fsync: config.log.fsync,
    fsyncIntervalMs: config.log.fsyncIntervalMs,
    segmentBytes: config.log.segmentBytes,
    indexIntervalBytes: config.log.indexIntervalBytes,
    retentionBytes: config.log.retentionBytes,
    retentionMs: config.log.retentionMs,
    // Thread per core: when the shards take every core, a pool thread only competes with them.
    inlineWrites: config.shards >= availableParallelism(),
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
    partitionsOnController: config.storage === 'kafka',
    boundsRefreshMs: config.storage === 'kafka' ? config.kafka.refreshMs : undefined,
  };
}
