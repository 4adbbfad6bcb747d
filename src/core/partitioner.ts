// Partition choice and partition ownership.
//
// Keys hash exactly like Kafka's default partitioner (org.apache.kafka.common.utils.Utils.murmur2
// and toPositive): partition = (murmur2(utf8(key)) & 0x7fffffff) % partitions, so a key lands on
// the same partition number here as in a Kafka topic with the same partition count.
// key = the `partitionkey` extension (stringified), else `subject`; unkeyed events stick to a
// partition this node owns per publish call (Partitioner). The owner shard of (topic, partition)
// = (positive murmur2(topic) + partition) % shards, or the controller for every partition when the storage can only run on the main thread (Kafka).
import { Buffer } from 'node:buffer';
import type { MeshEvent } from './types.js';

const M = 0x5bd1e995;
let scratch = Buffer.allocUnsafe(1024);

/** Kafka's murmur2 (32-bit, seed 0x9747b28c) of `data`, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = length & ~3;
  // Kafka's switch falls through 3 → 2 → 1.
  const rem = length & 3;
  if (rem === 3) h ^= data[tail + 2]! << 16;
  if (rem >= 2) h ^= data[tail + 1]! << 8;
  if (rem >= 1) { h ^= data[tail]!; h = Math.imul(h, M); }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** murmur2 of the UTF-8 bytes of `s`, made positive like Kafka's Utils.toPositive. */
export function positiveHash(s: string): number {
  const max = s.length * 3;
  if (max > scratch.length) scratch = Buffer.allocUnsafe(Math.max(max, scratch.length * 2));
  const n = scratch.write(s, 0, 'utf8');
  return murmur2(scratch.subarray(0, n)) & 0x7fffffff;
}

/** Kafka default partitioner for a keyed record. */
export function partitionForKey(key: string, partitions: number): number {
  return positiveHash(key) % partitions;
}

/** The routing key of an event published to `topic`: `partitionkey` (stringified), else
 *  `subject` — unless the subject is the topic name itself, as EventMesh clients send it (spec
 *  T42, G*: the topic travels as the subject), where keying on it would put a whole topic in one
 *  partition — else undefined (round robin). */
export function partitionKeyOf(ev: MeshEvent, topic?: string): string | undefined {
  const a = ev.attributes;
  const pk = a.partitionkey;
  if (pk !== undefined) return String(pk);
  const subject = a.subject;
  return typeof subject === 'string' && subject !== topic ? subject : undefined;
}

/** The node that owns (topic, partition). `topicHash` = positiveHash(topic), cached by callers.
 *  With `onController` every partition belongs to the controller (node `shards`): node-rdkafka's
 *  clients work only on the main thread (STACK.md), so with storage=kafka the shards hand their
 *  publish batches to it through the rings (docs/storage.md "kafka"). */
export function ownerOf(topic: string, partition: number, shards: number, topicHash = positiveHash(topic), onController = false): number {
  return onController ? shards : (topicHash + partition) % shards;
}

/** Chooses partitions for one node. Keyed events by hash. Unkeyed events stay on this node
 *  when it owns partitions of the topic (Kafka's sticky partitioner, made shard-aware): all
 *  unkeyed events of one publish call go to one local partition, and successive calls round robin
 *  over the partitions this node owns — so they are appended without a cross-shard hop and in
 *  bigger log writes. A node that owns none of the topic's partitions (the controller, or more
 *  shards than partitions) round robins over all of them. */
export class Partitioner {
  private readonly roundRobin = new Map<string, number>();

  constructor(private readonly nodeId = 0, private readonly shards = 1, private readonly onController = false) {}

  /** The partition for unkeyed events of the next publish call to `topic`. */
  nextUnkeyed(topic: string, partitions: number, topicHash: number): number {
    const k = this.roundRobin.get(topic) ?? 0;
    this.roundRobin.set(topic, (k + 1) % 1073741824);
    if (!this.onController && this.nodeId < this.shards) {
      // Partitions p with (topicHash + p) % shards === nodeId (ownerOf): first, then every shards-th.
      const first = (((this.nodeId - topicHash) % this.shards) + this.shards) % this.shards;
      if (first < partitions) return first + (k % (Math.floor((partitions - 1 - first) / this.shards) + 1)) * this.shards;
    }
    return k % partitions;
  }

  /** The partition of `ev`: by its key, else `unkeyed` (from nextUnkeyed for this call). */
  partitionOf(topic: string, partitions: number, ev: MeshEvent, unkeyed: () => number): number {
    const key = partitionKeyOf(ev, topic);
    return key !== undefined ? partitionForKey(key, partitions) : unkeyed();
  }
}
