// startBroker: the one entry the CLI, tests and embedders use to run evmesh (DESIGN §1).
// The main thread is the supervisor: it owns the topic registry (its core is node `shards`,
// the controller, owning no partitions), spawns the shard workers, serves the admin API and
// handles shutdown. Shards own partitions and run the protocol plugins.
import { startAdminServer, type AdminServer } from './admin/server.js';
import { manageRoute } from './admin/manage.js';
import { DELETE_TOPICS_ASK, deleteTopic, deleteTopics, type TopicDeleteDeps } from './admin/topics.js';
import { RegistryReader } from './protocol/http/registry.js';
import { parseFrom, pull } from './admin/pull.js';
import { controllerStorageFor, coreSettings } from './broker-options.js';
import type { EvmeshConfig } from './config/schema.js';
import { Core } from './core/core.js';
import type { Client } from './core/types.js';
import { EvmeshError, type WireError } from './errors.js';
import { fromStructuredJson } from './protocol/cloudevents-json.js';
import type { PluginSpec } from './shard/plugin.js';
import type { ShardData, ShardReady } from './shard/entry.js';
import { Supervisor, type ShardAnswer } from './shard/supervisor.js';
import { claimPort } from './shard/reuseport.js';
import { TCP_PROTOCOLS } from './protocol/tcp-protocols.js';
import { startMetricsServer, type MetricsServer } from './metrics/server.js';
import { threadMetrics } from './metrics/shard.js';
import { startTracing, stopTracing } from './metrics/tracing.js';

export interface BrokerPorts {
  tcp?: number;
  http?: number;
  grpc?: number;
  admin?: number;
  metrics?: number;
}

export interface RunningBroker {
  /** The ports actually bound (port 0 in config → the picked port). Only listeners that exist. */
  readonly ports: BrokerPorts;
  readonly config: EvmeshConfig;
  /** In-process client on the main thread (publishes and subscriptions cross to the shards). */
  client(): Client;
  /** What each shard's plugins reported when ready, by shard id. */
  shardInfo(): unknown[][];
  /** Asks every shard a named query (PluginContext.onQuery; built in: 'core.stats'); one answer
   *  per shard, errors included (a down shard answers EVM_UNAVAILABLE). */
  queryShards(name: string, arg?: unknown, options?: { timeoutMs?: number }): Promise<ShardAnswer[]>;
  /** Stop accepting, drain in-flight work, flush + fsync storage, stop shards. Idempotent. */
  stop(): Promise<void>;
}

export interface BrokerOptions {
  /** Extra shard plugins (module URLs) started in every shard after the built-in ones. */
  readonly plugins?: readonly PluginSpec[];
  /** A shard crashed more often than shard.maxRestarts allows. Default: log and exit(1). */
  readonly onFatal?: (err: WireError) => void;
  readonly log?: (line: string) => void;
}

// Under tsx (tests) this module is .ts and so are the worker entry and the plugins; compiled,
// all are .js.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const ENTRY = new URL(`./shard/entry${EXT}`, import.meta.url);

type ShardPort = 'tcp' | 'http' | 'grpc';
const plugin = (path: string, port: ShardPort): { spec: PluginSpec; port: ShardPort } =>
  ({ spec: { url: new URL(`${path}${EXT}`, import.meta.url).href }, port });

/** The protocol listeners every shard runs, with the config key of each one's port. */
function builtinPlugins(): { spec: PluginSpec; port: ShardPort }[] {
  const list: { spec: PluginSpec; port: ShardPort }[] = [];
  if (TCP_PROTOCOLS.length > 0) list.push(plugin('./protocol/tcp-listener', 'tcp'));
  list.push(plugin('./protocol/grpc/plugin', 'grpc'));
  list.push(plugin('./protocol/http/plugin', 'http'));
  return list;
}

