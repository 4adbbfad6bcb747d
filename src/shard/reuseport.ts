// Makes every shard's TCP/gRPC `net.Server` listen on the same port (STACK.md "Node net in
// worker threads"): each shard gets its own SO_REUSEPORT socket from the addon and the kernel
// spreads connections across them. Without the addon, a plain listen: then only ONE shard can
// own the port (the others fail with EADDRINUSE), so the supervisor must run it in one shard.
// Connections still queued on a listener that closes are reset (unless the kernel has
// net.ipv4.tcp_migrate_req=1): stop accepting everywhere and drain before closing a shard's.
import { createServer, type Server } from 'node:net';
import { listenReusePort, reusePortSupported } from '../native.js';

export interface ListenOptions {
  host: string;
  port: number;
  backlog?: number;
}

/**
 * Listens `server` on host:port (0 picks a port; `host` must be an IP literal such as
 * '0.0.0.0', '127.0.0.1' or '::'); resolves with the bound port, rejects with a Node-style
 * error (`code` EADDRINUSE, EACCES …).
 */
export function listenShared(server: Server, { host, port, backlog = 511 }: ListenOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    if (!reusePortSupported()) {
      server.listen({ host, port, backlog, exclusive: false }, onListening);
      return;
    }
    let fd: number;
    try {
      fd = listenReusePort(host, port, backlog);
    } catch (err) {
      server.off('error', onError);
      reject(err);
      return;
    }
    // The libuv handle owns the fd from here on: never close it ourselves.
    server.listen({ fd, backlog }, onListening);
  });
}

/** SO_REUSEPORT lets a second broker (same user) bind a port that one already serves, and the
 *  kernel would then split connections between the two. So the main thread first checks the
 *  port with a plain, exclusive listen — it fails with EADDRINUSE if anything holds the port,
 *  reuseport or not — and releases it before the shards bind. Resolves with the port (port 0:
 *  a free one the kernel picked; another process could take it in between — port 0 is for
 *  tests and ephemeral brokers). */
export function claimPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port, exclusive: true }, () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
