// Reads records of one partition at a time with one assigned (not subscribed) consumer. Reads
// are serialized; a read that continues where the previous one stopped keeps the assignment (and
// librdkafka's prefetched messages), any other read re-assigns at its offset.
import { EvmeshError } from '../../errors.js';
import type { StoredRecord } from '../types.js';
import { fromKafka, type Header } from './cloudevents-binding.js';
import type { ResolvedKafkaOptions } from './options.js';
import { KafkaConsumer, kafkaError, retrying, type Message, type TopicPartitionOffset } from './rdkafka.js';

/** One consume call waits at most this long for messages (it runs on librdkafka's thread). */
const CONSUME_WAIT_MS = 50;

export class KafkaReader {
  private readonly consumer: InstanceType<typeof KafkaConsumer>;
  private at: { topic: string; partition: number; next: number } | undefined;
  /** A message consumed but not returned (maxBytes stopped the read before it). */
  private held: Message | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: ResolvedKafkaOptions, clientId: string) {
    this.consumer = new KafkaConsumer({
      'bootstrap.servers': o.brokers,
      'client.id': clientId,
      // Never joins or commits: reads use explicit assignments; group offsets live in
      // group-offsets.ts under the groups' own ids.
      'group.id': `${o.prefix}__evmesh_reader`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'fetch.wait.max.ms': 100,
      'fetch.message.max.bytes': o.maxMessageBytes,
      'socket.timeout.ms': o.requestTimeoutMs,
    }, { 'auto.offset.reset': 'error' });
    this.consumer.setDefaultConsumeTimeout(CONSUME_WAIT_MS);
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.consumer.connect({ timeout: this.o.requestTimeoutMs }, (err) => (err ? reject(kafkaError('consumer connect', err)) : resolve()));
    });
  }

  /** Up to `maxRecords` records from `offset` (the caller checked offset < end = high watermark). */
  read(topic: string, partition: number, offset: number, end: number, maxRecords: number, maxBytes: number): Promise<StoredRecord[]> {
    const run = this.chain.then(() => this.doRead(topic, partition, offset, end, maxRecords, maxBytes));
    this.chain = run.catch(() => {});
    return run;
  }

  private async doRead(topic: string, partition: number, offset: number, end: number, maxRecords: number, maxBytes: number): Promise<StoredRecord[]> {
    const at = this.at;
    if (!at || at.topic !== topic || at.partition !== partition || at.next !== offset) {
      this.held = undefined;
      this.at = undefined;
      this.consumer.assign([{ topic, partition, offset }]);
      this.at = { topic, partition, next: offset };
    }
    const want = Math.min(maxRecords, end - offset);
    const out: StoredRecord[] = [];
    let bytes = 0, next = offset;
    const deadline = Date.now() + this.o.requestTimeoutMs;
    const take = (m: Message): boolean => {
      if (m.topic !== topic || m.partition !== partition || m.offset < next) return true; // stale prefetch
      const value = fromKafka(m.value, m.headers as Header[] | undefined);
      if (out.length > 0 && bytes + value.length > maxBytes) { this.held = m; return false; }
      bytes += value.length;
      out.push({ offset: m.offset, timestamp: m.timestamp ?? 0, value });
      next = m.offset + 1;
      return true;
    };
    if (this.held) { const h = this.held; this.held = undefined; take(h); }
    while (out.length < want && this.held === undefined) {
      const batch = await this.consume(want - out.length);
      for (const m of batch) if (!take(m)) break;
      if (out.length === 0 && Date.now() > deadline) {
        this.at = undefined;
        throw new EvmeshError('EVM_UNAVAILABLE', `kafka read of ${topic}/${partition} at ${offset}: no records within ${this.o.requestTimeoutMs} ms`);
      }
      if (out.length > 0 && batch.length === 0) break; // return what arrived; the caller reads on
    }
    this.at = { topic, partition, next };
    return out;
  }

  private consume(n: number): Promise<Message[]> {
    return new Promise((resolve, reject) => {
      this.consumer.consume(n, (err, messages) => (err ? reject(kafkaError('consume', err)) : resolve(messages)));
    });
  }

  /** First offset whose timestamp >= ts, or -1 (librdkafka OFFSET_END) when there is none. */
  async offsetForTimestamp(topic: string, partition: number, ts: number): Promise<number> {
    const tps = await retrying<TopicPartitionOffset[]>(`offsetsForTimes of ${topic}/${partition}`, this.o.requestTimeoutMs,
      (cb) => this.consumer.offsetsForTimes([{ topic, partition, offset: ts }], this.o.requestTimeoutMs, cb));
    return tps[0]?.offset ?? -1;
  }

  /** Forgets the position on `topic` (deleted or recreated). */
  forget(topic: string): void {
    if (this.at?.topic === topic) { this.at = undefined; this.held = undefined; this.consumer.unassign(); }
  }

  async close(): Promise<void> {
    await this.chain;
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }
}
