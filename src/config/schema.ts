// The configuration schema: one row per key (dotted path → type, default, allowed values,
// flag, description). Everything else is derived from this table: the EvmeshConfig type,
// validation and coercion (load.ts), EVMESH_* environment names, the `evmesh start` flags and
// the docs check (test/docs.test.ts against docs/configuration.md). Add a key here only.
import { availableParallelism } from 'node:os';

export type Kind = 'string' | 'integer' | 'boolean' | 'enum' | 'size' | 'duration' | 'template';

export interface KeySpec<V> {
  readonly kind: Kind;
  /** The default value, or a function computing it at load time (then `defaultDoc` says how). */
  readonly default: V | (() => V);
  readonly defaultDoc?: string;
  /** enum: the allowed values. */
  readonly values?: readonly string[];
  /** integer/size/duration: inclusive bounds. */
  readonly min?: number;
  readonly max?: number;
  /** string: the value must match this (instead of being non-empty); `allowedDoc` words it. */
  readonly pattern?: RegExp;
  readonly allowedDoc?: string;
  /** size: the value must be a power of two. */
  readonly powerOfTwo?: boolean;
  /** size/duration: -1 is also accepted and means "unlimited". */
  readonly unlimited?: boolean;
  /** template: the placeholders it may use; it must use at least one. */
  readonly placeholders?: readonly string[];
  /** The `evmesh start` flag that sets this key, if any. */
  readonly flag?: string;
  /** Name of the flag's value in --help (enums show their values). */
  readonly metavar?: string;
  readonly description: string;
  /** Phantom: carries the value type for the derived EvmeshConfig type. */
  readonly __value?: V;
}

type Opts = Omit<KeySpec<never>, 'kind' | 'default' | '__value' | 'values'>;

const str = (def: string, o: Opts): KeySpec<string> => ({ kind: 'string', default: def, ...o });
const int = (def: number | (() => number), o: Opts): KeySpec<number> => ({ kind: 'integer', default: def, ...o });
const bool = (def: boolean, o: Opts): KeySpec<boolean> => ({ kind: 'boolean', default: def, ...o });
const size = (def: number, o: Opts): KeySpec<number> => ({ kind: 'size', default: def, ...o });
const duration = (def: number, o: Opts): KeySpec<number> => ({ kind: 'duration', default: def, ...o });
const template = (def: string, o: Opts): KeySpec<string> => ({ kind: 'template', default: def, ...o });
const oneOf = <const T extends readonly string[]>(values: T, def: T[number], o: Opts): KeySpec<T[number]> =>
  ({ kind: 'enum', default: def, values, ...o });

const KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
const HOUR = 3_600_000, DAY = 24 * HOUR;
const port = (def: number, listener: string, flag: string): KeySpec<number> =>
  int(def, { min: 0, max: 65535, flag, metavar: 'port', description: `${listener} listen port (0 = pick a free port).` });

