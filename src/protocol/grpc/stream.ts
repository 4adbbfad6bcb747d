// One ConsumerService.subscribeStream call (spec G14, G15, G28): subscription messages in,
// subscription answers and pushed events out, replies to SYNC (request) pushes in.
//
// Acks. Upstream completes a push as soon as it is handed to the stream (G28); evmesh's default
// `ackmode` "write" acks a push in core when grpc-js has written it to the HTTP/2 stream (so a
// client that stops reading holds at most its flow-control window plus core's credit unacked).
// A subscription with the attribute ackmode = "client" (an evmesh extension) gets every push
// with an `ackid` attribute and acks it by sending a CloudEvent with submessagetype
// "subscription_ack" and ackid = "<id>[,<id>…]". Either way, when the stream ends (half-close,
// cancel, error, deadline) its records are removed and core redelivers what is still unacked to
// the group's other members (unlike upstream, which keeps records until unsubscribe or expiry).
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { EvmeshError, toEvmeshError } from '../../errors.js';
import type { Delivery, MeshEvent } from '../../core/types.js';
import { CORRELATION_ID, REPLY_TO } from '../../core/request-reply.js';
import { ceString, toMeshEvent, type PbCloudEvent } from './cloudevent.js';
import { checkable, dataProblem, headerProblem, parseItems } from './checks.js';
import type { ClientInfo, ClientRecord, ClientRegistry, Sink } from './clients.js';
import { badMessageError, isBad, statusError, type GrpcContext } from './context.js';
import { encodeMeshEvent } from './encode-event.js';
import type { TrafficCell } from '../../metrics/traffic.js';
import { cellOf, cellOfEvent } from './metrics.js';
import { detail, echo, plain } from './status.js';

export const SUB_MESSAGE_TYPE = 'submessagetype';
export const SUBSCRIPTION_REPLY = 'subscription_reply';
export const SUBSCRIPTION_ACK = 'subscription_ack';
export const ACK_MODE = 'ackmode';
export const ACK_ID = 'ackid';
const PUSH_TIME = 'reqeventmesh2ctimestamp';
const MAX_PENDING_CONTROL = 64;

/** Pushes are written encoded already (encode-event.ts); answers as messages. */
export type Call = ServerDuplexStream<PbCloudEvent, PbCloudEvent | Buffer>;
interface Push { readonly record: ClientRecord; readonly delivery: Delivery }

/** The client attributes of a request (G7); `group` from `consumergroup`. */
export function clientInfo(ev: PbCloudEvent): ClientInfo {
  return {
    env: ceString(ev, 'env') ?? '', idc: ceString(ev, 'idc') ?? '', sys: ceString(ev, 'sys') ?? '',
    ip: ceString(ev, 'ip') ?? '', pid: ceString(ev, 'pid') ?? '', group: ceString(ev, 'consumergroup') ?? '',
  };
}

/** The request's correlation id in a reply: an attribute, or (Java SDK, G15) in the
 *  SubscriptionReply JSON's `properties`, which hold every attribute of the pushed request. */
function replyParts(m: PbCloudEvent): { correlationId: string | undefined; replyTo: string | undefined; content: string | undefined; contentType: string | undefined } {
  let correlationId = ceString(m, CORRELATION_ID), replyTo = ceString(m, REPLY_TO), content: string | undefined, contentType: string | undefined;
  if (m.text_data !== undefined) {
    try {
      const o = JSON.parse(m.text_data) as { content?: unknown; properties?: Record<string, unknown> };
      if (o !== null && typeof o === 'object' && o.properties !== null && typeof o.properties === 'object') {
        if (typeof o.content === 'string') content = o.content;
        // The SDK overwrote the reply's datacontenttype with the wrapper's; the request's is the best guess.
        if (typeof o.properties.datacontenttype === 'string') contentType = o.properties.datacontenttype;
        if (correlationId === undefined && typeof o.properties[CORRELATION_ID] === 'string') correlationId = o.properties[CORRELATION_ID];
        if (replyTo === undefined && typeof o.properties[REPLY_TO] === 'string') replyTo = o.properties[REPLY_TO];
      }
    } catch { /* a plain reply: its text_data is the reply data */ }
  }
  return { correlationId, replyTo, content, contentType };
}

export class ConsumerStream implements Sink {
  readonly kind = 'stream';
  private readonly records = new Set<ClientRecord>();
  private clientAcks = false;
  private nextAckId = 0;
  private readonly inflight = new Map<string, Push>();
  /** Request pushes by correlation id, until their reply (G15). */
  private readonly requests = new Map<string, Delivery>();
  private readonly queue: Push[] = [];
  private writable = true;
  private closed = false;
  private control: Promise<void> = Promise.resolve();
  /** Subscription/reply messages waiting in `control`; past MAX_PENDING_CONTROL the call is not
   *  read (HTTP/2 flow control then holds the client back). */
  private pendingControl = 0;
  /** M5 cell of this stream's client: the `ip` of its first message (M4). */
  private cell: TrafficCell | undefined;

