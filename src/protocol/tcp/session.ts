// One EventMesh TCP connection: the session state machine (spec T26–T39) over core's Client.
//
// Reading: frames are pulled from an incremental decoder one at a time, and pulling stops
// (socket paused) while the connection has `maxPendingPublishes` publishes in flight or the
// socket's write buffer is full — so neither a fast producer nor a slow reader makes the broker
// buffer unbounded data. Writing: frames written in one tick go out as one socket write
// (FrameWriter); publishes of one read go to core as one publishBatch per topic.
// Pushes are bounded by core's credit (subscribe `maxInflight`): each push stays unacked in core
// until the client's *_ACK arrives (unlike upstream, T56/T58), and pushes that cannot be written
// yet (before LISTEN, or while the socket is full) wait in a queue bounded by that credit.
import type { Socket } from 'node:net';
import { ERRORS, EvmeshError, toEvmeshError } from '../../errors.js';
import type { Delivery, MeshEvent, Subscription } from '../../core/types.js';
import type { ProtocolContext, Session } from '../types.js';
import { parseSubscription, parseUserAgent, type SubscriptionItem, type UserAgent } from './bodies.js';
import { OP_FAIL, OP_SUCCESS, replyCommand, type Command } from './commands.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, FrameWriter, type Frame, type FrameBody, type FrameOptions } from './frame.js';
import { NO_PROPERTIES, type Header } from './header.js';
import { HeaderTemplate } from './header-template.js';
import { decodeMessage, encodeMessage } from './messages.js';
import { threadMetrics } from '../../metrics/shard.js';
import type { TcpConnectionMetrics } from '../../metrics/tcp.js';
import type { TrafficCell } from '../../metrics/traffic.js';

export interface SessionOptions extends FrameOptions {
  readonly idleTimeoutMs: number;
  readonly maxPendingPublishes: number;
  readonly maxPendingRequests: number;
  /** REQUEST_TO_SERVER without a `ttl` extension waits this long for its reply (T45). */
  readonly requestTimeoutMs: number;
}

/** Upstream's graceful goodbye text (T35). */
const GRACEFUL_GOODBYE = 'graceful normal quit from eventmesh';
const CORRELATION_ID = 'correlationid';
const REPLY_TO = 'replyto';
/** How long drain() waits for in-flight publishes before closing anyway. */
const DRAIN_WAIT_MS = 5_000;
/** Pushes stop being encoded in a tick once this many bytes wait for the socket write. */
const OUT_BATCH_BYTES = 256 * 1024;

interface SubEntry { readonly item: SubscriptionItem; subscription: Subscription | undefined; closed: boolean }
interface Push { readonly entry: SubEntry; readonly delivery: Delivery }
interface Inflight { readonly delivery: Delivery; readonly correlationId: string | undefined }

function pushCommand(item: SubscriptionItem): Command {
  // T52: BROADCASTING → BROADCAST_MESSAGE_TO_CLIENT; SYNC → REQUEST_TO_CLIENT; else ASYNC.
  if (item.mode === 'BROADCASTING') return 'BROADCAST_MESSAGE_TO_CLIENT';
  return item.type === 'SYNC' ? 'REQUEST_TO_CLIENT' : 'ASYNC_MESSAGE_TO_CLIENT';
}

/** Success replies by command (T26): the same header but for the seq, so made once
 *  (header-template.ts; one ACK per publish). */
const SUCCESS_REPLIES = new Map<Command, HeaderTemplate>();

function successReply(cmd: Command): HeaderTemplate {
  let t = SUCCESS_REPLIES.get(cmd);
  if (t === undefined) SUCCESS_REPLIES.set(cmd, t = new HeaderTemplate({ cmd, code: OP_SUCCESS, desc: 'success', properties: NO_PROPERTIES }));
  return t;
}

/** Push headers (T52) by properties (encodeMessage's frozen sets) and command: made once. */
const PUSH_HEADERS = new WeakMap<object, Map<Command, HeaderTemplate>>();

function pushHeader(cmd: Command, properties: Readonly<Record<string, string>>): HeaderTemplate {
  let byCommand = PUSH_HEADERS.get(properties);
  if (byCommand === undefined) PUSH_HEADERS.set(properties, byCommand = new Map());
  let t = byCommand.get(cmd);
  if (t === undefined) byCommand.set(cmd, t = new HeaderTemplate({ cmd, code: OP_SUCCESS, properties }));
  return t;
}

