// The evmesh binary protocol on the shared TCP port (docs/protocol-binary.md): one session per
// connection maps frames to the shard's in-process Client.
//
// Flow control: PUBLISH frames are pipelined, at most binary.maxInflightPublishes per connection
// (beyond, the socket is not read: TCP pushes back on the client). Deliveries go out only within
// the credit the client granted (SUBSCRIBE credit + CREDIT frames) and while the socket's write
// buffer is below HIGH_WATER; the broker side holds at most `maxInflight` unacked deliveries per
// member per partition owner, so what waits here for credit is bounded. Everything a session
// has to send in one event-loop turn is built into one buffer and written once (setImmediate).
import type { Socket } from 'node:net';
import type { Client, Delivery, MeshEvent, PublishResult, StartPosition, Subscription } from '../../core/types.js';
import { EvmeshError, toEvmeshError } from '../../errors.js';
import type { ProtocolContext, Session, TcpProtocol } from '../types.js';
import { isAttributes, meshEvent, readEventData } from './events.js';
import { FrameDecoder, type RawFrame } from './frame-decoder.js';
import { FrameWriter } from './frame-writer.js';
import {
  F, FRAME_NAMES, MAGIC, type DeliveredEvent, type ErrorHeader, type HelloOkHeader, type PublishAckHeader,
} from './frames.js';
import { threadMetrics } from '../../metrics/shard.js';
import type { TcpConnectionMetrics } from '../../metrics/tcp.js';
import { checkStructures, HeaderCodec } from './header-codec.js';
import { TagTable } from './tag-table.js';

/** Checks a HELLO's opaque `auth` field; throw (EVM_UNAUTHENTICATED) to refuse. */
export type Authenticate = (credentials: unknown, clientId: string) => void | Promise<void>;

export interface BinaryProtocolOptions {
  /** Default: accepts everything (authentication is not implemented yet; see
   *  docs/protocol-binary.md "Authentication"). */
  readonly authenticate?: Authenticate;
}

/** Stop building DELIVER frames while the socket holds this much unwritten data. */
const HIGH_WATER = 1024 * 1024;
/** Target size of one DELIVER frame. */
const DELIVER_FRAME_BYTES = 256 * 1024;
const MAX_SUBSCRIPTIONS = 1024;
const MAX_CREDIT = 1_000_000;
const MAX_REQUEST_TIMEOUT_MS = 24 * 3_600_000;
const DRAIN_END_TIMEOUT_MS = 2000;

interface SubState {
  readonly id: number;
  readonly topic: string;
  sub: Subscription | undefined;
  /** SUBSCRIBED was written: deliveries may follow. */
  ready: boolean;
  closed: boolean;
  credit: number;
  readonly queue: Delivery[];
  /** Index of the first unsent delivery in `queue`. */
  head: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const bad = (message: string): EvmeshError => new EvmeshError('EVM_BAD_REQUEST', message);

class BinarySession implements Session {
  private state: 'hello' | 'auth' | 'open' | 'draining' | 'closed' = 'hello';
  private readonly decoder: FrameDecoder;
  private codec = new HeaderCodec();
  /** Reuses its slab once the socket completed every write (frame-writer.ts). */
  private readonly writer = new FrameWriter(this.codec, () => this.socket.writableLength === 0);
  private readonly client: Client;
  private readonly subs = new Map<number, SubState>();
  private nextSub = 1;
  private readonly tags = new TagTable<Delivery, SubState>();
  private inflightPublishes = 0;
  /** Client calls in flight (publish, subscribe, request, reply), for drain. */
  private calls = 0;
  private callsIdle: (() => void)[] = [];
  private readPaused = false;
  private flushScheduled = false;
  /** Frames that arrived while HELLO's authentication was pending. */
  private backlog: RawFrame[] = [];
  private lastRx = Date.now();
  private readonly idleTimer: NodeJS.Timeout;
  private readonly maxInflightPublishes: number;
  private readonly idleTimeoutMs: number;
  private drained: Promise<void> | undefined;
  /** Spec M5/M7 counters (TCP label set: this protocol shares the TCP port); plain fields. */
  private readonly metrics: TcpConnectionMetrics;

