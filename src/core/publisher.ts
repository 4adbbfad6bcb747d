// The publishing side of one node: events for the same (topic, partition) published in the same
// event-loop turn are coalesced into one batch (one PUBLISH message, one storage append on the
// owner), sent to the owner shard (or appended directly when this node owns the partition), and
// resolved with their offsets when the owner acknowledges the append. Pending events are bounded
// (EVM_OVERLOADED beyond maxPendingPublishes).
import { EvmeshError, fromWire, toEvmeshError } from '../errors.js';
import { MSG, type Message } from './messages.js';
import { ownerOf } from './partitioner.js';
import type { TopicInfo } from './topic-registry.js';

interface Part { start: number; resolve(base: number): void; reject(err: unknown): void }

interface Batch {
  readonly info: TopicInfo;
  readonly partition: number;
  readonly owner: number;
  readonly values: Uint8Array[];
  readonly parts: Part[];
  deadline: number;
}

export interface PublisherOptions {
  readonly nodeId: number;
  readonly shards: number;
  readonly maxPending: number;
  readonly requestTimeoutMs: number;
  readonly now: () => number;
  send(to: number, m: Message): void;
  /** Appends on this node (it owns the partition); resolves with the base offset. */
  appendLocal(info: TopicInfo, partition: number, values: Uint8Array[]): Promise<number>;
}

export class Publisher {
  /** Events accepted and not yet acknowledged or failed. */
  pending = 0;
  private buffers = new Map<TopicInfo, Map<number, Batch>>();
  private flushScheduled = false;
  private readonly inflight = new Map<number, Batch>();
  private nextId = 1;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: PublisherOptions) {}

  /** Queues encoded events for one partition; resolves with the base offset of `values`. */
  enqueue(info: TopicInfo, partition: number, values: Uint8Array[]): Promise<number> {
    if (this.pending + values.length > this.o.maxPending) {
      return Promise.reject(new EvmeshError('EVM_OVERLOADED', `too many pending publishes on node ${this.o.nodeId} (limit ${this.o.maxPending})`));
    }
    this.pending += values.length;
    let byPart = this.buffers.get(info);
    if (!byPart) { byPart = new Map(); this.buffers.set(info, byPart); }
    let batch = byPart.get(partition);
    if (!batch) {
      batch = { info, partition, owner: ownerOf(info.name, partition, this.o.shards, info.hash), values: [], parts: [], deadline: 0 };
      byPart.set(partition, batch);
    }
    const b = batch;
    const n = values.length;
    const p = new Promise<number>((resolve, reject) => {
      b.parts.push({ start: b.values.length, resolve, reject });
    });
    for (let i = 0; i < n; i++) b.values.push(values[i]!);
    if (!this.flushScheduled) { this.flushScheduled = true; queueMicrotask(() => this.flush()); }
    return p.finally(() => this.release(n));
  }

  private release(n: number): void {
    this.pending -= n;
    if (this.pending === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters; this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  /** Resolves when every accepted publish settled. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private flush(): void {
    this.flushScheduled = false;
    const buffers = this.buffers;
    this.buffers = new Map();
    for (const byPart of buffers.values()) {
      for (const batch of byPart.values()) {
        if (batch.owner === this.o.nodeId) {
          this.o.appendLocal(batch.info, batch.partition, batch.values).then((base) => settle(batch, base), (err) => fail(batch, err));
        } else {
          const id = this.nextId++;
          batch.deadline = this.o.now() + this.o.requestTimeoutMs;
          this.inflight.set(id, batch);
          this.o.send(batch.owner, { type: MSG.PUBLISH, id, topic: batch.info.name, partition: batch.partition, events: batch.values });
        }
      }
    }
  }

  onAck(m: Extract<Message, { type: typeof MSG.PUBLISH_ACK }>): void {
    const batch = this.inflight.get(m.id);
    if (!batch) return;
    this.inflight.delete(m.id);
    if (m.error) fail(batch, fromWire(m.error)); else settle(batch, m.baseOffset);
  }

  /** Fails publishes waiting for `node` (it restarted: their fate is unknown). */
  failRoutedTo(node: number): void {
    for (const [id, batch] of this.inflight) {
      if (batch.owner !== node) continue;
      this.inflight.delete(id);
      fail(batch, new EvmeshError('EVM_UNAVAILABLE', `shard ${node} restarted before acknowledging the publish`));
    }
  }

  /** Times out publishes whose owner did not answer within requestTimeoutMs (ids are in
   *  deadline order, so the scan stops at the first live one). */
  expire(now: number): void {
    for (const [id, batch] of this.inflight) {
      if (batch.deadline > now) break;
      this.inflight.delete(id);
      fail(batch, new EvmeshError('EVM_TIMEOUT', `shard ${batch.owner} did not acknowledge the publish within ${this.o.requestTimeoutMs} ms`));
    }
  }
}

function settle(batch: Batch, base: number): void {
  for (const p of batch.parts) p.resolve(base + p.start);
}

function fail(batch: Batch, err: unknown): void {
  const e = toEvmeshError(err);
  for (const p of batch.parts) p.reject(e);
}
