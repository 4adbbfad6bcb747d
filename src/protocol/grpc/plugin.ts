// The gRPC port (ports.grpc, default 10205, spec G1) as a shard plugin: every shard accepts on
// its own SO_REUSEPORT `net` listener (src/shard/reuseport.ts) and hands each socket to its
// grpc-js Server through a connection injector (STACK.md "gRPC": grpc-js runs in worker threads,
// no bindAsync needed). Plaintext HTTP/2 as upstream (G1). Everything goes through the shard's
// in-process core Client; events reach their owning shards through the rings.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ShardPlugin } from '../../shard/plugin.js';
import { listenShared } from '../../shard/reuseport.js';
import { reusePortSupported } from '../../native.js';
import { ClientRegistry } from './clients.js';
import { consumerServices } from './consumer.js';
import type { GrpcContext } from './context.js';
import { grpcMetrics } from './metrics.js';
import { PUBLISH_DECODERS, publisherService } from './publisher.js';
import { service } from './proto.js';
import type { ConsumerStream } from './stream.js';


const plugin: ShardPlugin = {
  async start(ctx) {
    // Without SO_REUSEPORT only one shard can own the port (reuseport.ts).
    if (!reusePortSupported() && ctx.nodeId !== 0) return {};
    const c = ctx.config;
    const gctx: GrpcContext = { client: ctx.client, config: c, draining: false };
    const registry = new ClientRegistry(ctx.client, {
      options: {
        concurrency: c.webhook.concurrency, timeoutMs: c.webhook.timeoutMs, maxAttempts: c.webhook.maxAttempts,
        backoffBaseMs: c.webhook.backoffBaseMs, backoffMaxMs: c.webhook.backoffMaxMs, deadLetterTopic: c.delivery.deadLetterTopic,
      },
      maxInflight: c.webhook.maxInflight,
    });
    const streams = new Set<ConsumerStream>();
    const server = new Server({
      'grpc.max_receive_message_length': c.grpc.maxMessageBytes,
      'grpc.max_send_message_length': -1,
      'grpc.max_concurrent_streams': c.grpc.maxConcurrentStreams,
    });
    const { consumer, heartbeat } = consumerServices(gctx, registry, streams);
    server.addService(service('PublisherService', PUBLISH_DECODERS), publisherService(gctx));
    server.addService(service('ConsumerService'), consumer);
    server.addService(service('HeartbeatService'), heartbeat);
    const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
    const sockets = new Set<Socket>();
    const listener: NetServer = createServer((socket) => {
      socket.setNoDelay(true);
      sockets.add(socket);
      // One socket is one HTTP/2 session (M8 connections; evmesh_connections{protocol="grpc"}).
      grpcMetrics.connected(1);
      socket.once('close', () => { sockets.delete(socket); grpcMetrics.connected(-1); });
      injector.injectConnection(socket);
    });
    const port = await listenShared(listener, { host: c.host, port: c.ports.grpc });
    grpcMetrics.bind(c.host, port);
    // G18: subscriptions not refreshed by a heartbeat are removed.
    const sweeper = setInterval(() => { void registry.expire(c.grpc.clientExpiryMs); }, c.grpc.sweepIntervalMs);
    sweeper.unref();
    ctx.onQuery('grpc.clients', () => registry.list());
    ctx.onQuery('grpc.kick', async (url) => ({ kicked: typeof url === 'string' ? await registry.removeUrl(url) : 0 }));
    return {
      ports: { grpc: port },
      async drain() {
        gctx.draining = true;
        listener.close();
        clearInterval(sweeper);
        // Streams complete (their unacked pushes go to other members), then GOAWAY: each
        // connection closes once its calls in flight are answered (core answers or fails them
        // while it drains next).
        for (const s of [...streams]) s.end();
        await registry.closeAll();
        // Calls in flight may take as long as the whole shutdown (core waits for them too).
        injector.drain(c.shutdown.timeoutMs);
      },
      async close() {
        clearInterval(sweeper);
        // After drain(), answers written during core's drain still need their connections: each
        // closes by itself once its calls are answered (GOAWAY).
        const deadline = Date.now() + c.shutdown.timeoutMs;
        while (gctx.draining && sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        injector.destroy();
        server.forceShutdown();
      },
    };
  },
};

export default plugin;
