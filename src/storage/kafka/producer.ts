// The one idempotent producer (acks=all) of a KafkaStorage. An append is acknowledged only when
// librdkafka's delivery report for every message of the batch came back (issue 7: delivery
// reports become publish acks). The number of messages produced and not yet reported is bounded
// (maxInFlight): appends beyond it wait in FIFO order, because unbounded producing starves the
// delivery reports (STACK.md: 31k/s unbounded vs ~270k/s bounded, from one JS thread).
import type { Buffer } from 'node:buffer';
import { EvmeshError } from '../../errors.js';
import type { KafkaRecord } from './cloudevents-binding.js';
import type { ResolvedKafkaOptions } from './options.js';
import { kafkaError, Producer, type LibrdKafkaError } from './rdkafka.js';

interface Batch {
  readonly topic: string;
  readonly partition: number;
  readonly count: number;
  readonly record: (i: number) => KafkaRecord;
  readonly timestamp: number;
  remaining: number;
  base: number;
  error: unknown;
  resolve(base: number): void;
  reject(err: unknown): void;
}

interface Report { opaque: Batch; offset: number }

/** How often delivery reports are polled while messages are in flight (librdkafka serves them
 *  only from rd_kafka_poll; node-rdkafka has no background poller in 3.6). */
const POLL_MS = 1;

export class KafkaProducer {
  private readonly producer: InstanceType<typeof Producer>;
  private inFlight = 0;
  private readonly waiting: Batch[] = [];
  private poller: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly o: ResolvedKafkaOptions, clientId: string) {
    this.producer = new Producer({
      'bootstrap.servers': o.brokers,
      'client.id': clientId,
      'enable.idempotence': true,
      'linger.ms': o.lingerMs,
      'batch.size': o.batchBytes,
      'compression.codec': o.compression,
      'message.max.bytes': o.maxMessageBytes,
      // librdkafka's own queue must hold every message we allow in flight.
      'queue.buffering.max.messages': Math.max(o.maxInFlight * 2, 100_000),
      'queue.buffering.max.kbytes': 2_097_151,
      dr_cb: true,
    }, {
      'request.required.acks': -1, // acks=all (idempotence requires it too)
      'message.timeout.ms': o.deliveryTimeoutMs,
      'request.timeout.ms': Math.min(o.requestTimeoutMs, o.deliveryTimeoutMs),
    });
    this.producer.on('delivery-report', (err: LibrdKafkaError | null, report: unknown) => this.onReport(err, report as Report));
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.producer.connect({ timeout: this.o.requestTimeoutMs }, (err) => (err ? reject(kafkaError('producer connect', err)) : resolve()));
    });
  }

  /** The producer's client, for metadata and watermark queries. */
  get client(): InstanceType<typeof Producer> { return this.producer; }

  /** Produces `count` records, `record(0)` … `record(count - 1)`, to one partition; resolves with
   *  the offset of the first once all are acknowledged. They are produced in one synchronous
   *  loop, so no other append of this producer interleaves and their offsets are contiguous.
   *  Each record is built right before its produce call and dropped after it (librdkafka copies
   *  it). Kept until their delivery reports, records outlived two scavenges and were promoted:
   *  ~620 B per event, a mark-compact every 0.5 s (KafkaStorage.append alone at 105k events/s). */
  send(topic: string, partition: number, count: number, record: (i: number) => KafkaRecord, timestamp: number): Promise<number> {
    if (this.closed) return Promise.reject(new EvmeshError('EVM_UNAVAILABLE', 'storage is closed'));
    return new Promise((resolve, reject) => {
      const b: Batch = { topic, partition, count, record, timestamp, remaining: count, base: Infinity, error: undefined, resolve, reject };
      if (this.waiting.length > 0 || (this.inFlight > 0 && this.inFlight + count > this.o.maxInFlight)) this.waiting.push(b);
      else this.produce(b);
    });
  }

  private produce(b: Batch): void {
    let produced = 0;
    try {
      for (; produced < b.count; produced++) {
        const r = b.record(produced);
        this.producer.produce(b.topic, b.partition, r.value as Buffer, r.key, b.timestamp, b, r.headers);
      }
    } catch (err) {
      // Messages produced before the failure still get reports; the batch fails when they are in.
      b.error = kafkaError(`produce to ${b.topic}/${b.partition}`, err);
      b.remaining = produced;
      if (produced === 0) { b.reject(b.error); return; }
    }
    this.inFlight += produced;
    this.startPolling();
  }

  private onReport(err: LibrdKafkaError | null, report: Report): void {
    const b = report.opaque;
    this.inFlight--;
    if (err) b.error ??= kafkaError(`delivery to ${b.topic}/${b.partition}`, err);
    else if (report.offset < b.base) b.base = report.offset;
    if (--b.remaining === 0) {
      if (b.error !== undefined) b.reject(b.error);
      else b.resolve(b.base);
    }
    while (this.waiting.length > 0 && (this.inFlight === 0 || this.inFlight + this.waiting[0]!.count <= this.o.maxInFlight)) {
      this.produce(this.waiting.shift()!);
    }
    if (this.inFlight === 0 && this.waiting.length === 0) {
      this.stopPolling();
      const w = this.idleWaiters; this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  private startPolling(): void {
    if (this.poller !== undefined || this.inFlight === 0) return;
    this.poller = setInterval(() => this.producer.poll(), POLL_MS);
  }

  private stopPolling(): void {
    if (this.poller !== undefined) { clearInterval(this.poller); this.poller = undefined; }
  }

  /** Resolves when every produced message has its delivery report. */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const waiting = this.waiting.splice(0);
    for (const b of waiting) b.reject(new EvmeshError('EVM_UNAVAILABLE', 'storage is closed'));
    // Delivery timeouts bound this: every in-flight message gets a report by then.
    await this.idle();
    this.stopPolling();
    await new Promise<void>((resolve) => this.producer.disconnect(() => resolve()));
  }
}