function failDesc(err: EvmeshError): string {
  return `${err.code}: ${err.message}`;
}

export class EventMeshTcpSession implements Session {
  private readonly decoder: FrameDecoder;
  private ua: UserAgent | undefined;
  private listening = false;
  private closed = false;
  private draining = false;
  private ending = false;
  private paused = true;
  private writable = true;
  /** Frames written this tick, sent by flushOut. */
  private readonly out: FrameWriter;
  private pendingPublishes = 0;
  private pendingRequests = 0;
  private readonly publishWaiters: (() => void)[] = [];
  /** Publishes decoded in the current pump(), per topic (flushPublishes). */
  private readonly batch = new Map<string, { headers: Header[]; events: MeshEvent[] }>();
  private readonly subs = new Map<string, SubEntry>();
  private readonly pushQueue: Push[] = [];
  private readonly inflight = new Map<string, Inflight>();
  private readonly requestsByCorrelation = new Map<string, string>();
  private pushSeq = 0;
  /** Control commands (subscribe, listen …) are answered in order. */
  private control: Promise<void> = Promise.resolve();
  private readonly closedPromise: Promise<void>;
  /** Spec M5/M7 counters of this connection: plain fields, summed only when scraped. */
  private readonly metrics: TcpConnectionMetrics;
  private readonly traffic: TrafficCell;

  constructor(private readonly socket: Socket, first: Buffer, private readonly ctx: ProtocolContext, private readonly o: SessionOptions) {
    this.decoder = new FrameDecoder(o);
    this.metrics = threadMetrics.tcp.open('eventmesh-tcp', socket);
    this.traffic = this.metrics.traffic;
    this.out = new FrameWriter(o.legacyLength ?? false);
    this.decoder.push(first);
    this.closedPromise = new Promise((resolve) => socket.once('close', () => { this.onClose(); resolve(); }));
    socket.on('error', () => { /* 'close' follows */ });
    socket.on('data', (chunk: Buffer) => { this.decoder.push(chunk); this.pump(); });
    socket.on('drain', () => { this.writable = true; this.flushPushes(); this.updateFlow(); });
    socket.setTimeout(o.idleTimeoutMs, () => socket.destroy()); // T29: idle close, no goodbye
    this.updateFlow();
  }

  // ---- Session (tcp-listener) ----

  async drain(): Promise<void> {
    if (this.closed) return;
    this.draining = true;
    this.updateFlow();
    // T35: graceful goodbye first, then finish in-flight publishes and close.
    this.send({ cmd: 'SERVER_GOODBYE_REQUEST', code: OP_SUCCESS, desc: GRACEFUL_GOODBYE, properties: NO_PROPERTIES });
    await Promise.race([this.publishesDone(), new Promise((r) => setTimeout(r, DRAIN_WAIT_MS).unref())]);
    this.end();
    await Promise.race([this.closedPromise, new Promise((r) => setTimeout(r, DRAIN_WAIT_MS).unref())]);
    this.close();
  }

  close(): void {
    this.socket.destroy();
  }

  /** The UserAgent (T20) without its credentials, for the admin client list (H51 /client/tcp). */
  describe(): Record<string, unknown> {
    const ua = this.ua;
    if (ua === undefined) return { subscriptions: [...this.subs.keys()] };
    return {
      env: ua.env, subsystem: ua.subsystem, path: ua.path, pid: ua.pid, host: ua.host, port: ua.port, version: ua.version,
      idc: ua.idc, group: ua.group, purpose: ua.purpose, subscriptions: [...this.subs.keys()],
    };
  }

  // ---- reading ----

  private blocked(): boolean {
    return this.closed || this.ending || this.draining || !this.writable || this.pendingPublishes >= this.o.maxPendingPublishes;
  }

  private updateFlow(): void {
    const blocked = this.blocked();
    if (blocked && !this.paused) { this.socket.pause(); this.paused = true; }
    if (!blocked && this.paused) { this.paused = false; this.socket.resume(); this.pump(); }
  }

  private pump(): void {
    try {
      while (!this.blocked()) {
        let frame: Frame | undefined;
        try {
          frame = this.decoder.next();
        } catch (err) {
          this.protocolError(toEvmeshError(err));
          return;
        }
        if (frame === undefined) return;
        this.dispatch(frame);
      }
    } finally {
      this.flushPublishes();
    }
    this.updateFlow();
  }

