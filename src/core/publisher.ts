// The publishing side of one node: events for the same (topic, partition) published in the same
// event-loop turn are coalesced into one batch (one PUBLISH message, one storage append on the
// owner), sent to the owner shard (or appended directly when this node owns the partition), and
// resolved with their offsets when the owner acknowledges the append. Pending events are bounded
// (EVM_OVERLOADED beyond maxPendingPublishes).
//
// A batch is one buffer: each event is encoded straight into it as `len:varint event` (the body
// of a PUBLISH message) after a gap reserved for the PUBLISH header, which is filled in when the
// batch is sent. Batch buffers are reused (Mesh.send copies); a batch for a partition this node
// owns hands the append an exact-size copy instead, since storage's tail cache keeps the views.
// Measured (docs/core.md "Numbers"): a Buffer per encoded event plus re-copying every event into
// the PUBLISH message cost ~0.4 µs/event, and every ArrayBuffer allocated counts towards V8's
// external-memory limit, whose full GCs were ~10% of a shard's time.
import { Buffer } from 'node:buffer';
import { EvmeshError, fromWire, toEvmeshError } from '../errors.js';
import { putVarint } from './bytes.js';
import { encodeEventInto } from './codec.js';
import { MSG, publishHeaderRoom, writePublishHeader, type Message } from './messages.js';
import { ownerOf } from './partitioner.js';
import type { TopicInfo } from './topic-registry.js';
import type { MeshEvent } from './types.js';

/** One publish call: resolves with every event's offset once all its batches are acknowledged,
 *  rejects with the first failure. */
interface PublishCall {
  /** Batches holding events of this call and not settled yet. */
  parts: number;
  done: boolean;
  readonly offsets: number[];
  resolve(offsets: number[]): void;
  reject(err: unknown): void;
}

/** The events of one call in one batch: event k of the part is the batch's event `start + k` and
 *  the call's event `indices[k]`. */
interface Part { readonly call: PublishCall; readonly start: number; readonly indices: number[] }

/** Batch buffers: the smallest allocated, the largest kept for reuse, how many are kept. */
const MIN_BATCH_BYTES = 64 * 1024;
const KEEP_BATCH_BYTES = 1 << 20;
const KEEP_BATCH_BUFFERS = 16;

class Batch {
  buf: Buffer;
  pos: number;
  count = 0;
  readonly room: number;
  readonly parts: Part[] = [];
  deadline = 0;

  constructor(readonly info: TopicInfo, readonly partition: number, readonly owner: number, buf: Buffer | undefined) {
    this.room = publishHeaderRoom(info.name);
    this.buf = buf !== undefined && buf.length >= this.room * 2 ? buf : Buffer.allocUnsafe(this.room + MIN_BATCH_BYTES);
    this.pos = this.room;
  }

  add(ev: MeshEvent, size: number): void {
    if (this.pos + size + 8 > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.pos + size + 8) cap *= 2;
      const next = Buffer.allocUnsafe(cap);
      next.set(this.buf.subarray(0, this.pos));
      this.buf = next;
    }
    const start = this.pos;
    try {
      this.pos = encodeEventInto(this.buf, putVarint(this.buf, start, size), ev, size);
    } catch (err) {
      this.pos = start; // e.g. the event was modified after it was validated: leave it out
      throw err;
    }
    this.count++;
  }

  /** The encoded events as views of one exact-size copy (local append; the batch buffer is
   *  reused, the copy is kept by storage's tail cache). */
  values(): Uint8Array[] {
    const copy = Buffer.allocUnsafe(this.pos - this.room); // not zero-filled: every byte is set
    this.buf.copy(copy, 0, this.room, this.pos);
    const ab = copy.buffer, base = copy.byteOffset;
    const out: Uint8Array[] = new Array(this.count);
    let p = 0;
    for (let k = 0; k < this.count; k++) {
      let len = 0, mul = 1, b: number;
      do { b = copy[p++]!; len += (b & 0x7f) * mul; mul *= 128; } while (b >= 0x80);
      out[k] = new Uint8Array(ab, base + p, len);
      p += len;
    }
    return out;
  }
}

export interface PublisherOptions {
  readonly nodeId: number;
  readonly shards: number;
  /** Every partition is owned by the controller (partitioner.ts ownerOf). */
  readonly onController: boolean;
  readonly maxPending: number;
  readonly requestTimeoutMs: number;
  readonly now: () => number;
  /** Sends an encoded PUBLISH message to another node. */
  sendBytes(to: number, message: Uint8Array): void;
  /** Appends on this node (it owns the partition); resolves with the base offset. */
  appendLocal(info: TopicInfo, partition: number, values: Uint8Array[]): Promise<number>;
}

