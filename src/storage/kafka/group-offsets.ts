// Consumer-group offsets in Kafka's own group coordinator: evmesh group `g` commits as Kafka group
// `${prefix}g`, so Kafka tools (kafka-consumer-groups, lag monitors) see evmesh's positions.
// librdkafka commits only for its client's group.id, so each group gets one consumer that never
// joins (explicit "simple" commits, generation -1, accepted while the Kafka group has no live
// members). Commits are asynchronous (a synchronous commit would block the main thread for a
// round trip, or for the whole timeout while the broker is down); their results arrive through
// offset_commit_cb, which librdkafka serves only from a consume call, so each group consumer runs
// node-rdkafka's consume loop on its own thread (it never has an assignment: no messages).
import type { ResolvedKafkaOptions } from './options.js';
import { KafkaConsumer, kafkaError, retrying, type LibrdKafkaError, type TopicPartitionOffset } from './rdkafka.js';

/** librdkafka's RD_KAFKA_OFFSET_INVALID: no committed offset. */
const OFFSET_INVALID = -1001;

interface PendingCommit { done(err: LibrdKafkaError | null): void }

class GroupClient {
  readonly consumer: InstanceType<typeof KafkaConsumer>;
  readonly ready: Promise<void>;
  /** Commits in the order they were sent; librdkafka reports them in that order. */
  private readonly pending: PendingCommit[] = [];

  constructor(private readonly o: ResolvedKafkaOptions, private readonly groupId: string, clientId: string) {
    this.consumer = new KafkaConsumer({
      'bootstrap.servers': o.brokers,
      'client.id': clientId,
      'group.id': groupId,
      'enable.auto.commit': false,
      'socket.timeout.ms': o.requestTimeoutMs,
      offset_commit_cb: true,
    }, {});
    this.consumer.on('offset.commit', (err: LibrdKafkaError | null) => this.pending.shift()?.done(err));
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
    await retrying<void>(`commit of ${topic}/${partition} for group ${this.groupId}`, this.o.requestTimeoutMs, (cb) => this.commitOnce(topic, partition, offset, cb));
  }

  private commitOnce(topic: string, partition: number, offset: number, cb: (err: LibrdKafkaError | null, v: void) => void): void {
    // A commit that timed out stays queued: its late report must still pair with it, not with
    // the next commit.
    let settled = false;
    const p: PendingCommit = { done: (err) => { if (settled) return; settled = true; clearTimeout(timer); cb(err, undefined); } };
    const timer = setTimeout(() => p.done({ message: `no answer within ${this.o.requestTimeoutMs} ms`, code: -185 } as LibrdKafkaError), this.o.requestTimeoutMs); // RD_KAFKA_RESP_ERR__TIMED_OUT
    this.pending.push(p);
    try {
      this.consumer.commit({ topic, partition, offset });
    } catch (err) {
      this.pending.pop();
      p.done(err as LibrdKafkaError);
    }
  }

  async fetch(topic: string, partition: number): Promise<number | undefined> {
    await this.ready;
    const tps = await retrying<TopicPartitionOffset[]>(`committed offset of ${topic}/${partition}`, this.o.requestTimeoutMs,
      (cb) => this.consumer.committed([{ topic, partition }], this.o.requestTimeoutMs, cb));
    const off = tps[0]?.offset;
    return off === undefined || off === OFFSET_INVALID || off < 0 ? undefined : off;
  }

  async close(): Promise<void> {
    for (const p of this.pending.splice(0)) p.done({ message: 'storage is closed', code: -197 } as LibrdKafkaError); // RD_KAFKA_RESP_ERR__DESTROY
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
