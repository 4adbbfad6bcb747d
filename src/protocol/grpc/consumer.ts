// ConsumerService (spec G13, G14, G16) and HeartbeatService (G17) over the shard's client records.
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { EvmeshError, toEvmeshError } from '../../errors.js';
import { validateWebhookUrl } from '../webhook/url.js';
import { ceInteger, ceString, type PbCloudEvent } from './cloudevent.js';
import { checkable, headerProblem, parseHeartbeatItems, parseItems } from './checks.js';
import type { ClientRegistry, Sink } from './clients.js';
import { answer, badMessageError, isBad, type GrpcContext } from './context.js';
import { cellOfEvent } from './metrics.js';
import { detail, plain } from './status.js';
import { clientInfo, ConsumerStream, type Call } from './stream.js';

type Unary = (call: ServerUnaryCall<PbCloudEvent, PbCloudEvent>, cb: sendUnaryData<PbCloudEvent>) => void;

/** G17: clienttype 2 = SUB; the only kind upstream (and evmesh) heartbeats. */
const CLIENT_TYPE_SUB = 2;

const badRequest = (text: string): string => detail(new EvmeshError('EVM_BAD_REQUEST', text));

/** Webhook records: the push engine delivers, nothing to tell when one is removed. */
const WEBHOOK: Sink = { kind: 'webhook', removed() {} };

export function consumerServices(ctx: GrpcContext, registry: ClientRegistry, streams: Set<ConsumerStream>): {
  consumer: UntypedServiceImplementation; heartbeat: UntypedServiceImplementation;
} {
  const subscribeStream = (call: Call): void => {
    const s = new ConsumerStream(call, ctx, registry, (closed) => streams.delete(closed));
    streams.add(s);
  };

  /** The header check and the subscription items of a (un)subscribe request; undefined when the
   *  call was answered with the error (G13, G16). */
  const checkedItems = (call: Parameters<Unary>[0], cb: Parameters<Unary>[1], parseErr: 'SUBSCRIBE_ERR' | 'UNSUBSCRIBE_ERR'): ReturnType<typeof parseItems> | undefined => {
    const h = headerProblem(checkable(call.request));
    if (h !== undefined) { answer(call, cb, plain('PROTOCOL_HEADER_ERR', badRequest(h)), 'EVM_BAD_REQUEST'); return undefined; }
    try {
      return parseItems(call.request);
    } catch (err) {
      answer(call, cb, plain(parseErr, badRequest(`the subscription items do not parse: ${err instanceof Error ? err.message : String(err)}`)), 'EVM_BAD_REQUEST');
      return undefined;
    }
  };

  /** G13: webhook subscription — one record (core group member) per item, pushed to `url`. */
  const subscribe: Unary = (call, cb) => {
    const req = call.request;
    if (isBad(req)) return cb(badMessageError(req));
    if (ctx.draining) return answer(call, cb, plain('STOP'), 'EVM_SHUTTING_DOWN');
    const items = checkedItems(call, cb, 'SUBSCRIBE_ERR');
    if (items === undefined) return;
    const info = clientInfo(req);
    const url = ceString(req, 'url') ?? '';
    let problem = typeof items === 'string' ? items : undefined;
    if (url === '') problem = 'attribute url (ce_string) is required for a webhook subscription (G13)';
    else if (info.group === '') problem = 'attribute consumergroup (ce_string) is required (G13)';
    else {
      try { validateWebhookUrl(url); } catch (err) { problem = toEvmeshError(err).message; }
    }
    if (problem !== undefined || typeof items === 'string') return answer(call, cb, plain('PROTOCOL_BODY_ERR', badRequest(problem!)), 'EVM_BAD_REQUEST');
    const list = items;
    (async () => {
      for (const item of list) await registry.add(info, item.topic, item.mode, item.type, url, WEBHOOK);
    })().then(
      () => answer(call, cb, plain('SUCCESS', 'subscribe success')),
      (err) => { const e = toEvmeshError(err); answer(call, cb, plain('SUBSCRIBE_ERR', detail(e)), e.code); },
    );
  };

  /** G16: removes the caller's records only (webhook: same url; stream: same ip + pid) — upstream
   *  removes every client of the group on that topic and mode. A stream left without records is
   *  completed. Unknown subscriptions are not an error. */
  const unsubscribe: Unary = (call, cb) => {
    const req = call.request;
    if (isBad(req)) return cb(badMessageError(req));
    const items = checkedItems(call, cb, 'UNSUBSCRIBE_ERR');
    if (items === undefined) return;
    const info = clientInfo(req);
    const problem = info.group === '' ? 'attribute consumergroup (ce_string) is required (G16)' : typeof items === 'string' ? items : undefined;
    if (problem !== undefined || typeof items === 'string') return answer(call, cb, plain('PROTOCOL_BODY_ERR', badRequest(problem!)), 'EVM_BAD_REQUEST');
    const url = ceString(req, 'url') || undefined;
    const removals = items.map((item) => {
      const r = registry.get(info, item.topic, item.mode, url);
      return r === undefined ? Promise.resolve() : registry.remove(r);
    });
    Promise.all(removals).then(() => answer(call, cb, plain('SUCCESS', 'unsubscribe success')));
  };

  /** G17: refreshes the caller's records; none found → 30 (the client re-subscribes). */
  const heartbeat: Unary = (call, cb) => {
    const req = call.request;
    if (isBad(req)) return cb(badMessageError(req));
    const h = headerProblem(checkable(req));
    if (h !== undefined) return answer(call, cb, plain('PROTOCOL_HEADER_ERR', badRequest(h)), 'EVM_BAD_REQUEST');
    const info = clientInfo(req);
    const clientType = ceInteger(req, 'clienttype');
    let problem: string | undefined;
    if (clientType !== CLIENT_TYPE_SUB) problem = `only consumers heartbeat: clienttype (ce_integer) must be ${CLIENT_TYPE_SUB}, got ${clientType ?? 'none'} (G17)`;
    else if (info.group === '') problem = 'attribute consumergroup (ce_string) is required (G17)';
    const items = problem === undefined ? parseHeartbeatItems(req) : [];
    if (items === undefined) return answer(call, cb, plain('HEARTBEAT_ERR', badRequest('text_data must hold the heartbeat items (G17)')), 'EVM_BAD_REQUEST');
    if (typeof items === 'string') problem = items;
    if (problem !== undefined || typeof items === 'string') return answer(call, cb, plain('PROTOCOL_BODY_ERR', badRequest(problem!)), 'EVM_BAD_REQUEST');
    let all = true;
    for (const item of items) if (!registry.heartbeat(info, item.topic)) all = false;
    if (!all) return answer(call, cb, plain('CLIENT_RESUBSCRIBE'), 'EVM_UNKNOWN_SUBSCRIPTION');
    answer(call, cb, plain('SUCCESS', 'heartbeat success'));
  };

  /** M5: a (un)subscribe call counts one message in and its answer one out, in its client's cell. */
  const metered = (handler: Unary): Unary => (call, cb) => {
    const cell = cellOfEvent(isBad(call.request) ? undefined : call.request);
    cell.fromClient++;
    handler(call, (...a: Parameters<typeof cb>) => { cell.toClient++; cb(...a); });
  };

  return {
    consumer: { subscribe: metered(subscribe), subscribeStream, unsubscribe: metered(unsubscribe) } as unknown as UntypedServiceImplementation,
    heartbeat: { heartbeat } as unknown as UntypedServiceImplementation,
  };
}