export class Publisher {
  /** Events accepted and not yet acknowledged or failed. */
  pending = 0;
  private buffers = new Map<TopicInfo, (Batch | undefined)[]>();
  private flushScheduled = false;
  private readonly inflight = new Map<number, Batch>();
  private nextId = 1;
  private idleWaiters: (() => void)[] = [];
  /** Batch buffers free for reuse. */
  private readonly spare: Buffer[] = [];

  constructor(private readonly o: PublisherOptions) {}

  /** Queues `events` (valid; `sizes[i]` = encodedSize, `partitions[i]` their partition) and
   *  resolves with each event's offset, in input order. */
  publish(info: TopicInfo, events: readonly MeshEvent[], sizes: readonly number[], partitions: readonly number[]): Promise<number[]> {
    const n = events.length;
    if (this.pending + n > this.o.maxPending) {
      return Promise.reject(new EvmeshError('EVM_OVERLOADED', `too many pending publishes on node ${this.o.nodeId} (limit ${this.o.maxPending})`));
    }
    let byPart = this.buffers.get(info);
    if (!byPart) { byPart = []; this.buffers.set(info, byPart); }
    const batches = byPart;
    return new Promise<number[]>((resolve, reject) => {
      const call: PublishCall = { parts: 0, done: false, offsets: new Array(n), resolve, reject };
      const parts: (Part | undefined)[] = [];
      for (let i = 0; i < n; i++) {
        const p = partitions[i]!;
        let batch = batches[p];
        if (!batch) {
          batch = new Batch(info, p, ownerOf(info.name, p, this.o.shards, info.hash, this.o.onController), this.spare.pop());
          batches[p] = batch;
        }
        let part = parts[p];
        if (!part) {
          part = { call, start: batch.count, indices: [] };
          parts[p] = part;
          batch.parts.push(part);
          call.parts++;
        }
        batch.add(events[i]!, sizes[i]!);
        part.indices.push(i);
        this.pending++;
      }
      if (!this.flushScheduled) { this.flushScheduled = true; queueMicrotask(this.flush); }
    });
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

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const buffers = this.buffers;
    this.buffers = new Map();
    for (const byPart of buffers.values()) {
      for (const batch of byPart) {
        if (!batch) continue;
        if (batch.count === 0) { this.fail(batch, new EvmeshError('EVM_INTERNAL', 'no event could be encoded')); }
        else if (batch.owner === this.o.nodeId) {
          this.o.appendLocal(batch.info, batch.partition, batch.values()).then((base) => this.settle(batch, base), (err) => this.fail(batch, err));
        } else {
          const id = this.nextId++;
          batch.deadline = this.o.now() + this.o.requestTimeoutMs;
          this.inflight.set(id, batch);
          const start = writePublishHeader(batch.buf, batch.room, id, batch.info.name, batch.partition, batch.count);
          this.o.sendBytes(batch.owner, batch.buf.subarray(start, batch.pos));
        }
        // values() copied and sendBytes copied (Mesh.send): the buffer is free again.
        if (batch.buf.length <= KEEP_BATCH_BYTES && this.spare.length < KEEP_BATCH_BUFFERS) this.spare.push(batch.buf);
      }
    }
  };

  onAck(m: Extract<Message, { type: typeof MSG.PUBLISH_ACK }>): void {
    const batch = this.inflight.get(m.id);
    if (!batch) return;
    this.inflight.delete(m.id);
    if (m.error) this.fail(batch, fromWire(m.error)); else this.settle(batch, m.baseOffset);
  }

  /** Fails publishes waiting for `node` (it restarted: their fate is unknown). */
  failRoutedTo(node: number): void {
    for (const [id, batch] of this.inflight) {
      if (batch.owner !== node) continue;
      this.inflight.delete(id);
      this.fail(batch, new EvmeshError('EVM_UNAVAILABLE', `shard ${node} restarted before acknowledging the publish`));
    }
  }

  /** Times out publishes whose owner did not answer within requestTimeoutMs (ids are in
   *  deadline order, so the scan stops at the first live one). */
  expire(now: number): void {
    for (const [id, batch] of this.inflight) {
      if (batch.deadline > now) break;
      this.inflight.delete(id);
      this.fail(batch, new EvmeshError('EVM_TIMEOUT', `shard ${batch.owner} did not acknowledge the publish within ${this.o.requestTimeoutMs} ms`));
    }
  }

  private settle(batch: Batch, base: number): void {
    for (const part of batch.parts) {
      const call = part.call, idx = part.indices, first = base + part.start;
      for (let k = 0; k < idx.length; k++) call.offsets[idx[k]!] = first + k;
      if (--call.parts === 0 && !call.done) { call.done = true; call.resolve(call.offsets); }
    }
    this.release(batch.count);
  }

  private fail(batch: Batch, err: unknown): void {
    const e = toEvmeshError(err);
    for (const part of batch.parts) {
      const call = part.call;
      call.parts--;
      if (!call.done) { call.done = true; call.reject(e); }
    }
    this.release(batch.count);
  }
}
