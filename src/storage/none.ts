// The storage of a node that owns no partitions: the shards when every partition lives on the
// controller (storage=kafka, partitioner.ts ownerOf). Core on such a node never reads or writes
// storage; a call that does is a routing bug, so it fails loudly instead of touching data.
import { EvmeshError } from '../errors.js';
import type { AppendResult, PartitionBounds, Storage, StoredRecord, TopicMeta } from './types.js';

function misrouted(what: string): Promise<never> {
  return Promise.reject(new EvmeshError('EVM_INTERNAL', `${what} on a node that owns no partitions (they live on the controller)`));
}

export class NoStorage implements Storage {
  readonly kind = 'none';
  async open(): Promise<void> {}
  createTopic(): Promise<TopicMeta> { return misrouted('createTopic'); }
  listTopics(): Promise<TopicMeta[]> { return misrouted('listTopics'); }
  deleteTopic(): Promise<boolean> { return misrouted('deleteTopic'); }
  /** Holds nothing for any topic. */
  async releaseTopic(): Promise<void> {}
  append(): Promise<AppendResult> { return misrouted('append'); }
  read(): Promise<StoredRecord[]> { return misrouted('read'); }
  bounds(): Promise<PartitionBounds> { return misrouted('bounds'); }
  offsetForTimestamp(): Promise<number> { return misrouted('offsetForTimestamp'); }
  commitOffset(): Promise<void> { return misrouted('commitOffset'); }
  fetchOffset(): Promise<number | undefined> { return misrouted('fetchOffset'); }
  /** Nothing was written here, so there is nothing to make durable. */
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