  /** T5/T70: an undecodable frame → SERVER_GOODBYE with the error, then close. */
  private protocolError(err: EvmeshError): void {
    this.send({ cmd: 'SERVER_GOODBYE_REQUEST', code: ERRORS[err.code].opStatus, desc: failDesc(err), properties: NO_PROPERTIES });
    this.end();
  }

  private dispatch(frame: Frame): void {
    this.traffic.fromClient++; // M5: every decoded frame, heartbeats and acks included
    const h = frame.header;
    if (h === undefined || h.cmd === undefined) {
      // T5/T8: no header or no command → goodbye (code 1) and close.
      this.send({ cmd: 'SERVER_GOODBYE_REQUEST', code: OP_FAIL, desc: 'the incoming message does not have a command type', properties: NO_PROPERTIES });
      this.end();
      return;
    }
    const cmd = h.cmd;
    // Publishes collected so far go to core before any other command (order is kept).
    if (cmd !== 'ASYNC_MESSAGE_TO_SERVER' && cmd !== 'BROADCAST_MESSAGE_TO_SERVER') this.flushPublishes();
    try {
      if (this.ua === undefined && cmd !== 'HELLO_REQUEST') {
        // T26: before HELLO only HELLO is processed; everything else gets its reply with a failure.
        if (cmd === 'SERVER_GOODBYE_RESPONSE') return;
        this.fail(h, new EvmeshError('EVM_BAD_REQUEST', 'no session: send HELLO_REQUEST first (T26)'));
        return;
      }
      switch (cmd) {
        case 'HELLO_REQUEST': return this.hello(h, frame.body);
        case 'HEARTBEAT_REQUEST': return this.reply(h, 'HEARTBEAT_RESPONSE'); // T30
        case 'SUBSCRIBE_REQUEST': { const items = parseSubscription(frame.body) ?? []; return this.inOrder(() => this.subscribe(h, items)); }
        case 'UNSUBSCRIBE_REQUEST': return this.inOrder(() => this.unsubscribe(h));
        case 'LISTEN_REQUEST': return this.inOrder(async () => this.listen(h));
        case 'CLIENT_GOODBYE_REQUEST': return this.inOrder(() => this.goodbye(h));
        case 'ASYNC_MESSAGE_TO_SERVER':
        case 'BROADCAST_MESSAGE_TO_SERVER': return this.publish(h, frame.body);
        case 'REQUEST_TO_SERVER': return this.request(h, frame.body);
        case 'RESPONSE_TO_SERVER': return this.response(h, frame.body);
        case 'ASYNC_MESSAGE_TO_CLIENT_ACK':
        case 'BROADCAST_MESSAGE_TO_CLIENT_ACK':
        case 'REQUEST_TO_CLIENT_ACK': return this.ack(h);
        case 'RESPONSE_TO_CLIENT_ACK':
        case 'SERVER_GOODBYE_RESPONSE': return; // T35, T18: no reply
        case 'RECOMMEND_REQUEST':
          return this.fail(h, new EvmeshError('EVM_UNSUPPORTED', 'RECOMMEND_REQUEST is not supported: there is no registry (T37)'));
        default:
          // T40: unimplemented or server-to-client commands are echoed with a failure; the connection stays.
          return this.fail(h, new EvmeshError('EVM_UNSUPPORTED', `command ${cmd} is not supported from a client (T40)`));
      }
    } catch (err) {
      const e = toEvmeshError(err);
      // A typed body that does not parse is a frame error (T5, T19): close.
      if (e.code === 'EVM_BAD_FRAME') this.protocolError(e);
      else this.fail(h, e);
    }
  }

  private inOrder(fn: () => Promise<void>): void {
    this.control = this.control.then(fn).catch(() => {});
  }

  // ---- session commands ----

  /** T27: version, purpose (pub|sub) and group are required; failure → reply, then close. */
  private hello(h: Header, body: Uint8Array | undefined): void {
    const ua = parseUserAgent(body);
    if (this.ua !== undefined) return this.reply(h, 'HELLO_RESPONSE'); // a second HELLO reuses the session
    let problem: string | undefined;
    if (ua === undefined) problem = 'HELLO_REQUEST needs a UserAgent body (T20)';
    else if (ua.version === undefined) problem = 'UserAgent.version is required (T20)';
    else if (ua.purpose !== 'pub' && ua.purpose !== 'sub') problem = 'UserAgent.purpose must be "pub" or "sub" (T20)';
    else if (ua.group === undefined || ua.group.trim() === '') problem = 'UserAgent.group is required (T20)';
    if (problem !== undefined) {
      this.fail(h, new EvmeshError('EVM_BAD_REQUEST', problem));
      this.end();
      return;
    }
    this.ua = ua;
    this.reply(h, 'HELLO_RESPONSE');
  }

