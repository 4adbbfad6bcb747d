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

/** Resolves port 0 once, on the main thread, so every shard binds the same port: asks the
 *  kernel for a free port and releases it (another process could take it in between — port 0
 *  is for tests and ephemeral brokers). */
export function pickFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port: 0, exclusive: true }, () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
