// Storage on Apache Kafka through node-rdkafka (DESIGN §3, issue 7). An evmesh topic is a Kafka
// topic with the same partitions (`${prefix}name`), a consumer group is a Kafka group, offsets are
// Kafka offsets, events are Kafka messages in the CloudEvents binary binding
// (cloudevents-binding.ts). Main thread only (rdkafka.ts); docs/storage.md "kafka" says what each
// Storage promise means here (durability = acks=all on the topic's in-sync replicas; a batch is
// not atomic across a producer failure).
import { randomUUID } from 'node:crypto';
import { EvmeshError } from '../../errors.js';
import type { AppendResult, PartitionBounds, ReadOptions, Storage, StoredRecord, TopicMeta } from '../types.js';
import { TOPIC_NAME } from '../types.js';
import { toKafka } from './cloudevents-binding.js';
import { GroupOffsets } from './group-offsets.js';
import { resolveKafkaOptions, type KafkaStorageOptions, type ResolvedKafkaOptions } from './options.js';
import { KafkaProducer } from './producer.js';
import { KafkaReader } from './reader.js';
import { CATALOG_TOPIC, TopicCatalog } from './topic-catalog.js';

/** Kafka's limit on a topic name (kafka.common.internals.Topic.MAX_NAME_LENGTH). */
const KAFKA_MAX_TOPIC = 249;

export class KafkaStorage implements Storage {
  readonly kind = 'kafka';
  /** The owner may pipeline appends: they reach the producer in call order (append) and its
   *  idempotent producer keeps a partition's order; the producer bounds messages in flight. */
  readonly appendsInFlight = Infinity;
  private readonly o: ResolvedKafkaOptions;
  private readonly producer: KafkaProducer;
  private readonly reader: KafkaReader;
  private readonly catalog: TopicCatalog;
  private readonly groups: GroupOffsets;
  private state: 'new' | 'open' | 'closed' = 'new';
  /** Appends waiting for a topic lookup, and the chain that produces them in call order. */
  private held = 0;
  private lookups: Promise<unknown> = Promise.resolve();

  constructor(options: KafkaStorageOptions) {
    this.o = resolveKafkaOptions(options);
    if (!/^[A-Za-z0-9._-]{0,100}$/.test(this.o.prefix)) {
      throw new EvmeshError('EVM_BAD_CONFIG', `kafka prefix ${JSON.stringify(this.o.prefix)} is not up to 100 of [A-Za-z0-9._-]`);
    }
    const id = `evmesh-${randomUUID().slice(0, 8)}`;
    this.producer = new KafkaProducer(this.o, id);
    this.reader = new KafkaReader(this.o, id);
    this.catalog = new TopicCatalog(this.o, id, this.producer, this.reader);
    this.groups = new GroupOffsets(this.o, id);
  }

  get prefix(): string { return this.o.prefix; }

  /** Longest evmesh topic name: Kafka's 249 less the prefix. */
  get maxTopicName(): number { return KAFKA_MAX_TOPIC - this.o.prefix.length; }

  async open(): Promise<void> {
    if (this.state !== 'new') throw new EvmeshError('EVM_INTERNAL', `kafka storage is ${this.state}`);
    try {
      await Promise.all([this.producer.connect(), this.reader.connect()]);
      await this.catalog.open();
    } catch (err) {
      await this.close().catch(() => {});
      throw err;
    }
    this.state = 'open';
  }

  private check(): void {
    if (this.state !== 'open') throw new EvmeshError('EVM_UNAVAILABLE', `storage is ${this.state === 'new' ? 'not open' : 'closed'}`);
  }

  private checkName(name: string): void {
    if (typeof name !== 'string' || !TOPIC_NAME.test(name) || name.length > this.maxTopicName) {
      throw new EvmeshError('EVM_BAD_TOPIC', `invalid topic name ${JSON.stringify(name)} (Kafka: at most ${this.maxTopicName} of [A-Za-z0-9._-] after the prefix)`);
    }
    if (name === CATALOG_TOPIC) throw new EvmeshError('EVM_BAD_TOPIC', `topic name ${name} is reserved for evmesh's topic catalog`);
  }

  async createTopic(name: string, partitions: number): Promise<TopicMeta> {
    this.check();
    this.checkName(name);
    if (!Number.isInteger(partitions) || partitions < 1) throw new EvmeshError('EVM_BAD_REQUEST', `partitions must be an integer >= 1, got ${partitions}`);
    return this.catalog.create(name, partitions);
  }

  async listTopics(): Promise<TopicMeta[]> {
    this.check();
    return this.catalog.list();
  }

  async deleteTopic(name: string): Promise<boolean> {
    this.check();
    this.checkName(name);
    await this.releaseTopic(name);
    return this.catalog.delete(name);
  }

  /** The reader's position on the topic is the only state held per topic. */
  async releaseTopic(name: string): Promise<void> {
    this.check();
    this.checkName(name);
    this.reader.forget(this.catalog.kafkaName(name));
  }

  /** Checks the topic and partition; returns the Kafka topic name. */
  private async part(topic: string, partition: number): Promise<string> {
    this.check();
    if (TOPIC_NAME.test(topic)) await this.catalog.get(topic);
    return this.knownPart(topic, partition);
  }