  /** T31: one core subscription per topic, group from the UserAgent (T28); a topic already
   *  subscribed keeps its first item. Delivery starts at LISTEN (T32). */
  private async subscribe(h: Header, items: readonly SubscriptionItem[]): Promise<void> {
    const ua = this.ua!;
    try {
      if (ua.purpose !== 'sub') throw new EvmeshError('EVM_BAD_REQUEST', 'only a session with purpose "sub" can subscribe (T66)');
      for (const item of items) {
        if (this.subs.has(item.topic)) continue;
        const entry: SubEntry = { item, subscription: undefined, closed: false };
        const subscription = await this.ctx.client.subscribe(
          { topic: item.topic, group: ua.group!, mode: item.mode, ...(ua.unack !== undefined && ua.unack > 0 ? { maxInflight: ua.unack } : {}) },
          (d) => this.onDelivery(entry, d),
        );
        if (this.closed) { await subscription.close().catch(() => {}); return; }
        entry.subscription = subscription;
        this.subs.set(item.topic, entry);
        this.metrics.subscribed(item.topic);
      }
      this.reply(h, 'SUBSCRIBE_RESPONSE');
    } catch (err) {
      this.fail(h, toEvmeshError(err));
    }
  }

  /** T33: removes every topic of the session; the session stays open and listening. */
  private async unsubscribe(h: Header): Promise<void> {
    await this.closeSubscriptions();
    this.reply(h, 'UNSUBSCRIBE_RESPONSE');
  }

  /** T32: only sub sessions listen; pushes start now. Answered every time (upstream answers once). */
  private listen(h: Header): void {
    if (this.ua!.purpose !== 'sub') return this.fail(h, new EvmeshError('EVM_BAD_REQUEST', 'client purpose is not sub: only sub sessions LISTEN (T32)'));
    this.listening = true;
    this.reply(h, 'LISTEN_RESPONSE');
    this.flushPushes();
  }

  /** T34: answer, hand unacked pushes to the group's other members, finish publishes, close. */
  private async goodbye(h: Header): Promise<void> {
    this.reply(h, 'CLIENT_GOODBYE_RESPONSE');
    this.ending = true;
    this.updateFlow();
    await this.closeSubscriptions();
    await this.publishesDone();
    this.end();
  }

  // ---- publishing (T41–T46) ----

  /** Collects the publish; pump() hands the publishes of one read to core per topic as one
   *  publishBatch (flushPublishes). Measured (docs/protocol-eventmesh-tcp.md "Numbers"): one
   *  core.publish per frame cost ~6 promises and closures per event. */
  private publish(h: Header, body: Uint8Array | undefined): void {
    const { topic, event } = decodeMessage(h.properties, h.seq, body);
    this.pendingPublishes++;
    let b = this.batch.get(topic);
    if (b === undefined) { b = { headers: [], events: [] }; this.batch.set(topic, b); }
    b.headers.push(h);
    b.events.push(event);
  }

  private flushPublishes(): void {
    if (this.batch.size === 0) return;
    const max = this.ctx.config.limits.maxBatchEvents;
    for (const [topic, b] of this.batch) {
      for (let i = 0; i < b.events.length; i += max) {
        const hs = b.headers.slice(i, i + max), evs = b.events.slice(i, i + max);
        if (evs.length === 1) { this.publishOne(topic, hs[0]!, evs[0]!); continue; }
        this.ctx.client.publishBatch(topic, evs).then(
          () => { this.traffic.toMq += hs.length; for (const h of hs) this.reply(h, replyCommand(h.cmd!)); this.publishDone(hs.length); },
          (err) => {
            const e = toEvmeshError(err);
            // A batch with an invalid event is refused whole before anything is queued: the
            // events go again one by one, so each frame gets its own answer.
            if (e.code === 'EVM_BAD_EVENT' || e.code === 'EVM_TOO_LARGE') {
              for (let k = 0; k < hs.length; k++) { this.pendingPublishes++; this.publishOne(topic, hs[k]!, evs[k]!); }
            } else for (const h of hs) this.fail(h, e);
            this.publishDone(hs.length);
          },
        );
      }
    }
    this.batch.clear();
  }

