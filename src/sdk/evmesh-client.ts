// EvmeshClient: the TypeScript SDK for evmesh's binary protocol (docs/sdk.md,
// docs/protocol-binary.md). One TCP connection, pipelined and batched:
// - publish()/publishBatch() calls made in one event-loop turn go out as PUBLISH frames (one
//   per topic, split at the server's limits) in one socket write; each call resolves with its
//   events' positions when the PUBLISH_ACK arrives. Events queued or unacknowledged are bounded
//   (maxInflightEvents): a publish beyond waits for room.
// - subscribe() grants the server `window` deliveries of credit; each ack() returns one, so the
//   application never holds more than `window` unacked deliveries per subscription.
// - heartbeats when idle; a silent or closed connection is re-established with exponential
//   backoff, subscriptions are re-made, queued publishes continue. Publishes that were in flight
//   when the connection dropped fail with EVM_UNAVAILABLE (they may or may not be stored).
import { connect as netConnect, type Socket } from 'node:net';
import type { Delivery, GroupMode, MeshEvent, PublishResult, StartPosition } from '../core/types.js';
import { EvmeshError, isErrorCode, toEvmeshError } from '../errors.js';
import { FrameDecoder } from '../protocol/binary/frame-decoder.js';
import { FrameWriter } from '../protocol/binary/frame-writer.js';
import {
  F, type Attributes, type DeliverHeader, type ErrorHeader, type HelloOkHeader, type PublishAckHeader,
} from '../protocol/binary/frames.js';
import { HeaderCodec } from '../protocol/binary/header-codec.js';
import { parseFrame, type Frame } from '../protocol/binary/parse.js';

export interface ReconnectOptions {
  /** First delay after a connection is lost (default 100 ms); doubles up to maxDelayMs. */
  readonly initialDelayMs?: number;
  /** Default 5000 ms. */
  readonly maxDelayMs?: number;
  /** Give up after this many failed attempts in a row (default: never). */
  readonly maxAttempts?: number;
}

export interface EvmeshClientOptions {
  readonly host?: string;
  /** The broker's TCP port (ports.tcp, default 10000). */
  readonly port?: number;
  readonly clientId?: string;
  /** Sent in HELLO's `auth` field, checked by the server's authenticate hook. */
  readonly credentials?: unknown;
  /** Extra msgpack record structures (attribute name lists your events use, in order). */
  readonly structures?: string[][];
  /** Events queued or awaiting their ack before publish() waits for room (default 16384). */
  readonly maxInflightEvents?: number;
  /** Most events per PUBLISH frame (default 1000, at most the server's maxBatchEvents). */
  readonly maxBatchEvents?: number;
  readonly connectTimeoutMs?: number;
  /** false: no automatic reconnect. */
  readonly reconnect?: boolean | ReconnectOptions;
  /** Override the heartbeat interval the server asks for. */
  readonly heartbeatMs?: number;
  /** Largest frame accepted from the server (default 64 MiB). */
  readonly maxFrameBytes?: number;
  /** Errors thrown by subscription handlers, and connection problems (default: ignored). */
  readonly onError?: (err: Error) => void;
}

export interface SubscribeParams {
  readonly topic: string;
  readonly group: string;
  readonly mode?: GroupMode;
  readonly from?: StartPosition;
  readonly replay?: boolean;
  readonly ackTimeoutMs?: number;
  readonly maxAttempts?: number;
  /** Unacked deliveries this subscription may hold (the credit window, default 1000). */
  readonly window?: number;
}

export interface ClientDelivery extends Delivery {
  /** Answers a request event (client.request on the other side); acks it. */
  reply(event: MeshEvent): Promise<void>;
}

export interface ClientSubscription {
  readonly topic: string;
  readonly group: string;
  /** Leaves the group; unacked deliveries go to the remaining members. */
  close(): Promise<void>;
}

type Handler = (d: ClientDelivery) => void;

