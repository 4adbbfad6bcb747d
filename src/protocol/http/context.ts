// What the HTTP port's handlers share in one shard.
import type { EvmeshConfig } from '../../config/schema.js';
import type { Client } from '../../core/types.js';
import type { PublishBatcher } from './publish-batcher.js';
import type { ShardRegistry } from './registry.js';

export interface HttpContext {
  readonly client: Client;
  readonly config: EvmeshConfig;
  readonly nodeId: number;
  readonly registry: ShardRegistry;
  /** Single-event publishes of concurrent requests (REST, codes 104/107, /eventmesh/publish),
   *  batched per loop iteration. */
  readonly publisher: PublishBatcher;
  /** Deletes topics cluster-wide through the main thread (src/admin/topics.ts deleteTopics). */
  deleteTopics(names: readonly string[]): Promise<unknown>;
}
