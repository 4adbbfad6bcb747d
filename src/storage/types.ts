// The one Storage boundary (DESIGN §3). Core and shards talk to storage only through this.
// Every implementation (log, memory, later kafka, redis …) passes test/storage/conformance.ts.
//
// Ownership: in the sharded runtime each partition has exactly one owner shard, the only
// caller of append/read/commit for that partition. Topic metadata (createTopic/listTopics/
// deleteTopic) is called by the supervisor; implementations must still tolerate a shard
// touching a partition of a topic whose metadata another instance created.

export interface TopicMeta {
  readonly name: string;
  readonly partitions: number;
  /** Creation time, ms since epoch. */
  readonly createdAt: number;
}

export interface StoredRecord {
  /** Position in the partition: 0, 1, 2 … ; never reused, even after retention removes records. */
  readonly offset: number;
  /** Broker append time, ms since epoch (used by offsetForTimestamp). */
  readonly timestamp: number;
  /** The encoded event (core/codec.ts); storage treats it as opaque bytes. */
  readonly value: Uint8Array;
}

export interface AppendResult {
  /** Offset of the first record of the batch; the batch occupies [baseOffset, baseOffset + count). */
  readonly baseOffset: number;
  readonly count: number;
}

export interface PartitionBounds {
  /** First retained offset. */
  readonly start: number;
  /** Next offset to be assigned (high watermark). start === end means empty. */
  readonly end: number;
}

export interface ReadOptions {
  /** At most this many records (default 1000). */
  readonly maxRecords?: number;
  /** Soft limit on the summed value sizes; at least one record is returned if any exists. */
  readonly maxBytes?: number;
}

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface Storage {
  readonly kind: string;
  /** Appends to one partition the owner may have in flight at once (default 1). Above 1 the
   *  storage must order a partition's records in call order (Kafka: its idempotent producer). */
  readonly appendsInFlight?: number;
  open(): Promise<void>;

  /** Idempotent: returns the existing meta when the topic exists with the same partition count;
   *  throws EVM_TOPIC_EXISTS when it exists with another count. */
  createTopic(name: string, partitions: number): Promise<TopicMeta>;
  listTopics(): Promise<TopicMeta[]>;
  /** Removes the topic, its data and its committed offsets. Returns false if it did not exist. */
  deleteTopic(name: string): Promise<boolean>;
  /** Lets go of everything this instance holds for the topic (open files, cached meta, reader
   *  positions) so that another instance's deleteTopic leaves nothing stale here; data shared
   *  with other instances (log files, Kafka) stays, data only this instance holds (memory) goes.
   *  The broker calls it on every node, once none uses the topic any more, before the controller
   *  deletes it (docs/admin.md "Deleting a topic"). */
  releaseTopic(name: string): Promise<void>;

  /** Appends one batch atomically (all records or none survive a crash). Resolves when the batch
   *  is as durable as the fsync policy promises (docs/storage.md). timestamp defaults to Date.now(). */
  append(topic: string, partition: number, values: readonly Uint8Array[], timestamp?: number): Promise<AppendResult>;
  /** Records with offset >= `offset`, in order. Reading at or past `end` returns []. Reading below
   *  `start` throws EVM_BAD_OFFSET. */
  read(topic: string, partition: number, offset: number, options?: ReadOptions): Promise<StoredRecord[]>;
  bounds(topic: string, partition: number): Promise<PartitionBounds>;
  /** First offset whose timestamp >= ts; `end` if none. */
  offsetForTimestamp(topic: string, partition: number, ts: number): Promise<number>;

  /** Commits the group's position: `offset` is the next offset the group will consume. */
  commitOffset(group: string, topic: string, partition: number, offset: number): Promise<void>;
  fetchOffset(group: string, topic: string, partition: number): Promise<number | undefined>;

  /** Makes everything appended so far durable (fsync), whatever the policy. */
  flush(): Promise<void>;
  /** Flushes and releases files; the instance is unusable afterwards. */
  close(): Promise<void>;
}

/** Valid topic names: 1–249 of [A-Za-z0-9._-] and not '.' or '..' (safe as a directory name). */
export const TOPIC_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,249}$/;