  constructor(private readonly socket: Socket, first: Buffer, private readonly ctx: ProtocolContext, private readonly authenticate: Authenticate) {
    this.client = ctx.client;
    this.metrics = threadMetrics.tcp.open('binary', socket);
    this.maxInflightPublishes = ctx.config.binary.maxInflightPublishes;
    this.idleTimeoutMs = ctx.config.binary.idleTimeoutMs;
    this.decoder = new FrameDecoder({ maxFrameBytes: ctx.config.limits.maxFrameBytes, preamble: true });
    this.writer.preamble();
    this.idleTimer = setInterval(() => {
      if (Date.now() - this.lastRx > this.idleTimeoutMs) this.fatal(new EvmeshError('EVM_TIMEOUT', `no frame received for ${this.idleTimeoutMs} ms`));
    }, Math.max(50, Math.floor(this.idleTimeoutMs / 4)));
    this.idleTimer.unref();
    socket.on('data', this.onData);
    socket.on('drain', this.scheduleFlush);
    socket.on('error', () => {});
    socket.once('close', () => this.cleanup());
    this.onData(first);
    if (this.state !== 'closed') socket.resume();
  }

  /** A method, not a property read: TypeScript would narrow `state` across calls. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  // ---- input ----

  private readonly onData = (chunk: Buffer): void => {
    if (this.state === 'closed') return;
    this.lastRx = Date.now();
    let frames: RawFrame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.fatal(toEvmeshError(err));
      return;
    }
    this.metrics.traffic.fromClient += frames.length;
    for (const f of frames) {
      if (this.isClosed()) return;
      if (this.state === 'auth') { this.backlog.push(f); continue; }
      try {
        this.handle(f);
      } catch (err) {
        this.fatal(toEvmeshError(err));
        return;
      }
    }
  };

  private handle(f: RawFrame): void {
    const h = this.codec.decode(f.header);
    if (this.state === 'hello') {
      if (f.type !== F.HELLO) throw bad(`expected HELLO, got ${FRAME_NAMES.get(f.type)}`);
      this.hello(h);
      return;
    }
    switch (f.type) {
      case F.PUBLISH: return this.publish(h, f.payload);
      case F.SUBSCRIBE: return this.subscribe(h);
      case F.UNSUBSCRIBE: return this.unsubscribe(h);
      case F.CREDIT: return this.credit(h);
      case F.ACK: return this.ack(h);
      case F.REQUEST: return this.request(h, f.payload);
      case F.REPLY: return this.reply(h, f.payload);
      case F.HEARTBEAT: this.send(F.HEARTBEAT_OK); return;
      case F.GOODBYE: void this.drain(); return;
      case F.ERROR: return; // a client reporting a problem: nothing to answer
      case F.HELLO: throw bad('HELLO was already received');
      default: throw bad(`${FRAME_NAMES.get(f.type)} is not sent by clients`);
    }
  }

  private hello(h: unknown): void {
    if (!isObj(h) || typeof h.client !== 'string' || h.client.length > 1024) throw bad('HELLO needs client (a string of at most 1024 characters)');
    const structures = checkStructures(h.structures);
    const clientId = h.client;
    const open = (): void => {
      if (this.state === 'closed') return;
      this.state = 'open';
      const ok: HelloOkHeader = {
        server: `evmesh-shard-${this.ctx.nodeId}`,
        heartbeatMs: Math.max(1, Math.floor(this.idleTimeoutMs / 3)),
        idleTimeoutMs: this.idleTimeoutMs,
        maxFrameBytes: this.ctx.config.limits.maxFrameBytes,
        maxInflightPublishes: this.maxInflightPublishes,
        maxBatchEvents: this.ctx.config.limits.maxBatchEvents,
      };
      this.send(F.HELLO_OK, ok); // encoded with the base structures, like HELLO
      if (structures.length > 0) {
        this.codec = new HeaderCodec(structures);
        this.writer.codec = this.codec;
      }
    };
    let auth: void | Promise<void>;
    try {
      auth = this.authenticate(h.auth, clientId);
    } catch (err) {
      throw authError(err);
    }
    if (auth === undefined) { open(); return; }
    this.state = 'auth';
    this.pauseRead(true);
    auth.then(() => {
      open();
      this.pauseRead(false);
      const backlog = this.backlog;
      this.backlog = [];
      for (const f of backlog) {
        if (this.state === 'closed') return;
        try { this.handle(f); } catch (err) { this.fatal(toEvmeshError(err)); return; }
      }
    }, (err) => this.fatal(authError(err)));
  }

  private pauseRead(paused: boolean): void {
    if (paused === this.readPaused) return;
    this.readPaused = paused;
    if (paused) this.socket.pause(); else if (this.state !== 'closed' && this.inflightPublishes < this.maxInflightPublishes && this.state !== 'auth') this.socket.resume();
  }

  /** Every request frame has an `id` the answer refers to; without one the request cannot be
   *  answered and the connection is closed. */
  private requestId(h: unknown, frame: string): number {
    if (!isObj(h) || !isUint(h.id)) throw bad(`${frame} needs id (an unsigned integer)`);
    return h.id;
  }