  private publishOne(topic: string, h: Header, event: MeshEvent): void {
    this.ctx.client.publish(topic, event).then(
      () => { this.traffic.toMq++; this.reply(h, replyCommand(h.cmd!)); }, // T43/T44: ACK without body (allowed by T43)
      (err) => this.fail(h, toEvmeshError(err)),
    ).finally(() => this.publishDone(1));
  }

  private publishDone(n: number): void {
    this.pendingPublishes -= n;
    if (this.pendingPublishes === 0) for (const w of this.publishWaiters.splice(0)) w();
    this.updateFlow();
  }

  private publishesDone(): Promise<void> {
    return this.pendingPublishes === 0 ? Promise.resolve() : new Promise((resolve) => this.publishWaiters.push(resolve));
  }

  /** T45: request-reply through core; the reply comes back as RESPONSE_TO_CLIENT with the
   *  request's seq. Unlike upstream, a failure or timeout is answered too (code ≠ 0). */
  private request(h: Header, body: Uint8Array | undefined): void {
    const { topic, event } = decodeMessage(h.properties, h.seq, body);
    const ttl = event.attributes.ttl;
    let timeoutMs = this.o.requestTimeoutMs;
    if (ttl !== undefined) {
      timeoutMs = typeof ttl === 'number' ? ttl : /^\d{1,15}$/.test(String(ttl)) ? Number(ttl) : NaN;
      if (!(timeoutMs > 0)) throw new EvmeshError('EVM_BAD_REQUEST', `the ttl extension must be a positive number of ms, got ${JSON.stringify(ttl)} (T45)`);
    }
    if (this.pendingRequests >= this.o.maxPendingRequests) {
      throw new EvmeshError('EVM_OVERLOADED', `${this.pendingRequests} requests of this connection are waiting for replies`);
    }
    this.pendingRequests++;
    this.ctx.client.request(topic, event, timeoutMs).then(
      (reply) => {
        let frame: ReturnType<typeof encodeMessage>;
        try {
          frame = encodeMessage(topic, reply);
        } catch (err) {
          return this.fail(h, toEvmeshError(err));
        }
        this.traffic.fromMq++; // M5: a request-reply reply
        this.send({ cmd: 'RESPONSE_TO_CLIENT', code: OP_SUCCESS, desc: 'success', seq: h.seq, properties: frame.properties }, frame.body);
      },
      (err) => this.fail(h, toEvmeshError(err)),
    ).finally(() => { this.pendingRequests--; });
  }

  /** T46: the responder's reply; correlated by the request's `correlationid`/`replyto`
   *  extensions, which the reply must carry (echoing the request does). Never answered. */
  private response(h: Header, body: Uint8Array | undefined): void {
    let event: MeshEvent;
    try {
      event = decodeMessage(h.properties, h.seq, body).event;
    } catch {
      return; // T46: no error reply, ever
    }
    const correlationId = event.attributes[CORRELATION_ID];
    if (typeof correlationId !== 'string') return;
    const seq = this.requestsByCorrelation.get(correlationId);
    const pushed = seq === undefined ? undefined : this.inflight.get(seq);
    if (seq !== undefined) { this.inflight.delete(seq); this.requestsByCorrelation.delete(correlationId); }
    // A reply for a request pushed elsewhere (another connection) still reaches its requester:
    // core needs only the request's correlation extensions.
    const request: Delivery = pushed?.delivery ?? {
      event: { attributes: { specversion: '1.0', id: correlationId, source: '/', type: 'request', [CORRELATION_ID]: correlationId, [REPLY_TO]: event.attributes[REPLY_TO] ?? '' } },
      topic: '', partition: 0, offset: 0, attempt: 1, ack() {},
    };
    this.ctx.client.reply(request, event).catch(() => {});
  }

  // ---- pushes and acks (T51–T58) ----

  private onDelivery(entry: SubEntry, delivery: Delivery): void {
    if (this.closed || entry.closed) return; // not acked: core redelivers
    this.pushQueue.push({ entry, delivery });
    this.flushPushes();
  }

