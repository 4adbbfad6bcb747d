// What the HTTP port's handlers share in one shard.
import type { EvmeshConfig } from '../../config/schema.js';
import type { Client } from '../../core/types.js';
import type { ShardRegistry } from './registry.js';

export interface HttpContext {
  readonly client: Client;
  readonly config: EvmeshConfig;
  readonly nodeId: number;
  readonly registry: ShardRegistry;
}