interface PublishCall {
  readonly topic: string;
  readonly events: readonly MeshEvent[];
  /** Events of this call not yet put into a frame. */
  next: number;
  /** Events not yet acknowledged or failed. */
  open: number;
  readonly results: PublishResult[];
  error: EvmeshError | undefined;
  resolve(r: PublishResult[]): void;
  reject(err: EvmeshError): void;
}

interface Slice { readonly call: PublishCall; readonly start: number; readonly count: number }
interface PendingPublish { readonly topic: string; readonly slices: Slice[]; readonly count: number }
interface Pending { resolve(h: Record<string, unknown>, f: Frame): void; reject(err: EvmeshError): void }

interface SubState {
  readonly params: SubscribeParams;
  readonly handler: Handler;
  readonly window: number;
  /** Server-side id on the current connection (0 while (re)subscribing). */
  sid: number;
  /** Acks since the last CREDIT. */
  credit: number;
  closed: boolean;
}

class Connection {
  readonly writer: FrameWriter;
  codec: HeaderCodec;
  readonly decoder: FrameDecoder;
  hello: HelloOkHeader | undefined;
  lastRx = Date.now();
  lastTx = Date.now();
  constructor(readonly socket: Socket, maxFrameBytes: number) {
    this.codec = new HeaderCodec();
    this.writer = new FrameWriter(this.codec, () => socket.writableLength === 0);
    this.decoder = new FrameDecoder({ maxFrameBytes, preamble: true });
  }
}

const DEFAULT_PORT = 10000;

interface DeliverySink {
  /** The delivery arrived on the current connection (only those can be acked or replied to). */
  live(epoch: number): boolean;
  ack(s: SubState, tag: number): void;
  reply(s: SubState, tag: number, reply: MeshEvent): Promise<void>;
}

/** A delivery as the handler gets it: a class rather than an object with two closures, since a
 *  delivery lives until it is acked (thousands in flight per subscription reach the old
 *  generation, and every closure with its context was one more object there). */
class SdkDelivery implements ClientDelivery {
  private acked = false;
  constructor(
    readonly event: MeshEvent,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly attempt: number,
    private readonly tag: number,
    private readonly epoch: number,
    private readonly sub: SubState,
    private readonly sink: DeliverySink,
  ) {}

  ack(): void {
    if (this.acked) return;
    this.acked = true;
    if (this.sink.live(this.epoch) && !this.sub.closed) this.sink.ack(this.sub, this.tag);
  }

  reply(event: MeshEvent): Promise<void> {
    if (!this.sink.live(this.epoch)) return Promise.reject(new EvmeshError('EVM_UNAVAILABLE', 'the connection this request arrived on was lost'));
    this.acked = true;
    return this.sink.reply(this.sub, this.tag, event);
  }
}

export class EvmeshClient {
  private readonly o: Required<Pick<EvmeshClientOptions, 'host' | 'port' | 'clientId' | 'maxInflightEvents' | 'maxBatchEvents' | 'connectTimeoutMs' | 'maxFrameBytes'>>;
  private readonly reconnect: Required<ReconnectOptions> | undefined;
  private conn: Connection | undefined;
  private state: 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed' = 'connecting';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly publishes = new Map<number, PendingPublish>();
  /** Calls with events not yet in a frame, in call order. */
  private queue: PublishCall[] = [];
  /** Events queued + in flight (the maxInflightEvents bound). */
  private used = 0;
  private roomWaiters: { n: number; resolve: (granted: boolean) => void }[] = [];
  private readonly subs = new Set<SubState>();
  private readonly bySid = new Map<number, SubState>();
  private acks: number[] = [];
  private flushScheduled = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  /** Bumped per connection: deliveries of an older one cannot be acked. */
  private epoch = 0;
  private closedPromise: Promise<void> | undefined;
  /** What deliveries call back into (one object per client, not closures per delivery). */
  private readonly sink: DeliverySink = {
    live: (epoch) => epoch === this.epoch,
    ack: (s, tag) => {
      this.acks.push(tag);
      s.credit++;
      this.scheduleFlush();
    },
    reply: (s, tag, reply) => {
      s.credit++; // the server acks a replied request
      return this.call(F.REPLY, { tag, event: reply.attributes }, [reply.data]).then(() => undefined);
    },
  };

