// PublisherService (spec G10–G12): publish, requestReply, batchPublish, and the one-way calls
// upstream leaves UNIMPLEMENTED (G3), served here as publish/batchPublish answered with Empty.
// Every publish goes through core's Client (routed to the owning shards); answers are sent after
// the storage append was acknowledged (upstream answers batchPublish at once, G12).
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { EvmeshError, toEvmeshError } from '../../errors.js';
import type { MeshEvent } from '../../core/types.js';
import { ceString, fromMeshEvent, toMeshEvent, type PbCloudEvent, type PbCloudEventBatch } from './cloudevent.js';
import { dataProblem, headerProblem } from './checks.js';
import { answer, badMessageError, isBad, statusError, type GrpcContext } from './context.js';
import { detail, echo, plain, type Status } from './status.js';

type Unary<Req, Res> = (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => void;

/** Which G30 status a failed publish gets (G10: storage/convert failure → 14). */
function publishStatus(err: EvmeshError, otherwise: Status): Status {
  if (err.code === 'EVM_OVERLOADED') return 'OVERLOAD';
  if (err.code === 'EVM_SHUTTING_DOWN') return 'STOP';
  return otherwise;
}

/** G9 checks + conversion of one event; the error names G30's status. */
function checked(ev: PbCloudEvent): { topic: string; event: MeshEvent } | { status: Status; err: EvmeshError } {
  const h = headerProblem(ev);
  if (h !== undefined) return { status: 'PROTOCOL_HEADER_ERR', err: new EvmeshError('EVM_BAD_REQUEST', h) };
  const d = dataProblem(ev);
  if (d !== undefined) return { status: 'PROTOCOL_BODY_ERR', err: new EvmeshError('EVM_BAD_REQUEST', d) };
  try {
    return { topic: ceString(ev, 'subject')!, event: toMeshEvent(ev) };
  } catch (err) {
    return { status: 'SEND_ASYNC_MSG_ERR', err: toEvmeshError(err) };
  }
}

const stopping = (): EvmeshError => new EvmeshError('EVM_SHUTTING_DOWN', 'the broker is draining');

/** G11: `ttl` is the reply timeout in ms. */
function ttlOf(ev: PbCloudEvent): number | undefined {
  const ttl = ceString(ev, 'ttl')!;
  return /^\d{1,9}$/.test(ttl) && Number(ttl) > 0 ? Number(ttl) : undefined;
}

export function publisherService(ctx: GrpcContext): UntypedServiceImplementation {
  const publish: Unary<PbCloudEvent, PbCloudEvent> = (call, cb) => {
    const req = call.request;
    if (isBad(req)) return cb(badMessageError(req));
    if (ctx.draining) return answer(call, cb, plain('STOP'), 'EVM_SHUTTING_DOWN');
    const c = checked(req);
    if ('err' in c) return answer(call, cb, plain(c.status, detail(c.err)), c.err.code);
    ctx.client.publish(c.topic, c.event).then(
      (r) => answer(call, cb, plain('SUCCESS', `SendResult[topic=${r.topic}, messageId=${r.partition}-${r.offset}]`)),
      (err) => { const e = toEvmeshError(err); answer(call, cb, plain(publishStatus(e, 'SEND_ASYNC_MSG_ERR'), detail(e)), e.code); },
    );
  };

  const requestReply: Unary<PbCloudEvent, PbCloudEvent> = (call, cb) => {
    const req = call.request;
    if (isBad(req)) return cb(badMessageError(req));
    if (ctx.draining) return answer(call, cb, plain('STOP'), 'EVM_SHUTTING_DOWN');
    const c = checked(req);
    if ('err' in c) return answer(call, cb, plain(c.status, detail(c.err)), c.err.code);
    const ttl = ttlOf(req);
    if (ttl === undefined) {
      const e = new EvmeshError('EVM_BAD_REQUEST', `attribute ttl must be a positive number of ms, got ${JSON.stringify(ceString(req, 'ttl'))} (G11)`);
      return answer(call, cb, plain('PROTOCOL_BODY_ERR', detail(e)), e.code);
    }
    // G11: the answer is the reply event itself; a failure or timeout is an echo with 22.
    ctx.client.request(c.topic, c.event, ttl).then(
      (reply) => answer(call, cb, fromMeshEvent(reply)),
      (err) => { const e = toEvmeshError(err); answer(call, cb, echo(req, 'REQUEST_REPLY_MSG_ERR', detail(e)), e.code); },
    );
  };

  /** G12 checks of a whole batch; the events grouped by topic in input order. */
  function checkedBatch(req: PbCloudEventBatch): Map<string, MeshEvent[]> | { status: Status; err: EvmeshError } {
    const events = req.events ?? [];
    if (events.length === 0) return { status: 'PROTOCOL_BODY_ERR', err: new EvmeshError('EVM_BAD_REQUEST', 'the batch has no events (G12)') };
    const max = ctx.config.limits.maxBatchEvents;
    if (events.length > max) return { status: 'BATCH_PUBLISH_ERR', err: new EvmeshError('EVM_TOO_LARGE', `the batch has ${events.length} events, more than limits.maxBatchEvents (${max})`) };
    const byTopic = new Map<string, MeshEvent[]>();
    for (let i = 0; i < events.length; i++) {
      const c = checked(events[i]!);
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

  const batchPublish: Unary<PbCloudEventBatch, PbCloudEvent> = (call, cb) => {
    const req = call.request;
    if (isBad(req)) return cb(badMessageError(req));
    if (ctx.draining) return answer(call, cb, plain('STOP'), 'EVM_SHUTTING_DOWN');
    const c = checkedBatch(req);
    if (!(c instanceof Map)) return answer(call, cb, plain(c.status, detail(c.err)), c.err.code);
    publishAll(c).then(
      () => answer(call, cb, plain('SUCCESS', 'batch publish success')),
      (err) => { const e = toEvmeshError(err); answer(call, cb, plain(publishStatus(e, 'BATCH_PUBLISH_ERR'), detail(e)), e.code); },
    );
  };

  // The one-way calls have no answer message: errors are gRPC statuses (INVALID_ARGUMENT for
  // bad input) with the catalog code in the details and the `evmesh-code` trailer.
  const publishOneWay: Unary<PbCloudEvent, object> = (call, cb) => {
    const req = call.request;
    if (isBad(req)) return cb(badMessageError(req));
    if (ctx.draining) return cb(statusError(stopping()));
    const c = checked(req);
    if ('err' in c) return cb(statusError(c.err));
    ctx.client.publish(c.topic, c.event).then(() => cb(null, {}), (err) => cb(statusError(toEvmeshError(err))));
  };

  const batchPublishOneWay: Unary<PbCloudEventBatch, object> = (call, cb) => {
    const req = call.request;
    if (isBad(req)) return cb(badMessageError(req));
    if (ctx.draining) return cb(statusError(stopping()));
    const c = checkedBatch(req);
    if (!(c instanceof Map)) return cb(statusError(c.err));
    publishAll(c).then(() => cb(null, {}), (err) => cb(statusError(toEvmeshError(err))));
  };

  return { publish, requestReply, publishOneWay, batchPublish, batchPublishOneWay } as unknown as UntypedServiceImplementation;
}