  constructor(private readonly call: Call, private readonly ctx: GrpcContext, private readonly registry: ClientRegistry, private readonly onClosed: (s: ConsumerStream) => void) {
    call.on('data', (m: PbCloudEvent) => this.onMessage(m));
    call.on('end', () => this.complete()); // G14: client half-close → the server completes
    call.on('cancelled', () => void this.close());
    call.on('error', () => void this.close());
    call.on('close', () => void this.close());
    call.on('drain', () => { this.writable = true; this.flush(); });
  }

  // ---- Sink (clients.ts) ----

  deliver(record: ClientRecord, delivery: Delivery): void {
    if (this.closed) return; // not acked: redelivered once the record is removed
    this.queue.push({ record, delivery });
    if (this.writable) this.flush();
  }

  removed(record: ClientRecord): void {
    const had = this.records.delete(record);
    for (const [id, p] of this.inflight) if (p.record === record) this.inflight.delete(id);
    // G16: a stream whose last subscription is gone is completed (not one whose first is still
    // being set up when another stream of the same client takes it over).
    if (had && this.records.size === 0 && !this.closed) this.complete();
  }

  /** drain(): complete the stream (its records go, unacked pushes are redelivered elsewhere). */
  end(): void {
    this.complete();
  }

  // ---- incoming messages ----

  private onMessage(m: PbCloudEvent): void {
    if (this.closed) return;
    if (isBad(m)) { cellOf(undefined).fromClient++; this.fail(badMessageError(m)); return; }
    // M5: every stream message counts client→EventMesh (subscriptions, replies, acks).
    (this.cell ??= cellOfEvent(m)).fromClient++;
    const sub = ceString(m, SUB_MESSAGE_TYPE);
    if (sub === SUBSCRIPTION_ACK) return this.ack(m);
    if (++this.pendingControl === MAX_PENDING_CONTROL) this.call.pause();
    this.control = this.control.then(() => (sub === SUBSCRIPTION_REPLY ? this.reply(m) : this.subscribe(m))).catch((err) => {
      this.send(echo(m, 'SUBSCRIBE_ERR', detail(toEvmeshError(err))));
      this.complete();
    }).finally(() => {
      if (this.pendingControl-- === MAX_PENDING_CONTROL && !this.closed) this.call.resume();
    });
  }

  /** G14: each subscription message adds topics; failures answer and complete the stream. */
  private async subscribe(m: PbCloudEvent): Promise<void> {
    if (this.ctx.draining) { this.send(plain('STOP')); return this.complete(); }
    const h = headerProblem(checkable(m));
    if (h !== undefined) { this.send(plain('PROTOCOL_HEADER_ERR', detail(new EvmeshError('EVM_BAD_REQUEST', h)))); return this.complete(); }
    let items: ReturnType<typeof parseItems>;
    try {
      items = parseItems(m);
    } catch (err) {
      this.send(echo(m, 'SUBSCRIBE_ERR', detail(new EvmeshError('EVM_BAD_REQUEST', `the subscription items do not parse: ${err instanceof Error ? err.message : String(err)}`))));
      return this.complete();
    }
    const info = clientInfo(m);
    const ackMode = ceString(m, ACK_MODE);
    let problem = typeof items === 'string' ? items : undefined;
    if (info.group === '') problem = 'attribute consumergroup (ce_string) is required (G14)';
    else if (ackMode !== undefined && ackMode !== 'write' && ackMode !== 'client') problem = `attribute ackmode must be "write" or "client", got ${JSON.stringify(ackMode)}`;
    if (problem !== undefined || typeof items === 'string') {
      this.send(plain('PROTOCOL_BODY_ERR', detail(new EvmeshError('EVM_BAD_REQUEST', problem!))));
      return this.complete();
    }
    if (ackMode !== undefined) this.clientAcks = ackMode === 'client';
    for (const item of items) {
      const record = await this.registry.add(info, item.topic, item.mode, item.type, undefined, this);
      if (record.sink !== this) continue; // taken over by a newer stream of the same client meanwhile
      if (this.closed) { await this.registry.remove(record); return; }
      this.records.add(record);
    }
    this.send(echo(m, 'SUCCESS', 'subscribe success'));
  }

