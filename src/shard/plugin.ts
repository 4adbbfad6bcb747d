// A shard plugin: code that runs inside every shard next to its core — protocol adapters
// (EventMesh TCP, HTTP, gRPC) and load generators are plugins. Loaded by module URL so the
// shard entry does not import every protocol up front.
import type { EvmeshConfig } from '../config/schema.js';
import type { Client } from '../core/types.js';

export interface PluginContext {
  readonly nodeId: number;
  readonly shards: number;
  readonly config: EvmeshConfig;
  readonly client: Client;
  /** The plugin's own options from PluginSpec.options. */
  readonly options: unknown;
  /** Answers the supervisor's named query (RunningBroker.queryShards) in this shard, e.g.
   *  'tcp.clients'. Names are unique per shard; the value must be cloneable. */
  onQuery(name: string, handler: (arg: unknown) => unknown): void;
  /** The other direction: asks the main thread (Supervisor.onAsk, registered in broker.ts), for
   *  what only it can do, e.g. 'admin.deleteTopics'. */
  ask(name: string, arg?: unknown): Promise<unknown>;
}

export interface PluginInstance {
  /** Ports this plugin bound, merged into the broker's ready line (e.g. `{ tcp: 10000 }`). */
  readonly ports?: Readonly<Record<string, number>>;
  /** Anything else worth reporting to the supervisor (bench results …); must be cloneable. */
  readonly info?: unknown;
  /** Stop accepting new work; finish what is in flight. */
  drain?(): Promise<void>;
  close?(): Promise<void>;
}

export interface ShardPlugin {
  start(ctx: PluginContext): Promise<PluginInstance>;
}

export interface PluginSpec {
  /** Module URL (file: URL string) whose default export is a ShardPlugin. */
  readonly url: string;
  readonly options?: unknown;
}
