// PublisherService (spec G10–G12): publish, requestReply, batchPublish, and the one-way calls
// upstream leaves UNIMPLEMENTED (G3), served here as publish/batchPublish answered with Empty.
// Every publish goes through core's Client (routed to the owning shards); answers are sent after
// the storage append was acknowledged (upstream answers batchPublish at once, G12). Metrics (M5,
// M8): each call counts client→EventMesh (a batch its event count), every answer
// EventMesh→client, acknowledged events EventMesh→storage, replies storage→EventMesh; each
// publish call its handling time. Requests are read by publish-event.ts straight into core events
// (PUBLISH_DECODERS); requestReply also decodes its request as a CloudEvent, to echo it.
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { EvmeshError, toEvmeshError } from '../../errors.js';
import type { MeshEvent } from '../../core/types.js';
import { fromMeshEvent, type PbCloudEvent } from './cloudevent.js';
import { dataProblem, headerProblem, type Checkable } from './checks.js';
import { decodeCloudEvent } from './codec.js';
import { answer, badMessageError, isBad, statusError, type GrpcContext } from './context.js';
import type { TrafficCell } from '../../metrics/traffic.js';
import { callTrace, cellOf, grpcMetrics, traced, type CallTrace } from './metrics.js';
import type { BadMessage } from './proto.js';
import { decodePublishBatch, decodePublishEvent, type PublishEvent } from './publish-event.js';
import { detail, echo, plain, type Status } from './status.js';

/** requestReply's request: the CloudEvent to echo in error answers (G11), and as published. */
interface RequestReply { readonly pb: PbCloudEvent; readonly publish: PublishEvent }
interface PublishBatch { readonly events: PublishEvent[] }

/** The request deserializers of PublisherService (proto.ts `service`). */
export const PUBLISH_DECODERS = {
  publish: decodePublishEvent, publishOneWay: decodePublishEvent,
  batchPublish: decodePublishBatch, batchPublishOneWay: decodePublishBatch,
  requestReply: (b: Buffer): RequestReply => ({ pb: decodeCloudEvent(b), publish: decodePublishEvent(b) }),
};

