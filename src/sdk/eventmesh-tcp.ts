// A TypeScript client for the EventMesh TCP protocol (spec T2–T58), for evmesh or an upstream
// EventMesh runtime: connect + HELLO, publish (pipelined, resolves on the server's ACK, bounded
// in flight), subscribe with explicit acks, request-reply, heartbeat, automatic reconnect with
// resubscribe. Events are MeshEvents (CloudEvents attributes + data bytes); the topic is the
// CloudEvent subject (T42). Publishes are sent as CloudEvents JSON (`protocoltype: cloudevents`).
import { connect, type Socket } from 'node:net';
import { EvmeshError, isErrorCode, toEvmeshError } from '../errors.js';
import type { MeshEvent } from '../core/types.js';
import type { Command } from '../protocol/tcp/commands.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, FrameWriter, type Frame, type FrameBody } from '../protocol/tcp/frame.js';
import { NO_PROPERTIES, type Header } from '../protocol/tcp/header.js';
import { HeaderTemplate } from '../protocol/tcp/header-template.js';
import { cloudEventJsonParts, decodeMessage } from '../protocol/tcp/messages.js';
import { subscriptionJson, userAgentJson, type SubscriptionItem, type UserAgent } from '../protocol/tcp/bodies.js';

export interface EventMeshTcpClientOptions {
  readonly host?: string;
  readonly port: number;
  /** T20: `group` and `purpose` are required; `purpose: 'sub'` to subscribe. `unack` > 0
   *  asks evmesh for at most that many unacked pushes per partition owner. */
  readonly userAgent: UserAgent & { readonly group: string; readonly purpose: 'pub' | 'sub' };
  /** T29: heartbeat period (default 30 s, as the Java SDK). */
  readonly heartbeatMs?: number;
  /** How long a HELLO, SUBSCRIBE, publish ACK … may take (default 10 s) → EVM_TIMEOUT. */
  readonly timeoutMs?: number;
  /** Publishes awaiting their ACK; further publish() calls wait for a slot (default 100). */
  readonly maxInflight?: number;
  /** Reconnect (and re-HELLO, re-SUBSCRIBE, re-LISTEN) after a lost connection (default true). */
  readonly reconnect?: boolean;
  readonly reconnectDelayMs?: { readonly min: number; readonly max: number };
  /** v1.8 length formula (T4). */
  readonly legacyLength?: boolean;
  /** Called with connection-level problems (lost connection, reconnect failure, handler errors). */
  readonly onError?: (err: EvmeshError) => void;
}

export interface PushContext {
  readonly topic: string;
  /** The push command (ASYNC_MESSAGE_TO_CLIENT, BROADCAST_MESSAGE_TO_CLIENT, REQUEST_TO_CLIENT). */
  readonly command: Command;
  readonly seq: string;
  /** Request-reply (type SYNC): sends the reply (with the request's correlation extensions) and acks. */
  reply?(event: MeshEvent): void;
}

/** Called for each push; call `ack()` once handled — unacked events are redelivered by evmesh. */
export type PushHandler = (event: MeshEvent, ack: () => void, ctx: PushContext) => void;

export interface SubscribeOptions {
  readonly mode?: 'CLUSTERING' | 'BROADCASTING';
  /** SYNC: pushes are requests (REQUEST_TO_CLIENT) to answer with ctx.reply (T54). */
  readonly type?: 'ASYNC' | 'SYNC';
}

/** What settles a request in flight: one call, or a whole publish call (many frames). */
interface Waiter {
  /** The reply to one of its requests. */
  reply(f: Frame): void;
  /** One of its requests got no reply (timeout, connection lost, client closed). */
  fail(e: EvmeshError): void;
}

/** One publish()/publishBatch(): its frames share this waiter and one timer, so a pipelined
 *  publish costs no promise, closure or timer per event (measured: the SDK was the bench's
 *  largest CPU consumer per event, docs/protocol-eventmesh-tcp.md "Numbers"). */