export const SCHEMA = {
  host: str('0.0.0.0', { flag: '--host', metavar: 'addr', description: 'Address every listener binds to.' }),
  dataDir: str('./data', { flag: '--data-dir', metavar: 'dir', description: 'Directory of the embedded log (relative paths are relative to the working directory).' }),
  storage: oneOf(['log', 'memory', 'kafka'], 'log', { flag: '--storage', description: 'Storage backend: the embedded durable log, memory (ephemeral, for tests), or an Apache Kafka cluster (kafka.*; docs/storage.md).' }),
  shards: int(() => availableParallelism(), {
    min: 1, max: 1024, flag: '--shards', metavar: 'n', defaultDoc: 'number of CPUs',
    description: 'Number of shard worker threads (default: os.availableParallelism()).',
  }),
  logLevel: oneOf(['debug', 'info', 'warn', 'error'], 'info', { flag: '--log-level', description: 'Least severe log level written to stderr.' }),

  'ports.tcp': port(10000, 'EventMesh TCP', '--tcp-port'),
  'ports.http': port(10105, 'EventMesh HTTP', '--http-port'),
  'ports.grpc': port(10205, 'EventMesh gRPC', '--grpc-port'),
  'ports.admin': port(10106, 'Admin REST API', '--admin-port'),
  'ports.metrics': port(19090, 'Prometheus metrics', '--metrics-port'),

  'topics.defaultPartitions': int(8, { min: 1, max: 65535, description: 'Partition count of a topic created without an explicit count.' }),
  'topics.autoCreate': bool(true, { description: 'Create a topic on its first publish or subscribe; when false those fail with EVM_UNKNOWN_TOPIC.' }),

  'log.fsync': oneOf(['always', 'interval', 'never'], 'interval', {
    flag: '--fsync',
    description: 'When the embedded log fsyncs: before every ack (always), once per log.fsyncIntervalMs group-commit window (interval), or never before an ack (written back in the background and on segment roll).',
  }),
  'log.fsyncIntervalMs': duration(5, { min: 1, max: 60_000, description: 'Group-commit window for fsync "interval".' }),
  'log.segmentBytes': size(128 * MiB, { min: 4 * KiB, max: GiB, description: 'A partition\'s log rolls to a new segment file at this size.' }),
  'log.indexIntervalBytes': size(4 * KiB, { min: 1, max: GiB, description: 'Bytes of record batches between two entries of the sparse offset index.' }),
  'log.retentionBytes': size(-1, { min: 0, unlimited: true, description: 'Per partition: the oldest segments are deleted while the log is larger than this.' }),
  'log.retentionMs': duration(7 * DAY, { min: 0, unlimited: true, description: 'Segments whose newest record is older than this are deleted.' }),

  // Kafka storage (storage: kafka; src/storage/kafka, docs/storage.md "kafka").
  'kafka.brokers': str('127.0.0.1:9092', { flag: '--kafka-brokers', metavar: 'host:port,…', description: 'Kafka bootstrap servers (storage: kafka).' }),
  'kafka.prefix': str('', { pattern: /^[A-Za-z0-9._-]{0,100}$/, allowedDoc: 'up to 100 of [A-Za-z0-9._-] (may be empty)', description: 'Prefix of every Kafka topic and consumer group evmesh uses (evmesh topic t is Kafka topic <prefix>t), so several evmesh clusters can share one Kafka cluster.' }),
  'kafka.lingerMs': duration(5, { min: 0, max: 60_000, description: 'Producer linger.ms: how long librdkafka waits to fill a batch before sending it.' }),
  'kafka.batchBytes': size(MiB, { min: 1, max: 2_147_483_647, description: 'Producer batch.size: most bytes of one partition\'s message batch.' }),
  'kafka.compression': oneOf(['none', 'gzip', 'snappy', 'lz4'], 'none', { description: 'Producer compression codec of message batches.' }),
  'kafka.maxInFlight': int(50_000, { min: 1, max: 10_000_000, description: 'Messages produced and not yet acknowledged by a delivery report; further appends wait (unbounded producing starves the delivery reports).' }),
  'kafka.deliveryTimeoutMs': duration(30_000, { min: 1000, max: DAY, description: 'Producer message.timeout.ms: an event Kafka has not acknowledged in this time fails its publish (EVM_UNAVAILABLE) instead of waiting while the broker is down.' }),
  'kafka.requestTimeoutMs': duration(10_000, { min: 100, max: HOUR, description: 'Timeout of Kafka metadata, admin, offset, fetch and commit requests.' }),
  'kafka.maxMessageBytes': size(8 * MiB, { min: KiB, max: GiB, description: 'Largest Kafka message (producer message.max.bytes and the max.message.bytes of topics evmesh creates); keep it above limits.maxEventBytes.' }),
  'kafka.replicationFactor': int(1, { min: 1, max: 32, description: 'Replication factor of the Kafka topics evmesh creates.' }),
  'kafka.refreshMs': duration(500, { min: 10, max: HOUR, description: 'How often partitions with subscribers re-read their Kafka high watermark, so events other Kafka producers wrote (kcat, other evmesh nodes) are delivered.' }),

  'delivery.ackTimeoutMs': duration(30_000, { min: 1, max: DAY, description: 'An unacknowledged delivery is redelivered after this long.' }),
  'delivery.maxAttempts': int(16, { min: 1, max: 10_000, description: 'Deliveries of one event (first + retries) before it goes to the dead-letter topic.' }),
  'delivery.maxInflight': int(1000, { min: 1, max: 1_000_000, description: 'Unacknowledged deliveries per subscriber (per partition owner) before delivery pauses.' }),
  'delivery.deadLetterTopic': template('{topic}.{group}.DLQ', {
    placeholders: ['topic', 'group'],
    description: 'Name of the dead-letter topic of a topic and consumer group.',
  }),
  'delivery.requestTimeoutMs': duration(10_000, { min: 1, max: DAY, description: 'A request-reply call fails with EVM_TIMEOUT when no reply arrives in this time.' }),

  'limits.maxEventBytes': size(4 * MiB, { min: KiB, max: 256 * MiB, description: 'Largest encoded event accepted; larger ones fail with EVM_TOO_LARGE.' }),
  'limits.maxBatchEvents': int(10_000, { min: 1, max: 1_000_000, description: 'Most events in one batch publish.' }),
  'limits.maxFrameBytes': size(4 * MiB, { min: KiB, max: 256 * MiB, description: 'Largest frame accepted or sent on the TCP port (EventMesh TCP and evmesh binary, whole frame); a larger one closes the connection.' }),

  'tcp.maxHeaderBytes': size(64 * KiB, { min: 256, max: 4 * MiB, description: 'Largest EventMesh TCP frame header (JSON) accepted; a larger one closes the connection.' }),
  'tcp.legacyLength': bool(false, { description: 'Read and write the EventMesh TCP length field with the v1.8 formula (Go SDK) instead of the v1.9+ one (Java SDK), for every EventMesh TCP connection.' }),
  'tcp.idleTimeoutMs': duration(120_000, { min: 100, max: DAY, description: 'An EventMesh TCP connection that sends no frame for this long is closed (the Java SDK heartbeats every 30s).' }),
  'tcp.maxPendingPublishes': int(100, { min: 1, max: 100_000, description: 'EventMesh TCP publishes in flight per connection; at the limit the connection is not read until one completes.' }),
  'tcp.maxPendingRequests': int(1000, { min: 1, max: 100_000, description: 'EventMesh TCP request-reply calls awaiting their reply per connection; more fail with EVM_OVERLOADED.' }),

  'binary.idleTimeoutMs': duration(30_000, { min: 100, max: DAY, description: 'An evmesh binary connection that sends no frame for this long is closed (the SDK sends HEARTBEAT at a third of it).' }),
  'binary.maxInflightPublishes': int(64, { min: 1, max: 100_000, description: 'evmesh binary PUBLISH frames in flight per connection; at the limit the connection is not read until one is acknowledged.' }),

  // gRPC (src/protocol/grpc, spec G*)
  'grpc.maxMessageBytes': size(4 * MiB, { min: KiB, max: 256 * MiB, description: 'Largest gRPC message accepted (a CloudEvent or a whole CloudEventBatch); larger ones fail with RESOURCE_EXHAUSTED (G1: grpc-java default 4 MiB).' }),
  'grpc.maxConcurrentStreams': int(1000, { min: 1, max: 1_000_000, description: 'Calls in flight per gRPC connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); a client waits for a free one before starting another.' }),
  'grpc.clientExpiryMs': duration(60_000, { min: 100, max: DAY, description: 'A gRPC consumer subscription not refreshed by a heartbeat (or re-subscribe) for this long is removed (G18; the Java SDK heartbeats every 30 s).' }),
  'grpc.sweepIntervalMs': duration(10_000, { min: 10, max: HOUR, description: 'How often expired gRPC consumer subscriptions are looked for (G18).' }),

  // HTTP port, webhook push and WebSocket (issue 5: src/protocol/http, src/protocol/webhook).
  'http.maxBodyBytes': size(4 * MiB, { min: KiB, max: 256 * MiB, description: 'Largest HTTP request body accepted on the HTTP port; a larger one is answered 413 EVM_TOO_LARGE and the connection closed.' }),
  'http.bodyTimeoutMs': duration(10_000, { min: 100, max: HOUR, description: 'A request body that has not fully arrived this long after its headers is answered 408 EVM_TIMEOUT and the connection closed (slow clients); idle connections are closed by uWS after 10 s.' }),
  'webhook.concurrency': int(16, { min: 1, max: 10_000, description: 'Pushes in flight per webhook subscriber (its keep-alive connection pool size).' }),
  'webhook.timeoutMs': duration(5_000, { min: 1, max: HOUR, description: 'A webhook push without a complete answer in this time failed and is retried.' }),
  'webhook.maxAttempts': int(5, { min: 1, max: 1_000, description: 'Pushes of one event to a webhook before it goes to the dead-letter topic (delivery.deadLetterTopic).' }),
  'webhook.backoffBaseMs': duration(200, { min: 1, max: HOUR, description: 'Backoff before the first webhook retry; it doubles per retry (with jitter) up to webhook.backoffMaxMs.' }),
  'webhook.backoffMaxMs': duration(30_000, { min: 1, max: DAY, description: 'Longest backoff between two webhook retries.' }),
  'webhook.maxInflight': int(1000, { min: 1, max: 1_000_000, description: 'Events queued or in flight per webhook subscriber and shard (core credit).' }),
  'ws.maxBackpressureBytes': size(MiB, { min: KiB, max: GiB, description: 'WebSocket send buffer per connection; while it is over this, deliveries to the connection wait.' }),
  'ws.idleTimeoutMs': duration(120_000, { min: 8_000, max: 960_000, description: 'A WebSocket that sends or receives nothing for this long is closed (uWS resolution: ~4 s; pings are sent automatically).' }),

  'shard.ringBytes': size(MiB, { min: 4 * KiB, max: GiB, powerOfTwo: true, description: 'Capacity of each cross-shard SharedArrayBuffer ring.' }),
  'shard.maxRestarts': int(5, { min: 0, max: 1000, description: 'Restarts of a crashed shard allowed per minute before the broker gives up and exits (0 = never restart).' }),

  'shutdown.timeoutMs': duration(10_000, { min: 1, max: HOUR, description: 'On SIGTERM/SIGINT, how long draining may take before the process exits with code 1.' }),

  // Metrics and tracing (issue 8; docs/metrics.md, spec M7, M8, M30).
  'metrics.tcpTpsWindowMs': duration(30_000, { min: 100, max: HOUR, description: 'Window over which the eventmesh_tcp_*_tps gauges are computed (upstream: 30 s).' }),
  'metrics.grpcTpsWindowMs': duration(60_000, { min: 100, max: HOUR, description: 'Window over which the eventmesh_grpc_*_tps gauges are computed (upstream: 60 s).' }),
  'tracing.exporter': oneOf(['none', 'otlp'], 'none', { description: 'Where OpenTelemetry spans go: none (tracing off, nothing is recorded) or otlp (OTLP over HTTP to tracing.otlpUrl).' }),
  'tracing.otlpUrl': str('http://127.0.0.1:4318/v1/traces', { description: 'OTLP/HTTP traces endpoint used when tracing.exporter is otlp.' }),
  'tracing.serviceName': str('evmesh', { description: 'service.name of the spans evmesh exports.' }),
  'tracing.exportIntervalMs': duration(5_000, { min: 10, max: HOUR, description: 'Spans are batched and exported at least this often (upstream eventmesh.trace.export.interval: 5 s).' }),
} as const satisfies Record<string, KeySpec<unknown>>;