type Unary<Req, Res> = (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => void;
type MeteredUnary<Req, Res> = (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>, cell: TrafficCell) => void;

/** M5/M8 around a unary call: the request counts `n` client→EventMesh messages in its client's
 *  cell, the answer (whatever it is) one EventMesh→client message; publish calls also record
 *  their handling time. The handler adds what reached storage. */
function metered<Req, Res>(of: (req: Req) => { cell: TrafficCell; n: number }, publish: boolean, handler: MeteredUnary<Req, Res>): Unary<Req, Res> {
  return (call, cb) => {
    const t0 = performance.now();
    const { cell, n } = of(call.request);
    cell.fromClient += n;
    handler(call, (...a: Parameters<sendUnaryData<Res>>) => {
      cell.toClient++;
      if (publish) grpcMetrics.publishHandled(performance.now() - t0);
      cb(...a);
    }, cell);
  };
}

const single = (req: PublishEvent | BadMessage): { cell: TrafficCell; n: number } => ({ cell: cellOf(isBad(req) ? undefined : req.ceString('ip')), n: 1 });
const requestOf = (req: RequestReply | BadMessage): { cell: TrafficCell; n: number } => single(isBad(req) ? req : req.publish);
const batch = (req: PublishBatch | BadMessage): { cell: TrafficCell; n: number } => {
  const events = isBad(req) ? [] : req.events;
  return { cell: cellOf(events[0]?.ceString('ip')), n: Math.max(1, events.length) };
};

/** Which G30 status a failed publish gets (G10: storage/convert failure → 14). */
function publishStatus(err: EvmeshError, otherwise: Status): Status {
  if (err.code === 'EVM_OVERLOADED') return 'OVERLOAD';
  if (err.code === 'EVM_SHUTTING_DOWN') return 'STOP';
  return otherwise;
}

/** G9 checks, then the conversion's outcome (with the call's trace context, M30); the error
 *  names G30's status. */
function checked(ev: PublishEvent, trace: CallTrace): { topic: string; event: MeshEvent } | { status: Status; err: EvmeshError } {
  const h = headerProblem(ev);
  if (h !== undefined) return { status: 'PROTOCOL_HEADER_ERR', err: new EvmeshError('EVM_BAD_REQUEST', h) };
  const d = dataProblem(ev);
  if (d !== undefined) return { status: 'PROTOCOL_BODY_ERR', err: new EvmeshError('EVM_BAD_REQUEST', d) };
  if (ev.event === undefined) return { status: 'SEND_ASYNC_MSG_ERR', err: toEvmeshError(ev.error) };
  return { topic: ev.ceString('subject')!, event: traced(trace, ev.event) };
}

const stopping = (): EvmeshError => new EvmeshError('EVM_SHUTTING_DOWN', 'the broker is draining');

/** G11: `ttl` is the reply timeout in ms. */
function ttlOf(ev: Checkable): number | undefined {
  const ttl = ev.ceString('ttl')!;
  return /^\d{1,9}$/.test(ttl) && Number(ttl) > 0 ? Number(ttl) : undefined;
}

export function publisherService(ctx: GrpcContext): UntypedServiceImplementation {
  /** The checks every answered publish call starts with (G7, G9): a decodable message, not
   *  draining, valid attributes; undefined when the call was answered with the error. */
  const admitted = (call: ServerUnaryCall<unknown, PbCloudEvent>, cb: sendUnaryData<PbCloudEvent>, req: PublishEvent | BadMessage) => {
    if (isBad(req)) { cb(badMessageError(req)); return undefined; }
    if (ctx.draining) { answer(call, cb, plain('STOP'), 'EVM_SHUTTING_DOWN'); return undefined; }
    const c = checked(req, callTrace(call.metadata));
    if ('err' in c) { answer(call, cb, plain(c.status, detail(c.err)), c.err.code); return undefined; }
    return c;
  };

  const publish: MeteredUnary<PublishEvent | BadMessage, PbCloudEvent> = (call, cb, cell) => {
    const c = admitted(call, cb, call.request);
    if (c === undefined) return;
    ctx.client.publish(c.topic, c.event).then(
      (r) => { cell.toMq++; answer(call, cb, plain('SUCCESS', `SendResult[topic=${r.topic}, messageId=${r.partition}-${r.offset}]`)); },
      (err) => { const e = toEvmeshError(err); answer(call, cb, plain(publishStatus(e, 'SEND_ASYNC_MSG_ERR'), detail(e)), e.code); },
    );
  };

  const requestReply: MeteredUnary<RequestReply | BadMessage, PbCloudEvent> = (call, cb, cell) => {
    const r = call.request;
    const c = admitted(call, cb, isBad(r) ? r : r.publish);
    if (c === undefined) return;
    const { pb: req, publish: pub } = r as RequestReply;
    const ttl = ttlOf(pub);
    if (ttl === undefined) {
      const e = new EvmeshError('EVM_BAD_REQUEST', `attribute ttl must be a positive number of ms, got ${JSON.stringify(pub.ceString('ttl'))} (G11)`);
      return answer(call, cb, plain('PROTOCOL_BODY_ERR', detail(e)), e.code);
    }
    // G11: the answer is the reply event itself; a failure or timeout is an echo with 22.
    // M5: the request reached storage when it was answered or timed out; the reply came from it.
    ctx.client.request(c.topic, c.event, ttl).then(
      (reply) => { cell.toMq++; cell.fromMq++; answer(call, cb, fromMeshEvent(reply)); },
      (err) => { const e = toEvmeshError(err); if (e.code === 'EVM_TIMEOUT') cell.toMq++; answer(call, cb, echo(req, 'REQUEST_REPLY_MSG_ERR', detail(e)), e.code); },
    );
  };

  /** G12 checks of a whole batch; the events grouped by topic in input order. */
  function checkedBatch(req: PublishBatch, trace: CallTrace): Map<string, MeshEvent[]> | { status: Status; err: EvmeshError } {
    const events = req.events;
    if (events.length === 0) return { status: 'PROTOCOL_BODY_ERR', err: new EvmeshError('EVM_BAD_REQUEST', 'the batch has no events (G12)') };
    const max = ctx.config.limits.maxBatchEvents;
    if (events.length > max) return { status: 'BATCH_PUBLISH_ERR', err: new EvmeshError('EVM_TOO_LARGE', `the batch has ${events.length} events, more than limits.maxBatchEvents (${max})`) };
    const byTopic = new Map<string, MeshEvent[]>();
    for (let i = 0; i < events.length; i++) {
      const c = checked(events[i]!, trace);
      if ('err' in c) return { status: c.status === 'SEND_ASYNC_MSG_ERR' ? 'BATCH_PUBLISH_ERR' : c.status, err: new EvmeshError(c.err.code, `event ${i}: ${c.err.message}`, c.err.props) };
      let list = byTopic.get(c.topic);
      if (list === undefined) byTopic.set(c.topic, (list = []));
      list.push(c.event);
    }
    return byTopic;
  }

  /** Core refuses a batch with an invalid event whole, before anything is stored. */
  const publishAll = (byTopic: Map<string, MeshEvent[]>): Promise<unknown> =>
    Promise.all([...byTopic].map(([topic, events]) => ctx.client.publishBatch(topic, events)));

  const batchPublish: MeteredUnary<PublishBatch | BadMessage, PbCloudEvent> = (call, cb, cell) => {
    const req = call.request;
    if (isBad(req)) return cb(badMessageError(req));
    if (ctx.draining) return answer(call, cb, plain('STOP'), 'EVM_SHUTTING_DOWN');
    const c = checkedBatch(req, callTrace(call.metadata));
    if (!(c instanceof Map)) return answer(call, cb, plain(c.status, detail(c.err)), c.err.code);
    publishAll(c).then(
      () => { cell.toMq += req.events.length; answer(call, cb, plain('SUCCESS', 'batch publish success')); },
      (err) => { const e = toEvmeshError(err); answer(call, cb, plain(publishStatus(e, 'BATCH_PUBLISH_ERR'), detail(e)), e.code); },
    );
  };

  // The one-way calls have no answer message: errors are gRPC statuses (INVALID_ARGUMENT for
  // bad input) with the catalog code in the details and the `evmesh-code` trailer.
  const publishOneWay: MeteredUnary<PublishEvent | BadMessage, object> = (call, cb, cell) => {
    const req = call.request;
    if (isBad(req)) return cb(badMessageError(req));
    if (ctx.draining) return cb(statusError(stopping()));
    const c = checked(req, callTrace(call.metadata));
    if ('err' in c) return cb(statusError(c.err));
    ctx.client.publish(c.topic, c.event).then(() => { cell.toMq++; cb(null, {}); }, (err) => cb(statusError(toEvmeshError(err))));
  };

  const batchPublishOneWay: MeteredUnary<PublishBatch | BadMessage, object> = (call, cb, cell) => {
    const req = call.request;
    if (isBad(req)) return cb(badMessageError(req));
    if (ctx.draining) return cb(statusError(stopping()));
    const c = checkedBatch(req, callTrace(call.metadata));
    if (!(c instanceof Map)) return cb(statusError(c.err));
    publishAll(c).then(() => { cell.toMq += req.events.length; cb(null, {}); }, (err) => cb(statusError(toEvmeshError(err))));
  };

  return {
    publish: metered(single, true, publish), requestReply: metered(requestOf, false, requestReply), publishOneWay: metered(single, true, publishOneWay),
    batchPublish: metered(batch, true, batchPublish), batchPublishOneWay: metered(batch, true, batchPublishOneWay),
  } as unknown as UntypedServiceImplementation;
}
