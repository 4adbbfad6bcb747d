// Topic metadata on Kafka. Kafka keeps partition counts but no creation time that librdkafka can
// read, and TopicMeta.createdAt must survive restarts, so every evmesh topic also has a record in
// the compacted topic `${prefix}__evmesh_topics` (key = name, value = JSON meta, a `deleted`
// record after deleteTopic). The catalog is read at open(); a topic another node or tool created
// in Kafka is adopted on first use (looked up in Kafka's metadata, then recorded here).
import { Buffer } from 'node:buffer';
import { EvmeshError } from '../../errors.js';
import type { TopicMeta } from '../types.js';
import type { ResolvedKafkaOptions } from './options.js';
import type { KafkaProducer } from './producer.js';
import type { KafkaReader } from './reader.js';
import { AdminClient, kafkaError, retrying, type WatermarkOffsets } from './rdkafka.js';

export const CATALOG_TOPIC = '__evmesh_topics';
/** librdkafka error codes (rdkafka.h rd_kafka_resp_err_t). */
const TOPIC_ALREADY_EXISTS = 36, UNKNOWN_TOPIC_OR_PART = 3;

interface Entry { name: string; partitions?: number; createdAt?: number; deleted?: true }

export class TopicCatalog {
  private readonly admin: ReturnType<typeof AdminClient.create>;
  private readonly metas = new Map<string, TopicMeta>();
  private readonly creating = new Map<string, Promise<TopicMeta>>();

  constructor(private readonly o: ResolvedKafkaOptions, clientId: string, private readonly producer: KafkaProducer, private readonly reader: KafkaReader) {
    // create() connects.
    this.admin = AdminClient.create({ 'bootstrap.servers': o.brokers, 'client.id': clientId, 'socket.timeout.ms': o.requestTimeoutMs });
  }

  kafkaName(name: string): string { return this.o.prefix + name; }

  async open(): Promise<void> {
    await this.createInKafka(this.kafkaName(CATALOG_TOPIC), 1, { 'cleanup.policy': 'compact' });
    const topic = this.kafkaName(CATALOG_TOPIC);
    const { high } = await this.watermarks(topic, 0);
    for (let offset = 0; offset < high;) {
      const recs = await this.reader.read(topic, 0, offset, high, 1000, Infinity);
      for (const r of recs) {
        const e = JSON.parse(Buffer.from(r.value).toString('utf8')) as Entry;
        if (e.deleted) this.metas.delete(e.name);
        else this.metas.set(e.name, { name: e.name, partitions: e.partitions!, createdAt: e.createdAt! });
      }
      offset = recs.length > 0 ? recs.at(-1)!.offset + 1 : high;
    }
    // Topics deleted in Kafka behind evmesh's back are not evmesh topics any more.
    const live = await this.kafkaTopics();
    for (const name of [...this.metas.keys()]) if (!live.has(this.kafkaName(name))) this.metas.delete(name);
  }

  list(): TopicMeta[] { return [...this.metas.values()]; }

  /** The meta of `name` if the catalog has it, without asking Kafka. */
  known(name: string): TopicMeta | undefined { return this.metas.get(name); }

  /** The meta of `name`, adopting a Kafka topic of that name that the catalog does not know. */
  async get(name: string): Promise<TopicMeta | undefined> {
    const m = this.metas.get(name);
    if (m) return m;
    const pending = this.creating.get(name);
    if (pending) return pending;
    const partitions = (await this.kafkaTopics()).get(this.kafkaName(name));
    if (partitions === undefined || this.metas.has(name)) return this.metas.get(name);
    return this.record({ name, partitions, createdAt: Date.now() });
  }

  create(name: string, partitions: number): Promise<TopicMeta> {
    const known = this.metas.get(name);
    if (known) return Promise.resolve(this.same(known, partitions));
    let p = this.creating.get(name);
    if (!p) {
      p = this.doCreate(name, partitions).finally(() => this.creating.delete(name));
      this.creating.set(name, p);
      return p;
    }
    return p.then((m) => this.same(m, partitions));
  }

  private same(m: TopicMeta, partitions: number): TopicMeta {
    if (m.partitions !== partitions) throw new EvmeshError('EVM_TOPIC_EXISTS', `topic ${m.name} exists with ${m.partitions} partitions, not ${partitions}`);
    return m;
  }