export type ConfigKey = keyof typeof SCHEMA;
export const CONFIG_KEYS = Object.keys(SCHEMA) as ConfigKey[];

/** The value type of one key. */
export type ConfigValue<K extends ConfigKey> = (typeof SCHEMA)[K] extends KeySpec<infer V> ? V : never;

// The nested config type derived from the dotted paths: 'ports.tcp' → { ports: { tcp: number } }.
type Head<K extends string> = K extends `${infer H}.${string}` ? H : K;
type Nest<T extends Record<string, unknown>> = {
  [H in Head<keyof T & string>]: H extends keyof T
    ? T[H]
    : Nest<{ [K in keyof T & string as K extends `${H}.${infer R}` ? R : never]: T[K] }>;
};
type Flat = { [K in ConfigKey]: ConfigValue<K> };

/** The one typed configuration object of a broker. */
export type EvmeshConfig = Nest<Flat>;

export function spec(key: ConfigKey): KeySpec<unknown> {
  return SCHEMA[key];
}

export function isConfigKey(key: string): key is ConfigKey {
  return Object.prototype.hasOwnProperty.call(SCHEMA, key);
}

/** `log.fsyncIntervalMs` → `EVMESH_LOG_FSYNC_INTERVAL_MS`. */
export function envName(key: ConfigKey): string {
  return 'EVMESH_' + key.split('.').map((seg) => seg.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** The environment variable naming a config file (between defaults and EVMESH_* keys). */
export const CONFIG_FILE_ENV = 'EVMESH_CONFIG';

export function defaultValue(key: ConfigKey): unknown {
  const d = SCHEMA[key].default as unknown;
  return typeof d === 'function' ? (d as () => unknown)() : d;
}

/** 4194304 → "4MiB"; a byte count that is not a whole number of KiB/MiB/GiB stays a number. */
export function formatSize(n: number): string {
  for (const [unit, f] of [['GiB', GiB], ['MiB', MiB], ['KiB', KiB]] as const) {
    if (n !== 0 && n % f === 0) return `${n / f}${unit}`;
  }
  return String(n);
}

/** 604800000 → "7d", 30000 → "30s"; only whole units. */
function formatDuration(ms: number): string {
  for (const [unit, f] of [['d', DAY], ['h', HOUR], ['min', 60_000], ['s', 1000]] as const) {
    if (ms % f === 0) return `${ms / f}${unit}`;
  }
  return `${ms}ms`;
}

function formatBound(s: KeySpec<unknown>, n: number): string {
  return s.kind === 'size' ? formatSize(n) : String(n);
}

function range(s: KeySpec<unknown>): string {
  const { min, max } = s;
  if (min !== undefined && max !== undefined) return ` from ${formatBound(s, min)} to ${formatBound(s, max)}`;
  if (min !== undefined) return ` of at least ${formatBound(s, min)}`;
  if (max !== undefined) return ` of at most ${formatBound(s, max)}`;
  return '';
}

/** What a key accepts, phrased to follow "is not": used by error messages and the docs. */
export function describeAllowed(key: ConfigKey): string {
  const s = spec(key);
  const unlimited = s.unlimited ? '-1 (unlimited) or ' : '';
  switch (s.kind) {
    case 'string': return s.allowedDoc ?? 'a non-empty string';
    case 'boolean': return 'true or false';
    case 'enum': return `one of ${s.values!.join(', ')}`;
    case 'integer': return `an integer${range(s)}`;
    case 'duration': return `${unlimited}a duration in ms${range(s)}`;
    case 'size':
      return `${unlimited}a ${s.powerOfTwo ? 'power-of-two ' : ''}size${range(s)} (bytes, or a string like 64KiB)`;
    case 'template':
      return `a topic name of [A-Za-z0-9._-] using ${s.placeholders!.map((p) => `{${p}}`).join(' and/or ')}`;
  }
}

/** The default as the docs show it. */
export function formatDefault(key: ConfigKey): string {
  const s = spec(key);
  if (s.defaultDoc !== undefined) return s.defaultDoc;
  const d = defaultValue(key);
  if (s.unlimited && d === -1) return '-1 (unlimited)';
  if (s.kind === 'size' && typeof d === 'number' && d >= KiB) return `${d} (${formatSize(d)})`;
  if (s.kind === 'duration' && typeof d === 'number' && d >= 1000) return `${d} (${formatDuration(d)})`;
  return typeof d === 'string' ? d : String(d);
}

/** The type as the docs show it. */
export function typeName(key: ConfigKey): string {
  return spec(key).kind;
}