  private refuseWhileDraining(id: number): boolean {
    if (this.state !== 'draining') return false;
    this.sendError(new EvmeshError('EVM_SHUTTING_DOWN', 'the broker is draining for shutdown'), id);
    return true;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.calls++;
    const done = (): void => {
      if (--this.calls === 0 && this.callsIdle.length > 0) {
        const w = this.callsIdle; this.callsIdle = [];
        for (const r of w) r();
      }
    };
    p.then(done, done);
    return p;
  }

  // ---- publish ----

  private publish(h: unknown, payload: readonly Uint8Array[]): void {
    const id = this.requestId(h, 'PUBLISH');
    const { topic, events } = h as { topic?: unknown; events?: unknown };
    if (!Array.isArray(events)) throw bad('PUBLISH needs events (an array)');
    const data = readEventData(payload, events.length); // framing error: fatal
    if (this.refuseWhileDraining(id)) return;
    if (typeof topic !== 'string') { this.sendError(bad('PUBLISH needs topic (a string)'), id); return; }
    const n = events.length;
    if (n > this.ctx.config.limits.maxBatchEvents) {
      this.sendError(new EvmeshError('EVM_TOO_LARGE', `batch of ${n} events exceeds limits.maxBatchEvents ${this.ctx.config.limits.maxBatchEvents}`), id);
      return;
    }
    const list: MeshEvent[] = new Array(n);
    for (let i = 0; i < n; i++) list[i] = meshEvent(events[i], data[i]);
    if (++this.inflightPublishes >= this.maxInflightPublishes) this.pauseRead(true);
    this.track(this.client.publishBatch(topic, list).then(
      (results) => { this.metrics.traffic.toMq += results.length; this.sendPublishAck(id, results, undefined); },
      (err) => {
        const e = toEvmeshError(err);
        // One bad event fails core's whole batch: publish event by event to tell which.
        if ((e.code === 'EVM_BAD_EVENT' || e.code === 'EVM_TOO_LARGE') && n > 1) return this.publishEach(id, topic, list);
        this.sendError(e, id);
      },
    ).finally(() => {
      if (--this.inflightPublishes < this.maxInflightPublishes && this.readPaused && this.state !== 'auth') this.pauseRead(false);
    }));
  }

  private async publishEach(id: number, topic: string, list: readonly MeshEvent[]): Promise<void> {
    const settled = await Promise.all(list.map((ev) => this.client.publish(topic, ev).then((r) => r, (err) => toEvmeshError(err))));
    const ok: PublishResult[] = [];
    const errors: (number | string)[] = [];
    settled.forEach((r, i) => {
      if (r instanceof EvmeshError) errors.push(i, r.code, r.message); else ok.push(r);
    });
    this.metrics.traffic.toMq += ok.length;
    this.sendPublishAck(id, ok, errors);
  }

