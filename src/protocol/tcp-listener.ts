// The TCP port (ports.tcp, default 10000) as a shard plugin: every shard listens on the same
// port (SO_REUSEPORT, src/shard/reuseport.ts) and sniffs the first bytes of each connection to
// pick the protocol — EventMesh TCP frames start with the magic "EventMesh" (spec T2), evmesh's
// binary protocol with its own magic (docs/protocol-binary.md). Unknown bytes: the connection
// is closed without a reply, as upstream does for a bad magic (T5).
import { createServer, type Server, type Socket } from 'node:net';
import type { ShardPlugin } from '../shard/plugin.js';
import { listenShared } from '../shard/reuseport.js';
import { reusePortSupported } from '../native.js';
import { TCP_PROTOCOLS } from './tcp-protocols.js';
import type { ProtocolContext, Session, TcpProtocol } from './types.js';

/** A connection that sends nothing recognisable within this time is closed. */
const SNIFF_TIMEOUT_MS = 10_000;

export function sniff(first: Buffer, protocols: readonly TcpProtocol[] = TCP_PROTOCOLS): TcpProtocol | 'more' | undefined {
  let partial = false;
  for (const p of protocols) {
    const n = Math.min(first.length, p.magic.length);
    if (first.subarray(0, n).equals(p.magic.subarray(0, n))) {
      if (n === p.magic.length) return p;
      partial = true;
    }
  }
  return partial ? 'more' : undefined;
}

/** A connected client as the admin API lists it ('tcp.clients' query). */
interface Client { readonly session: Session; readonly protocol: string; readonly remote: string; readonly since: number }

function handOff(socket: Socket, ctx: ProtocolContext, sessions: Set<Session>, clients: Map<Session, Client>): void {
  socket.setNoDelay(true);
  let buffered: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), SNIFF_TIMEOUT_MS);
  const onData = (chunk: Buffer): void => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const p = sniff(buffered);
    if (p === 'more') return;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onError);
    if (p === undefined) { socket.destroy(); return; }
    socket.pause();
    const session = p.accept(socket, buffered, ctx);
    sessions.add(session);
    clients.set(session, { session, protocol: p.name, remote: `${socket.remoteAddress}:${socket.remotePort}`, since: Date.now() });
    socket.once('close', () => { sessions.delete(session); clients.delete(session); });
  };
  const onError = (): void => { clearTimeout(timer); };
  socket.on('data', onData);
  socket.on('error', onError);
  socket.once('close', () => clearTimeout(timer));
}

const plugin: ShardPlugin = {
  async start(ctx) {
    const pctx: ProtocolContext = { client: ctx.client, config: ctx.config, nodeId: ctx.nodeId, shards: ctx.shards };
    const sessions = new Set<Session>();
    const clients = new Map<Session, Client>();
    // Without SO_REUSEPORT only one shard can own the port (reuseport.ts).
    if (!reusePortSupported() && ctx.nodeId !== 0) return {};
    const server: Server = createServer({ pauseOnConnect: false }, (socket) => handOff(socket, pctx, sessions, clients));
    // Admin API (issue 5 item 6): list clients, kick one by its remote ip:port.
    ctx.onQuery('tcp.clients', () => [...clients.values()].map((c) => ({ protocol: c.protocol, remote: c.remote, since: c.since, ...c.session.describe?.() })));
    ctx.onQuery('tcp.kick', (remote) => {
      let kicked = 0;
      for (const c of clients.values()) if (c.remote === remote) { c.session.close(); kicked++; }
      return { kicked };
    });
    const port = await listenShared(server, { host: ctx.config.host, port: ctx.config.ports.tcp });
    return {
      ports: { tcp: port },
      async drain() {
        server.close(); // stop accepting (its callback would wait for every connection to end)
        await Promise.all([...sessions].map((s) => s.drain().catch(() => {})));
      },
      async close() {
        for (const s of sessions) s.close();
        sessions.clear();
      },
    };
  },
};

export default plugin;
