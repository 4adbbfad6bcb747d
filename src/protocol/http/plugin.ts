// The HTTP port (ports.http, default 10105, spec H1) as a shard plugin: every shard runs a uWS
// app on the same port (uWS sets SO_REUSEPORT; broker.ts resolved port 0 once). Dispatch order
// (H2): /eventmesh/… prefixes, then evmesh's REST paths and /ws, then everything else is the
// EventMesh legacy request-code protocol (any path, H2).
import { DELETE_TOPICS_ASK } from '../../admin/topics.js';
import { EvmeshError } from '../../errors.js';
import type { ShardPlugin } from '../../shard/plugin.js';
import type { HttpContext } from './context.js';
import { eventMeshCode } from './eventmesh-codes.js';
import { eventMeshPath } from './eventmesh-paths.js';
import { Exchange } from './exchange.js';
import { bindHttpMetrics } from './metrics.js';
import { PublishBatcher } from './publish-batcher.js';
import { ShardRegistry } from './registry.js';
import { publishEvents, readEvents, subscriptions } from './rest.js';
import { closeApp, uws, type us_listen_socket } from './uws.js';
import { websocketRoute } from './websocket.js';

const TOPIC_EVENTS = /^\/topics\/([^/]+)\/events\/?$/;
const SUBSCRIPTIONS = /^\/subscriptions(?:\/([^/]+))?\/?$/;

function route(ex: Exchange, ctx: HttpContext, draining: () => boolean): void {
  if (draining()) { ex.error(new EvmeshError('EVM_SHUTTING_DOWN', 'the broker is shutting down')); return; }
  if (ex.url.startsWith('/eventmesh/') && eventMeshPath(ex, ctx)) return;
  const te = TOPIC_EVENTS.exec(ex.url);
  if (te !== null) {
    const topic = decodeURIComponent(te[1]!);
    if (ex.method === 'post') return publishEvents(ex, ctx, topic);
    if (ex.method === 'get') return readEvents(ex, ctx, topic);
    return ex.error(new EvmeshError('EVM_UNSUPPORTED', `${ex.method.toUpperCase()} is not supported on ${ex.url}`, { status: 405 }));
  }
  const sub = SUBSCRIPTIONS.exec(ex.url);
  if (sub !== null) return subscriptions(ex, ctx, sub[1] === undefined ? undefined : decodeURIComponent(sub[1]));
  eventMeshCode(ex, ctx);
}

const plugin: ShardPlugin = {
  async start(ctx) {
    const c = ctx.config;
    const registry = new ShardRegistry(ctx.client, ctx.nodeId, ctx.shards, {
      concurrency: c.webhook.concurrency, timeoutMs: c.webhook.timeoutMs, maxAttempts: c.webhook.maxAttempts,
      backoffBaseMs: c.webhook.backoffBaseMs, backoffMaxMs: c.webhook.backoffMaxMs, deadLetterTopic: c.delivery.deadLetterTopic,
    }, c.webhook.maxInflight, (line) => process.stderr.write(`evmesh: shard ${ctx.nodeId}: ${line}\n`));
    const hctx: HttpContext = { client: ctx.client, config: c, nodeId: ctx.nodeId, registry, publisher: new PublishBatcher(ctx.client, c.limits.maxBatchEvents),
      deleteTopics: (names) => ctx.ask(DELETE_TOPICS_ASK, names) };
    let draining = false;
    const app = uws.App();
    const ws = websocketRoute(app, hctx);
    app.any('/*', (res, req) => {
      const ex = new Exchange(res, req);
      // An exception here would be uncaught in the shard (uWS calls this from native code):
      // e.g. a malformed percent-escape in a topic name.
      try {
        route(ex, hctx, () => draining);
      } catch (err) {
        ex.error(err instanceof URIError ? new EvmeshError('EVM_BAD_REQUEST', `malformed URL ${ex.url}: ${err.message}`) : err);
      }
    });
    const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
      app.listen(c.host, c.ports.http, (s) => (s ? resolve(s) : reject(new EvmeshError('EVM_UNAVAILABLE', `HTTP port ${c.host}:${c.ports.http} could not be bound`))));
    });
    // A worker exiting with uWS sockets open aborts the whole process in node's loop-close check
    // ("uv_loop_close() while having open handles"), so a crashing shard closes them on its way
    // out. worker.terminate() runs no JS: the supervisor only uses it after a shard failed to
    // stop by itself (docs/http.md "Shard exit").
    const onExit = (): void => closeApp(app);
    process.once('exit', onExit);
    const port = uws.us_socket_local_port(listenSocket as never);
    bindHttpMetrics(c.host, port, () => registry.queues());
    await registry.start();
    ctx.onQuery('http.clients', () => ({ websocket: ws.list(), webhooks: registry.stats() }));
    ctx.onQuery('http.kick', (arg) => ({ kicked: typeof arg === 'string' ? ws.kick(arg) : 0 }));
    return {
      ports: { http: port },
      async drain() {
        draining = true;
        uws.us_listen_socket_close(listenSocket);
        ws.closeAll();
        await registry.close();
      },
      async close() {
        process.off('exit', onExit);
        closeApp(app);
      },
    };
  },
};

export default plugin;