  private async doCreate(name: string, partitions: number): Promise<TopicMeta> {
    const k = this.kafkaName(name);
    const created = await this.createInKafka(k, partitions, {});
    if (!created) {
      const existing = (await this.kafkaTopics()).get(k);
      if (existing !== undefined && existing !== partitions) {
        throw new EvmeshError('EVM_TOPIC_EXISTS', `Kafka topic ${k} exists with ${existing} partitions, not ${partitions}`);
      }
    }
    return this.record({ name, partitions, createdAt: Date.now() });
  }

  async delete(name: string): Promise<boolean> {
    const k = this.kafkaName(name);
    const known = this.metas.has(name) || (await this.kafkaTopics()).has(k);
    if (!known) return false;
    await new Promise<void>((resolve, reject) => {
      this.admin.deleteTopic(k, this.o.requestTimeoutMs, (err) => (err && err.code !== UNKNOWN_TOPIC_OR_PART ? reject(kafkaError(`delete topic ${k}`, err)) : resolve()));
    });
    await this.append({ name, deleted: true });
    this.metas.delete(name);
    // Kafka deletes asynchronously: wait until the metadata no longer lists it, so that a
    // createTopic of the same name right after creates a new, empty topic.
    await this.until(async () => !(await this.kafkaTopics()).has(k), `deletion of ${k}`);
    return true;
  }

  private async record(meta: TopicMeta): Promise<TopicMeta> {
    await this.append({ name: meta.name, partitions: meta.partitions, createdAt: meta.createdAt });
    const m = this.metas.get(meta.name);
    if (m) return m; // a concurrent adoption recorded it first
    this.metas.set(meta.name, meta);
    return meta;
  }

  private async append(e: Entry): Promise<void> {
    const value = Buffer.from(JSON.stringify(e));
    await this.producer.send(this.kafkaName(CATALOG_TOPIC), 0, 1, () => ({ key: e.name, value, headers: undefined }), Date.now());
  }

  /** Creates a Kafka topic and waits until every partition has a leader. False if it existed. */
  private async createInKafka(topic: string, partitions: number, config: Record<string, string>): Promise<boolean> {
    const deadline = Date.now() + this.o.requestTimeoutMs * 3;
    for (;;) {
      const err = await new Promise<{ code?: number } | undefined>((resolve) => {
        this.admin.createTopic({
          topic, num_partitions: partitions, replication_factor: this.o.replicationFactor,
          config: { 'max.message.bytes': String(this.o.maxMessageBytes), 'message.timestamp.type': 'CreateTime', ...config },
        }, this.o.requestTimeoutMs, (e) => resolve(e ?? undefined));
      });
      if (!err) break;
      if (err.code !== TOPIC_ALREADY_EXISTS) throw kafkaError(`create topic ${topic}`, err);
      // Exists: live, or still being deleted (then it vanishes from the metadata soon).
      if ((await this.kafkaTopics()).has(topic)) return false;
      if (Date.now() > deadline) throw kafkaError(`create topic ${topic}`, err);
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.until(async () => (await this.kafkaTopics(true)).get(topic) === partitions, `creation of ${topic}`);
    return true;
  }

  private async until(cond: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + this.o.requestTimeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new EvmeshError('EVM_UNAVAILABLE', `kafka ${what} not visible in the metadata after ${this.o.requestTimeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kafka topic name → partition count, from fresh metadata. With `led`, only topics whose
   *  partitions all have a leader. */
  kafkaTopics(led = false): Promise<Map<string, number>> {
    return new Promise((resolve, reject) => {
      this.producer.client.getMetadata({ timeout: this.o.requestTimeoutMs }, (err, md) => {
        if (err) { reject(kafkaError('metadata', err)); return; }
        const out = new Map<string, number>();
        for (const t of md.topics) {
          if (t.partitions.length === 0 || (led && t.partitions.some((p) => p.leader < 0))) continue;
          out.set(t.name, t.partitions.length);
        }
        resolve(out);
      });
    });
  }

  async watermarks(topic: string, partition: number): Promise<{ low: number; high: number }> {
    const w = await retrying<WatermarkOffsets>(`watermarks of ${topic}/${partition}`, this.o.requestTimeoutMs,
      (cb) => this.producer.client.queryWatermarkOffsets(topic, partition, this.o.requestTimeoutMs, cb));
    return { low: w.lowOffset, high: w.highOffset };
  }

  close(): void {
    this.admin.disconnect();
  }
}
