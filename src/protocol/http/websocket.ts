// WebSocket subscriptions on the HTTP port (issue 5 item 5), usable from a browser:
//   ws://host:10105/ws?topic=T&group=G[&mode=CLUSTERING|BROADCASTING][&from=earliest|latest|<offset>|t:<ms>]
// Server → client text frames: {"type":"event","id":n,"topic","partition","offset","attempt",
// "event":<structured CloudEvent JSON>}; client → server: {"type":"ack","id":n} or
// {"type":"ack","ids":[…]}. Unacked events are redelivered after delivery.ackTimeoutMs, and to
// the group's other members when the socket closes. Backpressure: while uWS buffers more than
// ws.maxBackpressureBytes for the socket, deliveries wait in a queue bounded by core's credit
// (delivery.maxInflight) and are sent on `drain`.
import { EvmeshError, toEvmeshError } from '../../errors.js';
import type { Delivery, GroupMode, StartPosition, Subscription } from '../../core/types.js';
import { parseFrom } from '../../admin/pull.js';
import { cloudEventJson } from '../tcp/messages.js';
import type { HttpContext } from './context.js';
import type { TemplatedApp, WebSocket } from './uws.js';

interface Conn {
  readonly topic: string;
  readonly group: string;
  readonly mode: GroupMode;
  readonly from: StartPosition | undefined;
  readonly remote: string;
  sub: Subscription | undefined;
  closed: boolean;
  nextId: number;
  readonly inflight: Map<number, Delivery>;
  readonly queue: Delivery[];
}

export interface WsClients {
  list(): { remote: string; topic: string; group: string; mode: GroupMode; inflight: number; queued: number }[];
  kick(remote: string): number;
  closeAll(): void;
}

function frame(id: number, d: Delivery): string {
  return `{"type":"event","id":${id},"topic":${JSON.stringify(d.topic)},"partition":${d.partition},"offset":${d.offset},"attempt":${d.attempt},"event":${cloudEventJson(d.event)}}`;
}

export function websocketRoute(app: TemplatedApp, ctx: HttpContext): WsClients {
  const conns = new Set<WebSocket<Conn>>();
  const max = ctx.config.ws.maxBackpressureBytes;

  const flush = (ws: WebSocket<Conn>): void => {
    const c = ws.getUserData();
    if (c.queue.length === 0) return;
    ws.cork(() => {
      while (!c.closed && c.queue.length > 0 && ws.getBufferedAmount() < max) {
        const d = c.queue.shift()!;
        const id = ++c.nextId;
        c.inflight.set(id, d);
        ws.send(frame(id, d), false);
      }
    });
  };

  app.ws<Conn>('/ws', {
    maxPayloadLength: 1024 * 1024,
    maxBackpressure: max * 2,
    idleTimeout: Math.round(ctx.config.ws.idleTimeoutMs / 1000),
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      const q = new URLSearchParams(req.getQuery() ?? '');
      const key = req.getHeader('sec-websocket-key'), proto = req.getHeader('sec-websocket-protocol'), ext = req.getHeader('sec-websocket-extensions');
      try {
        const topic = q.get('topic'), group = q.get('group'), mode = q.get('mode') ?? 'CLUSTERING';
        if (!topic || !group) throw new EvmeshError('EVM_BAD_REQUEST', 'query parameters topic and group are required');
        if (mode !== 'CLUSTERING' && mode !== 'BROADCASTING') throw new EvmeshError('EVM_BAD_REQUEST', 'mode must be CLUSTERING or BROADCASTING');
        const from = parseFrom(q.get('from') ?? undefined);
        const conn: Conn = { topic, group, mode, from, remote: Buffer.from(res.getRemoteAddressAsText()).toString(), sub: undefined, closed: false, nextId: 0, inflight: new Map(), queue: [] };
        res.upgrade(conn, key, proto, ext, context);
      } catch (err) {
        const e = toEvmeshError(err);
        res.cork(() => {
          res.writeStatus(`${e.spec.http} Bad Request`).writeHeader('content-type', 'application/json').end(JSON.stringify({ code: e.code, message: e.message }), true);
        });
      }
    },
    open: (ws) => {
      conns.add(ws);
      const c = ws.getUserData();
      ctx.client.subscribe({ topic: c.topic, group: c.group, mode: c.mode, ...(c.from === undefined ? {} : { from: c.from }) }, (d) => {
        if (c.closed) return; // unacked: redelivered to another member
        c.queue.push(d);
        flush(ws);
      }).then((sub) => {
        if (c.closed) { void sub.close(); return; }
        c.sub = sub;
        ws.send(JSON.stringify({ type: 'subscribed', topic: c.topic, group: c.group }), false);
      }, (err) => {
        const e = toEvmeshError(err);
        if (!c.closed) ws.end(1011, JSON.stringify({ code: e.code, message: e.message }).slice(0, 120));
      });
    },
    message: (ws, message) => {
      const c = ws.getUserData();
      let msg: { type?: unknown; id?: unknown; ids?: unknown };
      try {
        msg = JSON.parse(Buffer.from(message).toString('utf8')) as typeof msg;
      } catch {
        ws.send(JSON.stringify({ type: 'error', code: 'EVM_BAD_REQUEST', message: 'malformed JSON message' }), false);
        return;
      }
      if (msg?.type !== 'ack') {
        ws.send(JSON.stringify({ type: 'error', code: 'EVM_UNSUPPORTED', message: 'messages are {"type":"ack","id":n} or {"type":"ack","ids":[…]}' }), false);
        return;
      }
      const ids = Array.isArray(msg.ids) ? msg.ids : [msg.id];
      for (const id of ids) {
        const d = typeof id === 'number' ? c.inflight.get(id) : undefined;
        if (d !== undefined) { c.inflight.delete(id as number); d.ack(); }
      }
    },
    drain: (ws) => flush(ws),
    close: (ws) => {
      conns.delete(ws);
      const c = ws.getUserData();
      c.closed = true;
      c.queue.length = 0;
      void c.sub?.close();
    },
  });

  return {
    list: () => [...conns].map((ws) => {
      const c = ws.getUserData();
      return { remote: c.remote, topic: c.topic, group: c.group, mode: c.mode, inflight: c.inflight.size, queued: c.queue.length };
    }),
    kick: (remote) => {
      let n = 0;
      for (const ws of [...conns]) if (ws.getUserData().remote === remote) { ws.end(1008, 'closed by the admin API'); n++; }
      return n;
    },
    closeAll: () => { for (const ws of [...conns]) ws.end(1001, 'broker shutting down'); },
  };
}
