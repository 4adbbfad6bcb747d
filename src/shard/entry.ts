// The shard worker's entry module: one storage instance (the partitions this shard owns), one
// Core, and the configured plugins (protocol adapters, load generators), run under the
// supervisor's lifecycle (worker-host.ts).
import { Core } from '../core/core.js';
import { EvmeshError } from '../errors.js';
import type { EvmeshConfig } from '../config/schema.js';
import { coreSettings, storageFor } from '../broker-options.js';
import { threadMetrics } from '../metrics/shard.js';
import { startTracing, stopTracing } from '../metrics/tracing.js';
import type { PluginInstance, PluginSpec, ShardPlugin } from './plugin.js';
import { runShard, type ShardApp } from './worker-host.js';

export interface ShardData {
  readonly config: EvmeshConfig;
  readonly plugins: readonly PluginSpec[];
}

export interface ShardReady {
  readonly ports: Record<string, number>;
  readonly info: unknown[];
}

let core: Core | undefined;
const plugins: PluginInstance[] = [];
let storageClose: (() => Promise<void>) | undefined;
const queries = new Map<string, (arg: unknown) => unknown>();

function onQuery(name: string, handler: (arg: unknown) => unknown): void {
  if (queries.has(name)) throw new EvmeshError('EVM_CONFLICT', `query '${name}' is answered twice`);
  queries.set(name, handler);
}

const app: ShardApp = {
  async start(ctx) {
    const { config, plugins: specs } = ctx.workerData as ShardData;
    await startTracing(config, String(ctx.nodeId));
    const storage = storageFor(config);
    await storage.open();
    storageClose = () => storage.close();
    core = new Core({ ...coreSettings(config), mesh: ctx.mesh, storage });
    await core.start();
    const c = core;
    onQuery('core.stats', () => c.stats());
    // Topic deletion (src/admin/topics.ts): the controller asks every shard to let go first.
    onQuery('core.releaseTopic', (name) => c.releaseTopic(name as string));
    onQuery('core.releaseTopicStorage', (name) => c.releaseTopicStorage(name as string));
    onQuery('core.retained', (names) => c.retained(names as string[]));
    // This shard's registry, summed with the others on the main thread (src/metrics/aggregate.ts).
    threadMetrics.addNode({ node: String(ctx.nodeId), core: () => c.stats(), rings: () => ctx.mesh.stats() });
    threadMetrics.start(config.metrics);
    onQuery('metrics', () => threadMetrics.registry.getMetricsAsJSON());
    const ports: Record<string, number> = {};
    const info: unknown[] = [];
    for (const spec of specs) {
      const mod = (await import(spec.url)) as { default: ShardPlugin };
      const inst = await mod.default.start({ nodeId: ctx.nodeId, shards: ctx.shards, config, client: core.client(), options: spec.options, onQuery, ask: ctx.ask });
      plugins.push(inst);
      Object.assign(ports, inst.ports);
      info.push(inst.info);
    }
    return { ports, info } satisfies ShardReady;
  },
  async drain() {
    // Protocols first (no new work in), then core (in-flight appends and acks finish, offsets
    // are committed, storage is flushed).
    await Promise.all(plugins.map((p) => p.drain?.()));
    await core?.drain();
  },
  async close() {
    threadMetrics.stop();
    await Promise.all(plugins.map((p) => p.close?.()));
    await core?.close();
    await storageClose?.();
    await stopTracing().catch(() => {}); // an unreachable collector must not block shutdown
  },
  onPeerReset(nodeId) {
    core?.peerReset(nodeId);
  },
  query(name, arg) {
    const handler = queries.get(name);
    if (handler === undefined) throw new EvmeshError('EVM_UNSUPPORTED', `unknown shard query '${name}' (known: ${[...queries.keys()].join(', ')})`);
    return handler(arg);
  },
};

runShard(app);