  /** part() for a topic the catalog already has; throws EVM_UNKNOWN_TOPIC otherwise. */
  private knownPart(topic: string, partition: number): string {
    this.check();
    const meta = TOPIC_NAME.test(topic) ? this.catalog.known(topic) : undefined;
    if (!meta) throw new EvmeshError('EVM_UNKNOWN_TOPIC', `unknown topic ${topic}`);
    if (!Number.isInteger(partition) || partition < 0 || partition >= meta.partitions) {
      throw new EvmeshError('EVM_BAD_REQUEST', `topic ${topic} has no partition ${partition}`);
    }
    return this.catalog.kafkaName(topic);
  }

  /** Appends reach the producer in call order, which is what lets the owner keep several in
   *  flight (appendsInFlight): one of a topic in the catalog is produced before append returns;
   *  one of a topic to look up in Kafka first holds every later append behind it. */
  append(topic: string, partition: number, values: readonly Uint8Array[], timestamp = Date.now()): Promise<AppendResult> {
    if (this.held === 0 && this.state === 'open' && this.catalog.known(topic)) return this.produce(topic, partition, values, timestamp);
    this.held++;
    const produced = this.lookups.then(() => this.part(topic, partition)).then(
      () => { this.held--; return { done: this.produce(topic, partition, values, timestamp) }; },
      (err: unknown) => { this.held--; throw err; },
    );
    this.lookups = produced.catch(() => {});
    return produced.then((p) => p.done);
  }

  private produce(topic: string, partition: number, values: readonly Uint8Array[], timestamp: number): Promise<AppendResult> {
    let k: string;
    try {
      k = this.knownPart(topic, partition);
      if (!Array.isArray(values) || !values.every((v) => v instanceof Uint8Array)) {
        throw new EvmeshError('EVM_BAD_REQUEST', 'values must be an array of Uint8Array');
      }
      if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
        throw new EvmeshError('EVM_BAD_REQUEST', `timestamp must be an integer >= 0 (ms since epoch), got ${timestamp}`);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    if (values.length === 0) return this.catalog.watermarks(k, partition).then((w) => ({ baseOffset: w.high, count: 0 }));
    return this.producer.send(k, partition, values.length, (i) => toKafka(topic, values[i]!), timestamp).then((baseOffset) => ({ baseOffset, count: values.length }));
  }

  async read(topic: string, partition: number, offset: number, options: ReadOptions = {}): Promise<StoredRecord[]> {
    const k = await this.part(topic, partition);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new EvmeshError('EVM_BAD_OFFSET', `offset must be an integer >= 0, got ${offset}`);
    const { maxRecords = 1000, maxBytes = Infinity } = options;
    if (!Number.isInteger(maxRecords) || maxRecords < 1) throw new EvmeshError('EVM_BAD_REQUEST', `maxRecords must be an integer >= 1, got ${maxRecords}`);
    if (!(maxBytes > 0)) throw new EvmeshError('EVM_BAD_REQUEST', `maxBytes must be > 0, got ${maxBytes}`);
    const { low, high } = await this.catalog.watermarks(k, partition);
    if (offset < low) throw new EvmeshError('EVM_BAD_OFFSET', `offset ${offset} is below the first retained offset ${low} of ${topic}/${partition}`);
    if (offset >= high) return [];
    return this.reader.read(k, partition, offset, high, maxRecords, maxBytes);
  }

  async bounds(topic: string, partition: number): Promise<PartitionBounds> {
    const k = await this.part(topic, partition);
    const { low, high } = await this.catalog.watermarks(k, partition);
    return { start: low, end: high };
  }

  async offsetForTimestamp(topic: string, partition: number, ts: number): Promise<number> {
    const k = await this.part(topic, partition);
    const found = await this.reader.offsetForTimestamp(k, partition, Math.max(0, Math.min(ts, Number.MAX_SAFE_INTEGER)));
    // -1 (OFFSET_END): no record at or after ts.
    return found >= 0 ? found : (await this.catalog.watermarks(k, partition)).high;
  }

  async commitOffset(group: string, topic: string, partition: number, offset: number): Promise<void> {
    const k = await this.part(topic, partition);
    if (typeof group !== 'string' || group === '') throw new EvmeshError('EVM_BAD_REQUEST', 'consumer group must be a non-empty string');
    if (!Number.isSafeInteger(offset) || offset < 0) throw new EvmeshError('EVM_BAD_REQUEST', `offset must be an integer >= 0, got ${offset}`);
    await this.groups.commit(group, k, partition, offset);
  }

  async fetchOffset(group: string, topic: string, partition: number): Promise<number | undefined> {
    const k = await this.part(topic, partition);
    if (typeof group !== 'string' || group === '') throw new EvmeshError('EVM_BAD_REQUEST', 'consumer group must be a non-empty string');
    return this.groups.fetch(group, k, partition);
  }

  /** Every append is already acknowledged by Kafka (acks=all) when it resolves: waits for the
   *  ones still in flight. */
  async flush(): Promise<void> {
    this.check();
    await this.producer.idle();
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.producer.close();
    await Promise.all([this.reader.close(), this.groups.close()]);
    this.catalog.close();
  }
}