  /** evmesh extension: acks of "client" ack mode; unknown ids are ignored; no answer. */
  private ack(m: PbCloudEvent): void {
    const ids = ceString(m, ACK_ID);
    if (ids === undefined) return;
    for (const id of ids.split(',')) {
      const p = this.inflight.get(id.trim());
      if (p === undefined) continue;
      this.inflight.delete(id.trim());
      p.delivery.ack();
    }
  }

  /** G15: a reply to a SYNC push; checks → echo 6/7 + complete; it goes straight to the
   *  requester (core request-reply), so nothing is answered on success; failure → echo 15. */
  private async reply(m: PbCloudEvent): Promise<void> {
    const h = headerProblem(checkable(m));
    if (h !== undefined) { this.send(echo(m, 'PROTOCOL_HEADER_ERR', detail(new EvmeshError('EVM_BAD_REQUEST', h)))); return this.complete(); }
    const d = dataProblem(checkable(m));
    if (d !== undefined) { this.send(echo(m, 'PROTOCOL_BODY_ERR', detail(new EvmeshError('EVM_BAD_REQUEST', d)))); return this.complete(); }
    const { correlationId, replyTo, content, contentType } = replyParts(m);
    try {
      if (correlationId === undefined) throw new EvmeshError('EVM_BAD_REQUEST', `the reply carries no ${CORRELATION_ID} (attribute, or in the SubscriptionReply properties)`);
      const base = toMeshEvent(m, new Set([SUB_MESSAGE_TYPE]));
      const reply: MeshEvent = content === undefined ? base
        : { attributes: { ...base.attributes, datacontenttype: contentType ?? 'text/plain' }, data: Buffer.from(content, 'utf8') };
      const request: Delivery = this.requests.get(correlationId) ?? {
        // A reply for a request pushed on another stream still reaches its requester: core
        // needs only the correlation extensions.
        event: { attributes: { specversion: '1.0', id: correlationId, source: '/', type: 'request', [CORRELATION_ID]: correlationId, [REPLY_TO]: replyTo ?? '' } },
        topic: '', partition: 0, offset: 0, attempt: 1, ack() {},
      };
      this.requests.delete(correlationId);
      await this.ctx.client.reply(request, reply);
      this.meter().toMq++;
    } catch (err) {
      this.send(echo(m, 'REPLY_MSG_ERR', detail(toEvmeshError(err))));
      this.complete();
    }
  }

  // ---- pushes (G25, G28) ----

  private flush(): void {
    while (this.writable && !this.closed && this.queue.length > 0) {
      const { record, delivery } = this.queue.shift()!;
      if (record.closed || record.sink !== this) continue;
      const extra: Record<string, string> = { [PUSH_TIME]: String(Date.now()) };
      let ackId: string | undefined;
      if (this.clientAcks) extra[ACK_ID] = ackId = String(++this.nextAckId);
      const cid = delivery.event.attributes[CORRELATION_ID];
      if (record.type === 'SYNC' && typeof cid === 'string') this.trackRequest(cid, delivery);
      const bytes = encodeMeshEvent(delivery.event, extra);
      let ok: boolean;
      if (ackId !== undefined) {
        this.inflight.set(ackId, { record, delivery });
        ok = this.call.write(bytes);
      } else {
        ok = this.call.write(bytes, (err: Error | null | undefined) => { if (!err) delivery.ack(); });
      }
      const c = this.meter();
      c.toClient++;
      c.fromMq++;
      if (!ok) this.writable = false;
    }
  }

  private meter(): TrafficCell {
    return this.cell ?? cellOf(undefined);
  }

  /** Requests pushed to SYNC subscriptions, so that the reply acks them (client ack mode). A
   *  responder that never replies must not grow the map: past the bound the oldest goes (its reply
   *  still reaches the requester; only that request's ack then has to come from the client). */
  private trackRequest(correlationId: string, delivery: Delivery): void {
    this.requests.set(correlationId, delivery);
    if (this.requests.size > 4 * this.ctx.config.delivery.maxInflight) this.requests.delete(this.requests.keys().next().value!);
  }

  private send(pb: PbCloudEvent): void {
    if (!this.closed && this.call.writable) { this.meter().toClient++; this.call.write(pb); }
  }

  // ---- ending ----

  private fail(err: ReturnType<typeof statusError>): void {
    if (this.closed) return;
    void this.close();
    this.call.emit('error', err);
  }

  private complete(): void {
    if (this.closed) return;
    void this.close();
    if (this.call.writable) this.call.end();
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.inflight.clear();
    this.requests.clear();
    const records = [...this.records];
    this.records.clear();
    this.onClosed(this);
    await Promise.all(records.map((r) => this.registry.remove(r)));
  }
}