  private sendPublishAck(id: number, results: readonly PublishResult[], errors: (number | string)[] | undefined): void {
    const runs: number[] = [];
    let p = -1, base = 0, count = 0;
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r.partition === p && r.offset === base + count) { count++; continue; }
      if (count > 0) runs.push(p, base, count);
      p = r.partition; base = r.offset; count = 1;
    }
    if (count > 0) runs.push(p, base, count);
    const ack: PublishAckHeader = errors && errors.length > 0 ? { id, runs, errors } : { id, runs };
    this.send(F.PUBLISH_ACK, ack);
  }

  // ---- subscribe / deliver / ack ----

  private subscribe(h: unknown): void {
    const id = this.requestId(h, 'SUBSCRIBE');
    if (this.refuseWhileDraining(id)) return;
    const o = h as Record<string, unknown>;
    let options;
    try {
      if (this.subs.size >= MAX_SUBSCRIPTIONS) throw new EvmeshError('EVM_OVERLOADED', `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
      if (typeof o.topic !== 'string') throw bad('SUBSCRIBE needs topic (a string)');
      if (typeof o.group !== 'string') throw bad('SUBSCRIBE needs group (a string)');
      const credit = o.credit === undefined ? this.ctx.config.delivery.maxInflight : o.credit;
      if (!isUint(credit) || credit > MAX_CREDIT) throw bad(`credit must be an integer from 0 to ${MAX_CREDIT}`);
      const maxInflight = o.maxInflight === undefined ? Math.max(1, credit) : o.maxInflight;
      if (!isUint(maxInflight) || maxInflight < 1 || maxInflight > MAX_CREDIT) throw bad(`maxInflight must be an integer from 1 to ${MAX_CREDIT}`);
      options = {
        topic: o.topic, group: o.group, credit, maxInflight,
        mode: o.mode as 'CLUSTERING' | 'BROADCASTING' | undefined,
        from: o.from as StartPosition | undefined,
        replay: o.replay === true,
        ackTimeoutMs: o.ackTimeoutMs as number | undefined,
        maxAttempts: o.maxAttempts as number | undefined,
      };
    } catch (err) {
      this.sendError(toEvmeshError(err), id);
      return;
    }
    const s: SubState = { id: this.nextSub++, topic: options.topic, sub: undefined, ready: false, closed: false, credit: options.credit, queue: [], head: 0 };
    this.subs.set(s.id, s);
    const { credit: _c, ...core } = options;
    this.track(this.client.subscribe(core, (d) => {
      if (s.closed) return;
      s.queue.push(d);
      this.scheduleFlush();
    }).then((sub) => {
      s.sub = sub;
      if (this.state === 'closed' || s.closed) { void sub.close().catch(() => {}); return; }
      this.send(F.SUBSCRIBED, { id, sub: s.id });
      s.ready = true;
      this.metrics.subscribed(s.topic);
      this.scheduleFlush();
    }, (err) => {
      this.subs.delete(s.id);
      s.closed = true;
      this.sendError(toEvmeshError(err), id);
    }));
  }

  private unsubscribe(h: unknown): void {
    const id = this.requestId(h, 'UNSUBSCRIBE');
    const sid = (h as { sub?: unknown }).sub;
    const s = isUint(sid) ? this.subs.get(sid) : undefined;
    if (!s || !s.ready) { this.sendError(new EvmeshError('EVM_UNKNOWN_SUBSCRIPTION', `no subscription ${String(sid)} on this connection`), id); return; }
    this.track(this.closeSub(s).then(() => this.send(F.OK, { id }), (err) => this.sendError(toEvmeshError(err), id)));
  }

  private async closeSub(s: SubState): Promise<void> {
    if (s.closed) return;
    s.closed = true;
    if (s.ready) this.metrics.unsubscribed(s.topic);
    this.subs.delete(s.id);
    s.queue.length = 0;
    this.tags.dropOwner(s);
    await s.sub?.close();
  }

  private credit(h: unknown): void {
    if (!isObj(h) || !isUint(h.sub) || !isUint(h.n)) throw bad('CREDIT needs sub and n (unsigned integers)');
    const s = this.subs.get(h.sub);
    if (!s) return; // closed meanwhile
    s.credit = Math.min(MAX_CREDIT, s.credit + h.n);
    this.scheduleFlush();
  }

  private ack(h: unknown): void {
    if (!isObj(h) || !Array.isArray(h.tags) || h.tags.length % 2 !== 0) throw bad('ACK needs tags (pairs of first tag and count)');
    const list = h.tags as unknown[];
    for (let i = 0; i < list.length; i += 2) {
      const first = list[i], count = list[i + 1];
      if (!isUint(first) || !isUint(count)) throw bad('ACK tags must be unsigned integers');
      // Tags acked already, or of a closed subscription, are skipped.
      this.tags.takeRange(first, count, ackDelivery);
    }
  }

  /** Moves queued deliveries into DELIVER frames within each subscription's credit. */
  private pump(): void {
    for (const s of this.subs.values()) {
      if (!s.ready || s.closed) continue;
      while (s.credit > 0 && s.head < s.queue.length && this.socket.writableLength < HIGH_WATER) {
        const d: DeliveredEvent[] = [];
        const data: (Uint8Array | undefined)[] = [];
        const tag = this.tags.next;
        let bytes = 0;
        while (s.credit > 0 && s.head < s.queue.length && bytes < DELIVER_FRAME_BYTES) {
          const del = s.queue[s.head++]!;
          d.push([del.partition, del.offset, del.attempt, del.event.attributes as Record<string, string>]);
          data.push(del.event.data);
          bytes += 64 + (del.event.data?.length ?? 0);
          this.tags.add(del, s);
          s.credit--;
        }
        this.writer.frame(F.DELIVER, { sub: s.id, topic: s.topic, tag, d }, data);
        this.metrics.traffic.toClient++;
        this.metrics.traffic.fromMq += d.length;
        if (this.writer.length >= HIGH_WATER) this.writeOut();
      }
      if (s.head === s.queue.length) { s.queue.length = 0; s.head = 0; }
      else if (s.head > 4096) { s.queue.splice(0, s.head); s.head = 0; }
    }
  }

  // ---- request-reply ----

  private request(h: unknown, payload: readonly Uint8Array[]): void {
    const id = this.requestId(h, 'REQUEST');
    const o = h as Record<string, unknown>;
    const [data] = readEventData(payload, 1);
    if (this.refuseWhileDraining(id)) return;
    if (typeof o.topic !== 'string') { this.sendError(bad('REQUEST needs topic (a string)'), id); return; }
    if (typeof o.timeoutMs !== 'number' || !(o.timeoutMs > 0) || o.timeoutMs > MAX_REQUEST_TIMEOUT_MS) {
      this.sendError(bad(`REQUEST needs timeoutMs (a number from 1 to ${MAX_REQUEST_TIMEOUT_MS})`), id);
      return;
    }
    if (!isAttributes(o.event)) { this.sendError(new EvmeshError('EVM_BAD_EVENT', 'REQUEST needs event (the attributes map)'), id); return; }
    this.track(this.client.request(o.topic, meshEvent(o.event, data), o.timeoutMs).then(
      (reply) => { this.metrics.traffic.fromMq++; this.send(F.REPLY, { id, event: reply.attributes }, [reply.data]); },
      (err) => this.sendError(toEvmeshError(err), id),
    ));
  }

  private reply(h: unknown, payload: readonly Uint8Array[]): void {
    const id = this.requestId(h, 'REPLY');
    const o = h as Record<string, unknown>;
    const [data] = readEventData(payload, 1);
    const t = isUint(o.tag) ? this.tags.get(o.tag) : undefined;
    if (t === undefined) { this.sendError(bad(`REPLY tag ${String(o.tag)} is not an unacknowledged delivery of this connection`), id); return; }
    if (!isAttributes(o.event)) { this.sendError(new EvmeshError('EVM_BAD_EVENT', 'REPLY needs event (the attributes map)'), id); return; }
    this.track(this.client.reply(t, meshEvent(o.event, data)).then(
      () => { this.tags.take(o.tag as number); this.send(F.OK, { id }); },
      (err) => this.sendError(toEvmeshError(err), id),
    ));
  }

  // ---- output ----

  private send(type: number, header?: unknown, data?: readonly (Uint8Array | undefined)[]): void {
    if (this.state === 'closed') return;
    this.writer.frame(type, header, data);
    this.metrics.traffic.toClient++;
    this.scheduleFlush();
  }

  private sendError(err: EvmeshError, id?: number, fatal = false): void {
    const h: ErrorHeader = { code: err.code, message: err.message };
    if (id !== undefined) h.id = id;
    if (fatal) h.fatal = true;
    this.send(F.ERROR, h);
  }

  private readonly scheduleFlush = (): void => {
    if (this.flushScheduled || this.state === 'closed') return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  };

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.state === 'closed') return;
    this.pump();
    this.writeOut();
  };

  private writeOut(): void {
    const out = this.writer.take();
    if (out !== undefined && !this.socket.destroyed) this.socket.write(out);
  }

  /** ERROR {fatal} then close: the connection is unusable (framing, protocol violation). */
  private fatal(err: EvmeshError): void {
    if (this.state === 'closed') return;
    this.sendError(err, undefined, true);
    this.writeOut();
    this.state = 'closed';
    this.socket.end();
    setTimeout(() => this.socket.destroy(), DRAIN_END_TIMEOUT_MS).unref();
    this.cleanup();
  }

  // ---- lifecycle ----

  drain(): Promise<void> {
    this.drained ??= this.doDrain();
    return this.drained;
  }

  private async doDrain(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'hello' || this.state === 'auth') { this.close(); return; }
    this.state = 'draining';
    if (this.calls > 0) await new Promise<void>((r) => this.callsIdle.push(r));
    await Promise.all([...this.subs.values()].map((s) => this.closeSub(s).catch(() => {})));
    if (this.isClosed()) return;
    this.send(F.GOODBYE, { reason: 'shutting down' });
    this.flushScheduled = false;
    this.writeOut();
    this.state = 'closed';
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) { resolve(); return; }
      const t = setTimeout(() => { this.socket.destroy(); resolve(); }, DRAIN_END_TIMEOUT_MS);
      t.unref();
      this.socket.once('close', () => { clearTimeout(t); resolve(); });
      this.socket.end();
    });
    this.cleanup();
  }

  close(): void {
    this.state = 'closed';
    this.socket.destroy();
    this.cleanup();
  }

  private cleaned = false;
  private cleanup(): void {
    this.state = 'closed';
    if (this.cleaned) return;
    this.cleaned = true;
    this.metrics.closed();
    clearInterval(this.idleTimer);
    for (const s of this.subs.values()) {
      s.closed = true;
      s.queue.length = 0;
      void s.sub?.close().catch(() => {});
    }
    this.subs.clear();
    this.tags.clear();
    this.backlog = [];
  }
}

const ackDelivery = (d: Delivery): void => d.ack();

function authError(err: unknown): EvmeshError {
  const e = toEvmeshError(err);
  return e.code === 'EVM_INTERNAL' ? new EvmeshError('EVM_UNAUTHENTICATED', e.message) : e;
}

/** The protocol object for src/protocol/tcp-protocols.ts. */
export function createBinaryProtocol(options: BinaryProtocolOptions = {}): TcpProtocol {
  const authenticate: Authenticate = options.authenticate ?? (() => undefined);
  return {
    name: 'evmesh-binary',
    magic: MAGIC,
    accept(socket: Socket, first: Buffer, ctx: ProtocolContext): Session {
      return new BinarySession(socket, first, ctx, authenticate);
    },
  };
}

export const binaryProtocol: TcpProtocol = createBinaryProtocol();