class PublishCall implements Waiter {
  readonly promise: Promise<void>;
  private resolve!: () => void;
  private reject!: (e: EvmeshError) => void;
  private error: EvmeshError | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** `open`: frames not answered yet; each answer frees its in-flight slot (`release`). */
  constructor(private open: number, private readonly release: () => void) {
    this.promise = new Promise<void>((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
  }

  reply(f: Frame): void {
    this.release();
    this.settle(1, f.header!.code === 0 ? undefined : replyError(f.header!));
  }

  fail(e: EvmeshError): void {
    this.release();
    this.settle(1, e);
  }

  /** `n` frames that were never sent (they hold no slot). */
  abort(n: number, e: EvmeshError): void {
    this.settle(n, e);
  }

  /** The timeout starts once every frame is written; `expire` fails those still unanswered. */
  arm(timeoutMs: number, expire: () => void): void {
    if (this.open > 0) this.timer = setTimeout(expire, timeoutMs);
  }

  private settle(n: number, e: EvmeshError | undefined): void {
    if (e !== undefined) this.error ??= e;
    this.open -= n;
    if (this.open > 0) return;
    clearTimeout(this.timer);
    if (this.error === undefined) this.resolve();
    else this.reject(this.error);
  }
}

const ACK_OF: Partial<Record<Command, Command>> = {
  ASYNC_MESSAGE_TO_CLIENT: 'ASYNC_MESSAGE_TO_CLIENT_ACK',
  BROADCAST_MESSAGE_TO_CLIENT: 'BROADCAST_MESSAGE_TO_CLIENT_ACK',
  REQUEST_TO_CLIENT: 'REQUEST_TO_CLIENT_ACK',
};
/** T24; frozen: its JSON is made once (header.ts). */
const CE_PROPS = Object.freeze({ protocoltype: 'cloudevents', protocolversion: '1.0', protocoldesc: 'tcp' });
/** Publish and push-ACK headers differ only in the seq: made once (header-template.ts). */
const PUBLISH_HEADERS = {
  ASYNC_MESSAGE_TO_SERVER: new HeaderTemplate({ cmd: 'ASYNC_MESSAGE_TO_SERVER', code: 0, properties: CE_PROPS }),
  BROADCAST_MESSAGE_TO_SERVER: new HeaderTemplate({ cmd: 'BROADCAST_MESSAGE_TO_SERVER', code: 0, properties: CE_PROPS }),
};
const ACK_HEADERS = new Map(Object.values(ACK_OF).map((cmd) => [cmd, new HeaderTemplate({ cmd, code: 0, properties: NO_PROPERTIES })]));

/** A failure reply's desc is `CODE: message` from evmesh; anything else is EVM_INTERNAL. */
function replyError(h: Header): EvmeshError {
  const desc = h.desc ?? `code ${h.code}`;
  const m = /^(EVM_[A-Z_]+): ([\s\S]*)$/.exec(desc);
  return m && isErrorCode(m[1]) ? new EvmeshError(m[1], m[2]!) : new EvmeshError('EVM_INTERNAL', desc);
}

export class EventMeshTcpClient {
  private socket: Socket | undefined;
  private decoder!: FrameDecoder;
  private readonly pending = new Map<string, Waiter>();
  private readonly subs = new Map<string, { item: SubscriptionItem; handler: PushHandler }>();
  private seq = 0;
  private inflight = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private writable = true;
  private readonly drainWaiters: (() => void)[] = [];
  /** Frames written this tick (to outSocket), sent by flushOut. */
  private out: FrameWriter;
  private outSocket: Socket | undefined;
  private listening = false;
  private closing = false;
  /** HELLO succeeded once: only then is a lost connection re-established. */
  private ready = false;
  private reconnecting = false;
  private connected: Promise<void> | undefined;
  /** `connected` is not settled yet. */
  private connecting = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly o: Required<Omit<EventMeshTcpClientOptions, 'onError'>> & Pick<EventMeshTcpClientOptions, 'onError'>;

  private constructor(options: EventMeshTcpClientOptions) {
    this.o = {
      host: '127.0.0.1', heartbeatMs: 30_000, timeoutMs: 10_000, maxInflight: 100, reconnect: true,
      reconnectDelayMs: { min: 100, max: 5_000 }, legacyLength: false, ...options,
    };
    this.out = new FrameWriter(this.o.legacyLength);
  }

  /** Connects and says HELLO (T27); rejects when the server refuses. */
  static async connect(options: EventMeshTcpClientOptions): Promise<EventMeshTcpClient> {
    const c = new EventMeshTcpClient(options);
    await c.open();
    c.ready = true;
    return c;
  }

  /** Publishes `event` to `topic` (its subject, T42) and resolves on the server's ACK (T43);
   *  `broadcast` sends BROADCAST_MESSAGE_TO_SERVER (T44). At most `maxInflight` are pending. */
  publish(topic: string, event: MeshEvent, opts: { broadcast?: boolean } = {}): Promise<void> {
    return this.publishBatch(topic, [event], opts);
  }

  /** Publishes `events` in order as pipelined frames (EventMesh TCP has no batch command) and
   *  resolves once every one is ACKed; a failed event rejects the call with its error once all
   *  are answered (the others may be stored). Frames wait for in-flight slots (`maxInflight`). */
  async publishBatch(topic: string, events: readonly MeshEvent[], opts: { broadcast?: boolean } = {}): Promise<void> {
    const cmd = opts.broadcast ? 'BROADCAST_MESSAGE_TO_SERVER' : 'ASYNC_MESSAGE_TO_SERVER';
    const n = events.length;
    if (n === 0) return;
    const call = new PublishCall(n, this.release);
    for (let i = 0; i < n;) {
      if (this.inflight >= this.o.maxInflight || !this.writable || this.connecting) { await this.room(); continue; }
      const s = this.socket;
      if (this.closing || s === undefined || s.destroyed) {
        call.abort(n - i, new EvmeshError(this.closing ? 'EVM_SHUTTING_DOWN' : 'EVM_UNAVAILABLE', this.closing ? 'the client is closed' : 'not connected'));
        break;
      }
      this.inflight++;
      try {
        const seq = String(++this.seq);
        this.writeSeq(s, PUBLISH_HEADERS[cmd], seq, cloudEventJsonParts(withSubject(events[i]!, topic)));
        this.pending.set(seq, call);
      } catch (err) {
        call.fail(toEvmeshError(err)); // EVM_TOO_LARGE: nothing was written
      }
      i++;
    }
    call.arm(this.o.timeoutMs, () => this.expire(call, new EvmeshError('EVM_TIMEOUT', `${cmd} got no reply within ${this.o.timeoutMs} ms`)));
    return call.promise;
  }

  /** Request-reply (T45): resolves with the reply event; the `ttl` extension carries the timeout. */
  async request(topic: string, event: MeshEvent, timeoutMs = this.o.timeoutMs): Promise<MeshEvent> {
    const req = withSubject({ ...event, attributes: { ...event.attributes, ttl: String(timeoutMs) } }, topic);
    const f = await this.call('REQUEST_TO_SERVER', cloudEventJsonParts(req), CE_PROPS, timeoutMs + 1000);
    return decodeMessage(f.header!.properties, f.header!.seq, f.body).event;
  }

  /** SUBSCRIBE (T31) then LISTEN (T32). Needs `purpose: 'sub'`. Re-done after a reconnect. */
  async subscribe(topic: string, opts: SubscribeOptions, handler: PushHandler): Promise<void> {
    const item: SubscriptionItem = { topic, mode: opts.mode ?? 'CLUSTERING', type: opts.type ?? 'ASYNC' };
    await this.call('SUBSCRIBE_REQUEST', subscriptionJson([item]));
    this.subs.set(topic, { item, handler });
    if (!this.listening) {
      await this.call('LISTEN_REQUEST');
      this.listening = true;
    }
  }

  /** UNSUBSCRIBE (T33): removes every subscription of this connection. */
  async unsubscribeAll(): Promise<void> {
    await this.call('UNSUBSCRIBE_REQUEST');
    this.subs.clear();
  }

  /** One HEARTBEAT round trip (T30); heartbeats are also sent every `heartbeatMs`. */
  async ping(): Promise<void> {
    await this.call('HEARTBEAT_REQUEST');
  }

  /** CLIENT_GOODBYE (T34), then close. Pending calls fail with EVM_SHUTTING_DOWN. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.heartbeat);
    const s = this.socket;
    if (s && !s.destroyed) {
      await this.call('CLIENT_GOODBYE_REQUEST', undefined, undefined, 2000).catch(() => {});
      this.flushOut();
      s.end();
      s.destroy();
    }
    this.failAll(new EvmeshError('EVM_SHUTTING_DOWN', 'the client is closed'));
  }

  // ---- connection ----

  private open(): Promise<void> {
    this.connecting = true;
    this.connected = new Promise<void>((resolve, reject) => {
      const s = connect({ host: this.o.host, port: this.o.port });
      this.socket = s;
      this.decoder = new FrameDecoder({ legacyLength: this.o.legacyLength });
      this.writable = true;
      s.setNoDelay(true);
      s.on('data', (chunk: Buffer) => this.onData(chunk));
      s.on('drain', () => { this.writable = true; for (const w of this.drainWaiters.splice(0)) w(); });
      s.on('error', () => { /* close follows */ });
      s.once('close', () => this.onClose(s));
      s.once('connect', () => {
        this.hello().then(resolve, (err) => { s.destroy(); reject(err); });
      });
      s.once('close', () => reject(new EvmeshError('EVM_UNAVAILABLE', `connection to ${this.o.host}:${this.o.port} closed`)));
    });
    const settled = (): void => { this.connecting = false; this.wakeAll(); };
    this.connected.then(settled, settled);
    return this.connected;
  }

  private async hello(): Promise<void> {
    await this.call('HELLO_REQUEST', userAgentJson({ version: '1.0', ...this.o.userAgent }));
    clearInterval(this.heartbeat);
    // T29: a heartbeat without reply in `timeoutMs` drops the connection (then reconnect).
    this.heartbeat = setInterval(() => {
      this.call('HEARTBEAT_REQUEST').catch(() => this.socket?.destroy());
    }, this.o.heartbeatMs);
    this.heartbeat.unref();
  }

  private onClose(s: Socket): void {
    if (s !== this.socket) return;
    clearInterval(this.heartbeat);
    this.failAll(new EvmeshError('EVM_UNAVAILABLE', 'the connection was lost'));
    this.listening = false;
    if (this.closing || !this.o.reconnect || !this.ready || this.reconnecting) return;
    this.o.onError?.(new EvmeshError('EVM_UNAVAILABLE', 'connection lost; reconnecting'));
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    this.reconnecting = true;
    try {
      await this.reconnectLoop();
    } finally {
      this.reconnecting = false;
    }
  }

  private async reconnectLoop(): Promise<void> {
    let delay = this.o.reconnectDelayMs.min;
    while (!this.closing) {
      await new Promise((r) => setTimeout(r, delay));
      if (this.closing) return;
      try {
        await this.open();
        // T29: re-HELLO (done), re-SUBSCRIBE, re-LISTEN.
        for (const { item } of this.subs.values()) await this.call('SUBSCRIBE_REQUEST', subscriptionJson([item]));
        if (this.subs.size > 0) { await this.call('LISTEN_REQUEST'); this.listening = true; }
        return;
      } catch (err) {
        this.o.onError?.(toEvmeshError(err));
        this.socket?.destroy();
        delay = Math.min(delay * 2, this.o.reconnectDelayMs.max);
      }
    }
  }

  private failAll(err: EvmeshError): void {
    for (const [seq, w] of this.pending) { this.pending.delete(seq); w.fail(err); }
    this.wakeAll();
  }

  /** Fails the requests of `w` still waiting for a reply. */
  private expire(w: Waiter, err: EvmeshError): void {
    for (const [seq, x] of this.pending) if (x === w) { this.pending.delete(seq); w.fail(err); }
  }

  // ---- frames ----

  private call(cmd: Command, body?: FrameBody, properties: Readonly<Record<string, string>> = NO_PROPERTIES, timeoutMs = this.o.timeoutMs): Promise<Frame> {
    const s = this.socket;
    if (this.closing && cmd !== 'CLIENT_GOODBYE_REQUEST') return Promise.reject(new EvmeshError('EVM_SHUTTING_DOWN', 'the client is closed'));
    if (!s || s.destroyed) return Promise.reject(new EvmeshError('EVM_UNAVAILABLE', 'not connected'));
    return new Promise<Frame>((resolve, reject) => {
      const seq = this.send(s, cmd, body, properties); // may throw EVM_TOO_LARGE: nothing written
      const timer = setTimeout(() => {
        if (this.pending.delete(seq)) reject(new EvmeshError('EVM_TIMEOUT', `${cmd} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, {
        reply: (f) => { clearTimeout(timer); if (f.header!.code === 0) resolve(f); else reject(replyError(f.header!)); },
        fail: (e) => { clearTimeout(timer); reject(e); },
      });
    });
  }

  /** Writes one request frame with the next seq (T9) and returns that seq. */
  private send(s: Socket, cmd: Command, body: FrameBody | undefined, properties: Readonly<Record<string, string>>): string {
    const seq = String(++this.seq);
    this.write(s, { cmd, code: 0, seq, properties }, body);
    return seq;
  }

  /** Frames written in one tick go out as one socket.write (FrameWriter; see session.ts). */
  private write(s: Socket, header: Header, body?: FrameBody, max = DEFAULT_MAX_FRAME_BYTES): void {
    if (this.writer(s).add(header, body, max)) process.nextTick(this.flushOut); // may throw EVM_TOO_LARGE: nothing written
  }

  /** write() of a header template with `seq` (header-template.ts). */
  private writeSeq(s: Socket, t: HeaderTemplate, seq: string, body?: FrameBody): void {
    if (this.writer(s).addSeq(t, seq, body, DEFAULT_MAX_FRAME_BYTES)) process.nextTick(this.flushOut); // may throw EVM_TOO_LARGE
  }

  /** The writer of this tick's frames, all for one socket. */
  private writer(s: Socket): FrameWriter {
    if (this.outSocket !== s) { this.flushOut(); this.outSocket = s; }
    return this.out;
  }

  private readonly flushOut = (): void => {
    const s = this.outSocket;
    if (this.out.bytes === 0 || s === undefined) return;
    const bytes = this.out.take();
    if (s.destroyed) { this.out.release(true); return; }
    const ok = s.write(bytes);
    this.out.release(s.writableLength === 0);
    if (!ok && s === this.socket) this.writable = false;
  };

  /** Backpressure: waits for an in-flight slot, a drained socket and a settled connection. */
  private async room(): Promise<void> {
    while (this.inflight >= this.o.maxInflight) await new Promise<void>((r) => this.slotWaiters.push(r));
    if (!this.writable) await new Promise<void>((r) => this.drainWaiters.push(r));
    if (this.connecting) await this.connected!.catch(() => {});
  }

  /** An answered publish frame frees its slot. */
  private readonly release = (): void => {
    this.inflight--;
    this.slotWaiters.shift()?.();
  };

  /** Connection state changed: every waiting publish looks again (and fails if it must). */
  private wakeAll(): void {
    for (const w of this.slotWaiters.splice(0)) w();
    for (const w of this.drainWaiters.splice(0)) w();
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      let f: Frame | undefined;
      try {
        f = this.decoder.next();
      } catch (err) {
        this.o.onError?.(toEvmeshError(err));
        this.socket?.destroy();
        return;
      }
      if (f === undefined) return;
      this.onFrame(f);
    }
  }

  private onFrame(f: Frame): void {
    const h = f.header;
    if (h?.cmd === undefined) return;
    const ackCmd = ACK_OF[h.cmd];
    if (ackCmd !== undefined) return this.onPush(h, ackCmd, f.body);
    if (h.cmd === 'SERVER_GOODBYE_REQUEST') return; // T35: the server closes; reconnect follows
    if (h.seq === undefined) return;
    const w = this.pending.get(h.seq);
    if (!w) return; // T48: unknown seq is noise
    this.pending.delete(h.seq);
    w.reply(f);
  }

  private onPush(h: Header, ackCmd: Command, body: Uint8Array | undefined): void {
    const seq = h.seq ?? '';
    const s = this.socket!;
    let acked = false;
    const ack = (): void => {
      if (acked || s.destroyed) return;
      acked = true;
      this.writeSeq(s, ACK_HEADERS.get(ackCmd)!, seq);
    };
    if (h.code !== 0) { this.o.onError?.(replyError(h)); return; } // T53: not decodable; evmesh redelivers
    let event: MeshEvent;
    try {
      event = decodeMessage({ protocoltype: 'cloudevents', ...h.properties }, seq, body).event;
    } catch (err) {
      this.o.onError?.(toEvmeshError(err));
      return;
    }
    const topic = typeof event.attributes.subject === 'string' ? event.attributes.subject : '';
    const sub = this.subs.get(topic) ?? [...this.subs.values()][0];
    if (!sub) return;
    const ctx: PushContext = { topic, command: h.cmd!, seq };
    if (h.cmd === 'REQUEST_TO_CLIENT') {
      (ctx as { reply?: (ev: MeshEvent) => void }).reply = (reply: MeshEvent) => {
        ack();
        // T46: the reply carries the request's correlation extensions so evmesh can route it.
        const attrs = { ...reply.attributes };
        for (const k of ['correlationid', 'replyto']) if (event.attributes[k] !== undefined) attrs[k] = event.attributes[k]!;
        if (attrs.subject === undefined) attrs.subject = topic;
        const body = cloudEventJsonParts({ ...reply, attributes: attrs });
        if (!s.destroyed) this.write(s, { cmd: 'RESPONSE_TO_SERVER', code: 0, seq: String(++this.seq), properties: CE_PROPS }, body, DEFAULT_MAX_FRAME_BYTES);
      };
    }
    try {
      sub.handler(event, ack, ctx);
    } catch (err) {
      this.o.onError?.(toEvmeshError(err));
    }
  }
}

function withSubject(event: MeshEvent, topic: string): MeshEvent {
  return event.attributes.subject === topic ? event : { ...event, attributes: { ...event.attributes, subject: topic } };
}