export async function startBroker(config: EvmeshConfig, options: BrokerOptions = {}): Promise<RunningBroker> {
  const builtins = builtinPlugins();
  // Each shard port is checked (and port 0 resolved) once here, so that every shard binds the
  // same free port.
  const ports0 = { ...config.ports };
  for (const b of builtins) {
    try {
      ports0[b.port] = await claimPort(config.host, ports0[b.port]);
    } catch (err) {
      throw new EvmeshError('EVM_UNAVAILABLE', `${b.port} port ${config.host}:${ports0[b.port]}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  config = { ...config, ports: ports0 };
  const log = options.log ?? ((line: string) => process.stderr.write(`evmesh: ${line}\n`));
  await startTracing(config, 'main');
  const storage = await controllerStorageFor(config);
  await storage.open();
  const supervisor = new Supervisor({ restart: { maxRestarts: config.shard.maxRestarts }, log });
  let core: Core | undefined;
  let admin: AdminServer | undefined;
  let metrics: MetricsServer | undefined;
  let removeNode: (() => void) | undefined;
  let accepting = false;
  supervisor.on('fatal', (err: WireError) => {
    log(`fatal: ${err.code} ${err.message}`);
    (options.onFatal ?? (() => process.exit(1)))(err);
  });
  supervisor.on('peerReset', (nodeId: number) => core?.peerReset(nodeId));
  // Topic deletion, driven by the controller core (set in onMesh, before any shard runs): for the
  // admin port and the shards' HTTP port (H37 /eventmesh/topic/delete asks DELETE_TOPICS_ASK).
  const topicDeps: TopicDeleteDeps = {
    deadLetterTopic: config.delivery.deadLetterTopic, queryShards: (q, arg) => supervisor.query(q, arg),
    deleteTopic: (topic, shards) => core!.deleteTopic(topic, shards), listTopics: () => core!.listTopics(),
  };
  supervisor.onAsk(DELETE_TOPICS_ASK, (names) => {
    if (!Array.isArray(names)) throw new EvmeshError('EVM_BAD_REQUEST', 'topic names must be an array');
    return deleteTopics(topicDeps, names);
  });

  let ready: unknown[];
  try {
    const workerData: ShardData = { config, plugins: [...builtins.map((b) => b.spec), ...(options.plugins ?? [])] };
    ready = await supervisor.start({
      shards: config.shards,
      workerUrl: ENTRY,
      workerData,
      ringBytes: config.shard.ringBytes,
      // The controller core must answer the shards' topic requests while they start.
      onMesh: (mesh) => {
        core = new Core({ ...coreSettings(config), mesh, storage });
        return core.start();
      },
    });
  } catch (err) {
    await storage.close().catch(() => {});
    throw err;
  }
  const mainCore = core!;
  const client = mainCore.client();
  // Every shard binds the same ports (SO_REUSEPORT); without it only shard 0 binds some.
  const ports: Record<string, number> = Object.assign({}, ...ready.map((r) => (r as ShardReady | undefined)?.ports ?? {}));

  // The admin API's copy of the webhook subscription registry (src/protocol/http/registry.ts).
  const registry = new RegistryReader(client, '__evmesh.subscriptions.admin');
  try {
    await registry.start();
    // A JSON event is at most ~4/3 of its encoded size (data_base64) plus its attributes.
    admin = await startAdminServer({ host: config.host, port: config.ports.admin, maxBodyBytes: Math.ceil(config.limits.maxEventBytes * 1.4) + 64 * 1024 }, {
      healthy: () => accepting,
      status: async () => ({
        status: accepting ? 'UP' : 'DRAINING',
        shards: config.shards,
        storage: config.storage,
        ports,
        topics: (await mainCore.listTopics()).length,
        stats: mainCore.stats(),
      }),
      topics: () => mainCore.listTopics(),
      createTopic: (name, partitions) => client.createTopic(name, partitions),
      publish: (topic, body) => client.publish(topic, fromStructuredJson(body)),
      pull: (topic, group, max, waitMs, from) => pull(client, topic, group, max, waitMs, parseFrom(from)),
      manage: (req, url, path, body, reply) => manageRoute(req, url, path, body, reply, {
        config, client, registry, ports, queryShards: (name, arg) => supervisor.query(name, arg), listTopics: () => mainCore.listTopics(),
        deleteTopic: (name) => deleteTopic(topicDeps, name), retained: (names) => mainCore.retained(names),
      }),
    });
    ports.admin = admin.port;
    // The metrics port (spec M1) serves every shard's registry summed with the main thread's.
    removeNode = threadMetrics.addNode({ node: 'main', core: () => mainCore.stats(), rings: () => supervisor.mesh.stats() });
    threadMetrics.start(config.metrics);
    metrics = await startMetricsServer(config.host, config.ports.metrics, {
      host: config.host, ports, queryShards: (name) => supervisor.query(name),
    }).catch((err: Error) => { throw new EvmeshError('EVM_UNAVAILABLE', `metrics port ${config.host}:${config.ports.metrics}: ${err.message}`); });
    ports.metrics = metrics.port;
  } catch (err) {
    await admin?.close().catch(() => {});
    removeNode?.();
    await supervisor.stop({ timeoutMs: config.shutdown.timeoutMs }).catch(() => {});
    await storage.close().catch(() => {});
    throw err instanceof Error && !(err instanceof EvmeshError) && 'code' in err && typeof err.code === 'string' && err.code.startsWith('E')
      ? new EvmeshError('EVM_UNAVAILABLE', `admin port ${config.host}:${config.ports.admin}: ${err.message}`)
      : err;
  }
  accepting = true;

  let stopping: Promise<void> | undefined;
  return {
    ports,
    config,
    client: () => client,
    shardInfo: () => supervisor.readyInfo().map((r) => (r as ShardReady | undefined)?.info ?? []),
    queryShards: (name, arg, opts) => supervisor.query(name, arg, opts),
    stop() {
      stopping ??= (async () => {
        accepting = false;
        // Main-thread publishes finish first (the shards still run), then the shards drain
        // their plugins and cores and fsync, then the controller's own storage closes.
        await registry.close();
        await mainCore.drain();
        await supervisor.stop({ timeoutMs: config.shutdown.timeoutMs });
        await mainCore.close();
        await storage.close();
        await admin?.close();
        await metrics?.close();
        removeNode?.();
        await stopTracing().catch(() => {});
      })();
      return stopping;
    },
  };
}