  private constructor(private readonly opts: EvmeshClientOptions) {
    const r = opts.reconnect ?? true;
    this.reconnect = r === false ? undefined : {
      initialDelayMs: (r === true ? undefined : r.initialDelayMs) ?? 100,
      maxDelayMs: (r === true ? undefined : r.maxDelayMs) ?? 5000,
      maxAttempts: (r === true ? undefined : r.maxAttempts) ?? Infinity,
    };
    this.o = {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? DEFAULT_PORT,
      clientId: opts.clientId ?? `evmesh-ts-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      maxInflightEvents: opts.maxInflightEvents ?? 16384,
      maxBatchEvents: opts.maxBatchEvents ?? 1000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      maxFrameBytes: opts.maxFrameBytes ?? 64 * 1024 * 1024,
    };
  }

  /** Connects (the first attempt must succeed) and completes the HELLO handshake. */
  static async connect(options: EvmeshClientOptions = {}): Promise<EvmeshClient> {
    const c = new EvmeshClient(options);
    await c.open();
    return c;
  }

  /** A method, not a property read: TypeScript would narrow `state` across awaits. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  /** True while a connection is established. */
  get connected(): boolean {
    return this.state === 'open';
  }

  // ---- connection ----

  private open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = netConnect({ host: this.o.host, port: this.o.port });
      socket.setNoDelay(true);
      const conn = new Connection(socket, this.o.maxFrameBytes);
      let settled = false;
      const fail = (err: EvmeshError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new EvmeshError('EVM_TIMEOUT', `no HELLO_OK from ${this.o.host}:${this.o.port} within ${this.o.connectTimeoutMs} ms`)), this.o.connectTimeoutMs);
      socket.on('error', (err) => fail(new EvmeshError('EVM_UNAVAILABLE', `cannot connect to ${this.o.host}:${this.o.port}: ${err.message}`)));
      socket.once('close', () => {
        fail(new EvmeshError('EVM_UNAVAILABLE', `connection to ${this.o.host}:${this.o.port} closed during the handshake`));
        if (this.conn === conn) this.onDisconnect();
      });
      socket.on('connect', () => {
        conn.writer.preamble();
        const hello: Record<string, unknown> = { client: this.o.clientId };
        if (this.opts.credentials !== undefined) hello.auth = this.opts.credentials;
        if (this.opts.structures?.length) hello.structures = this.opts.structures;
        conn.writer.frame(F.HELLO, hello);
        socket.write(conn.writer.take()!);
      });
      socket.on('data', (chunk: Buffer) => {
        conn.lastRx = Date.now();
        let frames: Frame[];
        try {
          frames = conn.decoder.push(chunk).map((raw) => parseFrame(raw, conn.codec));
        } catch (err) {
          fail(toEvmeshError(err));
          this.report(toEvmeshError(err));
          socket.destroy();
          return;
        }
        for (const f of frames) {
          if (!settled) {
            if (f.type === F.HELLO_OK) {
              settled = true;
              clearTimeout(timer);
              conn.hello = f.header as HelloOkHeader;
              if (this.opts.structures?.length) { conn.codec = new HeaderCodec(this.opts.structures); conn.writer.codec = conn.codec; }
              this.onConnected(conn);
              resolve();
            } else if (f.type === F.ERROR) {
              fail(errorOf(f.header));
            }
            continue;
          }
          if (this.conn !== conn) return;
          try {
            this.onFrame(f);
          } catch (err) {
            this.report(toEvmeshError(err));
            socket.destroy();
            return;
          }
        }
      });
    });
  }

  private onConnected(conn: Connection): void {
    if (this.state === 'closed' || this.state === 'closing') { conn.socket.destroy(); return; }
    this.conn = conn;
    this.epoch++;
    this.attempts = 0;
    this.state = 'open';
    const hb = this.opts.heartbeatMs ?? conn.hello?.heartbeatMs ?? 10_000;
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      const now = Date.now();
      if (now - conn.lastRx > 3 * hb + 1000) { conn.socket.destroy(); return; } // silent peer
      if (now - conn.lastTx >= hb) this.send(F.HEARTBEAT);
    }, hb);
    this.heartbeat.unref();
    for (const s of this.subs) this.sendSubscribe(s);
    this.scheduleFlush();
  }

  private onDisconnect(): void {
    const lost = new EvmeshError('EVM_UNAVAILABLE', 'the connection was lost before the broker answered');
    this.conn = undefined;
    clearInterval(this.heartbeat);
    this.acks = [];
    for (const s of this.subs) { if (s.sid) this.bySid.delete(s.sid); s.sid = 0; s.credit = 0; }
    for (const [id, p] of this.publishes) { this.publishes.delete(id); this.failPublish(p, lost); }
    for (const [id, p] of this.pending) { this.pending.delete(id); p.reject(lost); }
    if (this.state === 'closing' || this.state === 'closed') { this.state = 'closed'; return; }
    if (!this.reconnect || this.attempts >= this.reconnect.maxAttempts) { this.shutdown(lost); return; }
    this.state = 'reconnecting';
    const delay = Math.min(this.reconnect.maxDelayMs, this.reconnect.initialDelayMs * 2 ** this.attempts) * (0.75 + Math.random() * 0.5);
    this.attempts++;
    this.reconnectTimer = setTimeout(() => {
      this.open().catch((err) => {
        this.report(toEvmeshError(err));
        // open() failed before a connection existed: its close handler did not retry.
        if (this.state === 'reconnecting') this.onDisconnect();
      });
    }, delay);
  }

  /** Fails everything and stops: no more reconnects. */
  private shutdown(err: EvmeshError): void {
    this.state = 'closed';
    clearInterval(this.heartbeat);
    clearTimeout(this.reconnectTimer);
    for (const c of this.queue) this.failCall(c, err);
    this.queue = [];
    for (const w of this.roomWaiters) w.resolve(false);
    this.roomWaiters = [];
  }

  private report(err: Error): void {
    this.opts.onError?.(err);
  }

  // ---- frames in ----

  private onFrame(f: Frame): void {
    const h = f.header as Record<string, unknown>;
    switch (f.type) {
      case F.PUBLISH_ACK: return this.onPublishAck(h as unknown as PublishAckHeader);
      case F.DELIVER: return this.onDeliver(h as unknown as DeliverHeader, f.data!);
      case F.SUBSCRIBED: case F.OK: case F.REPLY: {
        const p = this.pending.get(h.id as number);
        if (p) { this.pending.delete(h.id as number); p.resolve(h, f); }
        return;
      }
      case F.ERROR: return this.onError(h as unknown as ErrorHeader);
      case F.HEARTBEAT_OK: return;
      case F.HEARTBEAT: this.send(F.HEARTBEAT_OK); return;
      case F.GOODBYE: return; // the server drains and closes; the close triggers a reconnect
      default: throw new EvmeshError('EVM_BAD_FRAME', `unexpected frame type 0x${f.type.toString(16)} from the server`);
    }
  }

  private onError(h: ErrorHeader): void {
    const err = errorOf(h);
    if (typeof h.id === 'number') {
      const pub = this.publishes.get(h.id);
      if (pub) { this.publishes.delete(h.id); this.failPublish(pub, err); this.scheduleFlush(); return; }
      const p = this.pending.get(h.id);
      if (p) { this.pending.delete(h.id); p.reject(err); return; }
    }
    this.report(err);
  }

  private onPublishAck(h: PublishAckHeader): void {
    const pub = this.publishes.get(h.id);
    if (!pub) return;
    this.publishes.delete(h.id);
    const failed = new Map<number, EvmeshError>();
    const errs = h.errors ?? [];
    for (let i = 0; i + 2 < errs.length; i += 3) {
      const code = errs[i + 1];
      failed.set(errs[i] as number, new EvmeshError(isErrorCode(code) ? code : 'EVM_INTERNAL', String(errs[i + 2])));
    }
    const runs = h.runs;
    let r = 0, left = 0, partition = 0, offset = 0, k = 0;
    for (const s of pub.slices) {
      for (let j = 0; j < s.count; j++, k++) {
        const e = failed.get(k);
        if (e) { s.call.error ??= e; continue; }
        if (left === 0) { partition = runs[r]!; offset = runs[r + 1]!; left = runs[r + 2]!; r += 3; }
        s.call.results[s.start + j] = { topic: pub.topic, partition, offset: offset++ };
        left--;
      }
      this.settleSlice(s);
    }
    this.release(pub.count);
    this.scheduleFlush();
  }

  private settleSlice(s: Slice): void {
    const c = s.call;
    c.open -= s.count;
    if (c.open > 0) return;
    if (c.error) c.reject(c.error); else c.resolve(c.results);
  }

  private failPublish(p: PendingPublish, err: EvmeshError): void {
    for (const s of p.slices) { s.call.error ??= err; this.settleSlice(s); }
    this.release(p.count);
  }

  private failCall(c: PublishCall, err: EvmeshError): void {
    const unsent = c.events.length - c.next;
    c.error ??= err;
    c.open -= unsent;
    c.next = c.events.length;
    this.release(unsent);
    if (c.open <= 0) c.reject(c.error);
  }

  private onDeliver(h: DeliverHeader, data: (Uint8Array | undefined)[]): void {
    const s = this.bySid.get(h.sub);
    if (!s || s.closed) return;
    const epoch = this.epoch;
    for (let i = 0; i < h.d.length; i++) {
      const [partition, offset, attempt, attributes] = h.d[i]!;
      const dd = data[i];
      const event: MeshEvent = dd === undefined ? { attributes } : { attributes, data: dd };
      const delivery = new SdkDelivery(event, h.topic, partition, offset, attempt, h.tag + i, epoch, s, this.sink);
      try {
        s.handler(delivery);
      } catch (err) {
        this.report(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  // ---- frames out ----

  private send(type: number, header?: unknown, data?: readonly (Uint8Array | undefined)[]): void {
    const c = this.conn;
    if (!c || this.state !== 'open' && this.state !== 'closing') return;
    c.writer.frame(type, header, data);
    this.scheduleFlush();
  }

  /** Sends a request frame with a fresh id; resolves with the answer's header. */
  private call(type: number, header: Record<string, unknown>, data?: readonly (Uint8Array | undefined)[], onAnswer?: (h: Record<string, unknown>) => void): Promise<{ h: Record<string, unknown>; f: Frame }> {
    if (this.state !== 'open') return Promise.reject(new EvmeshError('EVM_UNAVAILABLE', `not connected (${this.state})`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: (h, f) => { onAnswer?.(h); resolve({ h, f }); }, reject });
      this.send(type, { id, ...header }, data);
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const c = this.conn;
    if (!c || (this.state !== 'open' && this.state !== 'closing')) return;
    this.packPublishes(c);
    if (this.acks.length > 0) {
      c.writer.frame(F.ACK, { tags: ranges(this.acks) });
      this.acks = [];
    }
    for (const s of this.subs) {
      if (s.credit > 0 && s.sid) { c.writer.frame(F.CREDIT, { sub: s.sid, n: s.credit }); s.credit = 0; }
    }
    const out = c.writer.take();
    if (out) { c.lastTx = Date.now(); c.socket.write(out); }
  };

  /** Moves queued publish calls into PUBLISH frames, within the server's limits. */
  private packPublishes(c: Connection): void {
    const hello = c.hello!;
    const maxFrames = hello.maxInflightPublishes;
    const maxEvents = Math.max(1, Math.min(this.o.maxBatchEvents, hello.maxBatchEvents));
    const maxBytes = Math.floor(hello.maxFrameBytes * 0.9);
    while (this.queue.length > 0 && this.publishes.size < maxFrames) {
      const topic = this.queue[0]!.topic;
      const attrs: Attributes[] = [];
      const data: (Uint8Array | undefined)[] = [];
      const slices: Slice[] = [];
      let bytes = 64 + topic.length;
      let qi = 0;
      while (qi < this.queue.length && attrs.length < maxEvents) {
        const call = this.queue[qi]!;
        if (call.topic !== topic) { qi++; continue; }
        const start = call.next;
        while (call.next < call.events.length && attrs.length < maxEvents) {
          const ev = call.events[call.next]!;
          const size = 4 + (ev.data?.length ?? 0) + estimateAttrs(ev.attributes);
          if (attrs.length > 0 && bytes + size > maxBytes) break;
          attrs.push(ev.attributes as Attributes);
          data.push(ev.data);
          bytes += size;
          call.next++;
        }
        if (call.next > start) slices.push({ call, start, count: call.next - start });
        if (call.next < call.events.length) break; // frame full
        this.queue.splice(qi, 1);
      }
      const id = this.nextId++;
      this.publishes.set(id, { topic, slices, count: attrs.length });
      c.writer.frame(F.PUBLISH, { id, topic, events: attrs }, data);
    }
  }

  /** Takes room for n events (false: the client closed while waiting). */
  private room(n: number): boolean | Promise<boolean> {
    if (this.used + n <= this.o.maxInflightEvents || this.used === 0) { this.used += n; return true; }
    return new Promise<boolean>((resolve) => this.roomWaiters.push({ n, resolve }));
  }

  private release(n: number): void {
    this.used -= n;
    while (this.roomWaiters.length > 0) {
      const w = this.roomWaiters[0]!;
      if (this.used + w.n > this.o.maxInflightEvents && this.used > 0) break;
      this.roomWaiters.shift();
      this.used += w.n;
      w.resolve(true);
    }
  }

  private sendSubscribe(s: SubState): Promise<void> {
    const p = s.params;
    const h: Record<string, unknown> = { topic: p.topic, group: p.group, credit: s.window, maxInflight: s.window };
    if (p.mode !== undefined) h.mode = p.mode;
    if (p.from !== undefined) h.from = p.from;
    if (p.replay !== undefined) h.replay = p.replay;
    if (p.ackTimeoutMs !== undefined) h.ackTimeoutMs = p.ackTimeoutMs;
    if (p.maxAttempts !== undefined) h.maxAttempts = p.maxAttempts;
    const epoch = this.epoch;
    // The sub id is recorded when SUBSCRIBED is read (synchronously): DELIVER frames may follow
    // in the same chunk.
    return this.call(F.SUBSCRIBE, h, undefined, (ok) => {
      if (s.closed || epoch !== this.epoch) return;
      s.sid = ok.sub as number;
      this.bySid.set(s.sid, s);
    }).then(() => undefined, (err: EvmeshError) => {
      if (epoch === this.epoch && this.subs.has(s) && err.code !== 'EVM_UNAVAILABLE') this.report(err);
      throw err;
    });
  }

  // ---- public API ----

  /** Publishes one event; resolves with its position once the broker acknowledged it. */
  async publish(topic: string, event: MeshEvent): Promise<PublishResult> {
    const [r] = await this.publishBatch(topic, [event]);
    return r!;
  }

  /** Publishes events in order; resolves with each one's position (input order). A failed
   *  event rejects the call with its error (the others may be stored). */
  async publishBatch(topic: string, events: readonly MeshEvent[]): Promise<PublishResult[]> {
    if (this.state === 'closed' || this.state === 'closing') throw new EvmeshError('EVM_SHUTTING_DOWN', 'the client is closed');
    if (!Array.isArray(events)) throw new EvmeshError('EVM_BAD_REQUEST', 'events must be an array');
    if (events.length === 0) return [];
    const granted = await this.room(events.length);
    if (!granted) throw new EvmeshError('EVM_SHUTTING_DOWN', 'the client is closed');
    if (this.isClosed()) { this.release(events.length); throw new EvmeshError('EVM_SHUTTING_DOWN', 'the client is closed'); }
    return new Promise<PublishResult[]>((resolve, reject) => {
      this.queue.push({ topic, events, next: 0, open: events.length, results: new Array(events.length), error: undefined, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Joins `group` on `topic`; `handler` gets each delivery and must ack() it (unacked ones are
   *  redelivered after ackTimeoutMs). At most `window` unacked deliveries are outstanding. */
  async subscribe(params: SubscribeParams, handler: Handler): Promise<ClientSubscription> {
    const window = params.window ?? 1000;
    if (!Number.isSafeInteger(window) || window < 1) throw new EvmeshError('EVM_BAD_REQUEST', 'window must be a positive integer');
    const s: SubState = { params, handler, window, sid: 0, credit: 0, closed: false };
    await this.sendSubscribe(s);
    this.subs.add(s);
    return {
      topic: params.topic,
      group: params.group,
      close: async () => {
        if (s.closed) return;
        s.closed = true;
        this.subs.delete(s);
        const sid = s.sid;
        if (!sid) return;
        this.bySid.delete(sid);
        if (this.state === 'open') await this.call(F.UNSUBSCRIBE, { sub: sid });
      },
    };
  }

  /** Publishes a request event and resolves with the reply (EVM_TIMEOUT after timeoutMs). */
  async request(topic: string, event: MeshEvent, timeoutMs = 10_000): Promise<MeshEvent> {
    const { h, f } = await this.call(F.REQUEST, { topic, timeoutMs, event: event.attributes }, [event.data]);
    const data = f.data?.[0];
    return data === undefined ? { attributes: h.event as Attributes } : { attributes: h.event as Attributes, data };
  }

  /** Waits for in-flight publishes (up to timeoutMs), says GOODBYE and closes. */
  close(timeoutMs = 5000): Promise<void> {
    this.closedPromise ??= this.doClose(timeoutMs);
    return this.closedPromise;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    const wasOpen = this.state === 'open';
    this.state = 'closing';
    clearTimeout(this.reconnectTimer);
    const deadline = Date.now() + timeoutMs;
    while (wasOpen && this.conn && (this.queue.length > 0 || this.publishes.size > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    this.shutdown(new EvmeshError('EVM_SHUTTING_DOWN', 'the client was closed'));
    const c = this.conn;
    if (!c || c.socket.destroyed) return;
    c.writer.frame(F.GOODBYE, { reason: 'client closing' });
    const out = c.writer.take();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { c.socket.destroy(); resolve(); }, 1000);
      c.socket.once('close', () => { clearTimeout(t); resolve(); });
      if (out) c.socket.end(out); else c.socket.end();
    });
  }
}

function errorOf(h: unknown): EvmeshError {
  const e = (h ?? {}) as Partial<ErrorHeader>;
  return new EvmeshError(isErrorCode(e.code) ? e.code : 'EVM_INTERNAL', String(e.message ?? 'error from the server'));
}

/** Sorted tags → flat [first, count] pairs. */
function ranges(tags: number[]): number[] {
  tags.sort((a, b) => a - b);
  const out: number[] = [];
  let first = tags[0]!, count = 1;
  for (let i = 1; i < tags.length; i++) {
    const t = tags[i]!;
    if (t === first + count) { count++; continue; }
    if (t < first + count) continue; // duplicate
    out.push(first, count);
    first = t; count = 1;
  }
  out.push(first, count);
  return out;
}

/** Rough msgpack size of an attribute map (for splitting frames below maxFrameBytes). */
function estimateAttrs(attrs: MeshEvent['attributes']): number {
  let n = 8;
  for (const k in attrs) {
    const v = attrs[k];
    n += k.length + 4 + (typeof v === 'string' ? v.length * 3 + 4 : 9);
  }
  return n;
}
