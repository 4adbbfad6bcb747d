// Options of the Kafka storage backend (config keys `kafka.*`, docs/configuration.md).
export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4';

export interface KafkaStorageOptions {
  /** Bootstrap servers, `host:port[,host:port…]`. */
  readonly brokers: string;
  /** Prefix of every Kafka topic and consumer group this instance uses: evmesh topic `t` is Kafka
   *  topic `${prefix}t`, group `g` is Kafka group `${prefix}g`. Lets several evmesh clusters (or
   *  test runs) share one Kafka cluster. */
  readonly prefix?: string;
  /** Producer linger.ms: how long librdkafka waits to fill a batch. */
  readonly lingerMs?: number;
  /** Producer batch.size in bytes (per partition). */
  readonly batchBytes?: number;
  readonly compression?: KafkaCompression;
  /** Produced messages not yet acknowledged by a delivery report; appends wait beyond it
   *  (STACK.md: unbounded producing starves the delivery reports). */
  readonly maxInFlight?: number;
  /** A message not acknowledged by the broker in this time fails (librdkafka message.timeout.ms):
   *  while the broker is down publishes fail after it instead of hanging. */
  readonly deliveryTimeoutMs?: number;
  /** Timeout of metadata, admin, watermark, fetch and commit requests. */
  readonly requestTimeoutMs?: number;
  /** Largest Kafka message (producer message.max.bytes and the topics' max.message.bytes). */
  readonly maxMessageBytes?: number;
  /** Replication factor of topics this backend creates. */
  readonly replicationFactor?: number;
}

export const KAFKA_DEFAULTS = {
  prefix: '',
  lingerMs: 5,
  batchBytes: 1024 * 1024,
  compression: 'none',
  maxInFlight: 50_000,
  deliveryTimeoutMs: 30_000,
  requestTimeoutMs: 10_000,
  maxMessageBytes: 8 * 1024 * 1024,
  replicationFactor: 1,
} as const satisfies Required<Omit<KafkaStorageOptions, 'brokers'>>;

export type ResolvedKafkaOptions = Required<KafkaStorageOptions>;

export function resolveKafkaOptions(o: KafkaStorageOptions): ResolvedKafkaOptions {
  const r = { ...KAFKA_DEFAULTS, ...o };
  for (const k of Object.keys(r) as (keyof typeof r)[]) if (r[k] === undefined) (r as Record<string, unknown>)[k] = KAFKA_DEFAULTS[k as keyof typeof KAFKA_DEFAULTS];
  return r as ResolvedKafkaOptions;
}