  private flushPushes(): void {
    while (this.listening && this.writable && !this.closed && this.pushQueue.length > 0 && this.out.bytes < OUT_BATCH_BYTES) {
      const { entry, delivery } = this.pushQueue.shift()!;
      if (entry.closed) continue;
      const cmd = pushCommand(entry.item);
      const seq = String(++this.pushSeq); // T52: decimal counter
      try {
        const msg = encodeMessage(delivery.topic, delivery.event);
        if (this.writing()) this.queued(this.out.addSeq(pushHeader(cmd, msg.properties), seq, msg.body, this.o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES));
      } catch (err) {
        // T53: a push that cannot be encoded goes out with a failure code and no body; it stays
        // unacked in core (redelivered, then dead-lettered).
        this.send({ cmd, code: OP_FAIL, desc: failDesc(toEvmeshError(err)), seq, properties: NO_PROPERTIES });
        continue;
      }
      this.traffic.fromMq++;
      const correlationId = cmd === 'REQUEST_TO_CLIENT' ? delivery.event.attributes[CORRELATION_ID] : undefined;
      const cid = typeof correlationId === 'string' ? correlationId : undefined;
      this.inflight.set(seq, { delivery, correlationId: cid });
      if (cid !== undefined) this.requestsByCorrelation.set(cid, seq);
    }
  }

  /** T56: the push seq acks the delivery in core; unknown seqs are ignored; no reply. */
  private ack(h: Header): void {
    if (h.seq === undefined) return;
    const f = this.inflight.get(h.seq);
    if (f === undefined) return;
    f.delivery.ack();
    // A request stays correlatable until its RESPONSE_TO_SERVER (acking twice is harmless).
    if (f.correlationId === undefined) this.inflight.delete(h.seq);
  }

  private async closeSubscriptions(): Promise<void> {
    const entries = [...this.subs.values()];
    this.subs.clear();
    for (const e of entries) { e.closed = true; this.metrics.unsubscribed(e.item.topic); }
    this.pushQueue.length = 0;
    // Unacked pushes of a closed subscription go to the group's other members (core).
    this.inflight.clear();
    this.requestsByCorrelation.clear();
    await Promise.all(entries.map((e) => e.subscription?.close().catch(() => {})));
  }

  // ---- writing ----

  private reply(h: Header, cmd: Command): void {
    if (h.seq === undefined) this.send({ cmd, code: OP_SUCCESS, desc: 'success', properties: NO_PROPERTIES });
    else if (this.writing()) this.queued(this.out.addSeq(successReply(cmd), h.seq, undefined, Number.MAX_SAFE_INTEGER));
  }

  /** The failure reply of a request (T26, T41, T69): code from the error catalog. */
  private fail(h: Header, err: EvmeshError): void {
    this.send({ cmd: replyCommand(h.cmd!), code: ERRORS[err.code].opStatus, desc: failDesc(err), seq: h.seq, properties: NO_PROPERTIES });
  }

  private send(header: Header, body?: FrameBody): void {
    if (this.closed) return;
    this.write(header, body, Number.MAX_SAFE_INTEGER); // replies are never refused for size
  }

  /** Frames written in one tick go out as ONE socket.write (FrameWriter, frame.ts). */
  private write(header: Header, body: FrameBody | undefined, max: number): void {
    if (this.writing()) this.queued(this.out.add(header, body, max)); // may throw EVM_TOO_LARGE: nothing written, nothing scheduled
  }

  /** The socket takes writes; a frame added now is the tick's first when nothing is pending. */
  private writing(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable;
  }

  /** After a frame was added: the tick's first schedules the one write. */
  private queued(first: boolean): void {
    this.traffic.toClient++;
    if (first) process.nextTick(this.flushOut);
  }

  private readonly flushOut = (): void => {
    if (this.out.bytes === 0) return;
    const bytes = this.out.take();
    if (this.socket.destroyed || !this.socket.writable) { this.out.release(true); return; }
    const ok = this.socket.write(bytes);
    this.out.release(this.socket.writableLength === 0);
    if (!ok && this.writable) {
      this.writable = false;
      this.updateFlow();
    } else if (ok && this.pushQueue.length > 0) this.flushPushes(); // stopped at OUT_BATCH_BYTES
  };

  /** Flush what is written, then close the connection. */
  private end(): void {
    if (this.ending && this.socket.writableEnded) return;
    this.ending = true;
    this.updateFlow();
    if (this.out.bytes > 0) process.nextTick(() => this.socket.end()); // after flushOut
    else this.socket.end();
    // A peer that does not close its side within the idle timeout is cut off.
    setTimeout(() => this.socket.destroy(), Math.min(this.o.idleTimeoutMs, 30_000)).unref();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.metrics.closed();
    for (const w of this.publishWaiters.splice(0)) w();
    void this.closeSubscriptions();
  }
}
