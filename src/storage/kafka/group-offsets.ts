// Consumer-group offsets in Kafka's own group coordinator: evmesh group `g` commits as Kafka group
// `${prefix}g`, so Kafka tools (kafka-consumer-groups, lag monitors) see evmesh's positions.
// librdkafka commits only for its client's group.id, so each group gets one consumer that never
// joins (explicit "simple" commits, generation -1, accepted while the Kafka group has no live
// members). Commits are asynchronous (a synchronous commit would block the main thread for a
// round trip, or for the whole timeout while the broker is down); their results arrive through
// offset_commit_cb, which librdkafka serves only from a consume call, so each group consumer runs
// node-rdkafka's consume loop on its own thread (it never has an assignment: no messages).
import { EvmeshError } from '../../errors.js';
import type { ResolvedKafkaOptions } from './options.js';
import { KafkaConsumer, kafkaError, type LibrdKafkaError } from './rdkafka.js';

/** librdkafka's RD_KAFKA_OFFSET_INVALID: no committed offset. */
const OFFSET_INVALID = -1001;

interface PendingCommit { resolve(): void; reject(err: unknown): void; timer: NodeJS.Timeout }

class GroupClient {
  readonly consumer: InstanceType<typeof KafkaConsumer>;
  readonly ready: Promise<void>;
  /** Commits in the order they were sent; librdkafka reports them in that order. */
  private readonly pending: PendingCommit[] = [];

  constructor(private readonly o: ResolvedKafkaOptions, groupId: string, clientId: string) {
    this.consumer = new KafkaConsumer({
      'bootstrap.servers': o.brokers,
      'client.id': clientId,
      'group.id': groupId,
      'enable.auto.commit': false,
      'socket.timeout.ms': o.requestTimeoutMs,
      offset_commit_cb: true,
    }, {});
    this.consumer.on('offset.commit', (err: LibrdKafkaError | null) => {
      const p = this.pending.shift();
      if (!p) return;
      clearTimeout(p.timer);
      if (err) p.reject(kafkaError(`commit for group ${groupId}`, err)); else p.resolve();
    });
    this.ready = new Promise((resolve, reject) => {
      this.consumer.connect({ timeout: o.requestTimeoutMs }, (err) => {
        if (err) { reject(kafkaError(`group ${groupId} connect`, err)); return; }
        this.consumer.setDefaultConsumeLoopTimeoutDelay(100);
        this.consumer.consume(() => {}); // serves offset_commit_cb (see the file comment)
        resolve();
      });
    });
    this.ready.catch(() => {});
  }

  async commit(topic: string, partition: number, offset: number): Promise<void> {
    await this.ready;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.pending.indexOf(p);
        if (i >= 0) this.pending.splice(i, 1);
        reject(new EvmeshError('EVM_UNAVAILABLE', `kafka commit of ${topic}/${partition}: no answer within ${this.o.requestTimeoutMs} ms`));
      }, this.o.requestTimeoutMs);
      const p: PendingCommit = { resolve, reject, timer };
      this.pending.push(p);
      try {
        this.consumer.commit({ topic, partition, offset });
      } catch (err) {
        this.pending.pop();
        clearTimeout(timer);
        reject(kafkaError(`commit of ${topic}/${partition}`, err));
      }
    });
  }

  async fetch(topic: string, partition: number): Promise<number | undefined> {
    await this.ready;
    return new Promise((resolve, reject) => {
      this.consumer.committed([{ topic, partition }], this.o.requestTimeoutMs, (err, tps) => {
        if (err) { reject(kafkaError(`committed offset of ${topic}/${partition}`, err)); return; }
        const off = tps[0]?.offset;
        resolve(off === undefined || off === OFFSET_INVALID || off < 0 ? undefined : off);
      });
    });
  }

  async close(): Promise<void> {
    for (const p of this.pending.splice(0)) { clearTimeout(p.timer); p.reject(new EvmeshError('EVM_UNAVAILABLE', 'storage is closed')); }
    await this.ready.catch(() => {});
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }
}

export class GroupOffsets {
  private readonly groups = new Map<string, GroupClient>();

  constructor(private readonly o: ResolvedKafkaOptions, private readonly clientId: string) {}

  private group(group: string): GroupClient {
    let g = this.groups.get(group);
    if (!g) {
      g = new GroupClient(this.o, this.o.prefix + group, this.clientId);
      this.groups.set(group, g);
      // A group whose client failed to connect is retried on its next use.
      g.ready.catch(() => { if (this.groups.get(group) === g) { this.groups.delete(group); void g!.close(); } });
    }
    return g;
  }

  commit(group: string, topic: string, partition: number, offset: number): Promise<void> {
    return this.group(group).commit(topic, partition, offset);
  }

  fetch(group: string, topic: string, partition: number): Promise<number | undefined> {
    return this.group(group).fetch(topic, partition);
  }

  async close(): Promise<void> {
    const all = [...this.groups.values()];
    this.groups.clear();
    await Promise.all(all.map((g) => g.close()));
  }
}
