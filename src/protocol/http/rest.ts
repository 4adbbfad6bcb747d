// evmesh's own REST surface on the HTTP port (docs/http.md):
//   POST   /topics/{topic}/events   publish: CloudEvents HTTP binding, binary/structured/batch
//   GET    /topics/{topic}/events   read: ?group=&from=&max=&waitMs= (from = offset|earliest|latest|t:<ms>)
//   POST   /subscriptions           webhook subscription {topic, url, group?, mode?, format?, from?}
//   GET    /subscriptions[/{id}]    list / inspect
//   DELETE /subscriptions/{id}
import { randomUUID } from 'node:crypto';
import { EvmeshError } from '../../errors.js';
import type { GroupMode, MeshEvent } from '../../core/types.js';
import { parseFrom, pull } from '../../admin/pull.js';
import { WEBHOOK_FORMATS, type WebhookFormat } from '../webhook/push-request.js';
import { validateWebhookUrl } from '../webhook/url.js';
import { modeOf, parseCloudEvents, STRUCTURED_TYPE, BATCH_TYPE } from './cloudevents-http.js';
import type { HttpContext } from './context.js';
import type { Exchange } from './exchange.js';
import { batchDiscarded, decoded, sendEnded, sendStarted, timedBatch } from './metrics.js';
import { traceFromHeaders } from '../trace-context.js';
import { publishDelete, publishPut, type SubscriptionSpec } from './registry.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseJsonBody(body: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(body));
  } catch (err) {
    throw new EvmeshError('EVM_BAD_REQUEST', `malformed JSON body: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function jsonObject(body: Uint8Array): Record<string, unknown> {
  const o = parseJsonBody(body);
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new EvmeshError('EVM_BAD_REQUEST', 'the body must be a JSON object');
  return o as Record<string, unknown>;
}

/** Must be called synchronously from the uWS handler (it registers the body reader). A single
 *  event goes from the body callback to the batcher and is answered from its callback: no
 *  promise per request on the hot path. */
export function publishEvents(ex: Exchange, ctx: HttpContext, topic: string): void {
  const mode = modeOf(ex.headerList);
  if (mode === undefined) {
    ex.error(new EvmeshError('EVM_UNSUPPORTED', `Content-Type ${JSON.stringify(ex.header('content-type') ?? '')} is not a CloudEvent: use ${STRUCTURED_TYPE}, ${BATCH_TYPE} or binary mode (ce-* headers)`));
    return;
  }
  ex.readBody(ctx.config.http.maxBodyBytes, ctx.config.http.bodyTimeoutMs, (err, body) => {
    if (err !== undefined) { ex.error(err); return; }
    let events: MeshEvent[];
    try {
      const parsed = decoded(() => parseCloudEvents(mode, ex.headerList, body));
      events = ex.header('traceparent') === undefined ? parsed : parsed.map((e) => traceFromHeaders(ex.headers, e));
    } catch (e) {
      ex.error(e);
      return;
    }
    if (mode === 'batch') { publishBatch(ex, ctx, topic, events).catch((e) => ex.error(e)); return; }
    const t0 = sendStarted();
    ctx.publisher.send(topic, events[0]!, (e, r) => {
      sendEnded(r !== undefined, t0);
      if (r === undefined) ex.error(e); else ex.json(200, r);
    });
  });
}

async function publishBatch(ex: Exchange, ctx: HttpContext, topic: string, events: MeshEvent[]): Promise<void> {
  if (events.length > ctx.config.limits.maxBatchEvents) {
    batchDiscarded(events.length);
    throw new EvmeshError('EVM_TOO_LARGE', `${events.length} events in one batch, over limits.maxBatchEvents ${ctx.config.limits.maxBatchEvents}`);
  }
  const results = events.length === 0 ? [] : await timedBatch(events.length, ctx.client.publishBatch(topic, events));
  ex.json(200, { results });
}

export function readEvents(ex: Exchange, ctx: HttpContext, topic: string): void {
  const q = new URLSearchParams(ex.query);
  const group = q.get('group');
  if (!group) { ex.error(new EvmeshError('EVM_BAD_REQUEST', 'query parameter group is required')); return; }
  Promise.resolve().then(async () => {
    const max = intParam(q, 'max', 100, 1, 10_000);
    const waitMs = intParam(q, 'waitMs', 0, 0, 30_000);
    const batch = await pull(ctx.client, topic, group, max, waitMs, parseFrom(q.get('from') ?? undefined));
    if (ex.finished) { batch.release(); return; }
    ex.json(200, { events: batch.events });
    // uWS has written (or buffered) the whole response: the events are handed over.
    batch.ack();
  }).catch((err) => ex.error(err));
}

function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new EvmeshError('EVM_BAD_REQUEST', `query parameter ${name}: ${JSON.stringify(raw)} is not an integer in ${min}..${max}`);
  return n;
}

/** A subscription request body → spec (validated; the URL at subscribe time). */
export function subscriptionSpec(o: Record<string, unknown>, origin: SubscriptionSpec['origin']): SubscriptionSpec {
  const { topic, url } = o;
  if (typeof topic !== 'string' || topic === '') throw new EvmeshError('EVM_BAD_REQUEST', 'topic (string) is required');
  validateWebhookUrl(url);
  const id = randomUUID();
  const group = o.group ?? id;
  if (typeof group !== 'string' || group === '') throw new EvmeshError('EVM_BAD_REQUEST', 'group must be a non-empty string');
  const mode = o.mode ?? 'CLUSTERING';
  if (mode !== 'CLUSTERING' && mode !== 'BROADCASTING') throw new EvmeshError('EVM_BAD_REQUEST', 'mode must be CLUSTERING or BROADCASTING');
  const format = o.format ?? 'binary';
  if (!WEBHOOK_FORMATS.includes(format as WebhookFormat)) throw new EvmeshError('EVM_BAD_REQUEST', `format must be one of ${WEBHOOK_FORMATS.join(', ')}`);
  const from = o.from ?? 'latest';
  if (from !== 'earliest' && from !== 'latest') throw new EvmeshError('EVM_BAD_REQUEST', 'from must be earliest or latest');
  return { id, topic, group, mode: mode as GroupMode, from, url: url as string, format: format as WebhookFormat, sync: false, origin, createdAt: Date.now() };
}

export function subscriptions(ex: Exchange, ctx: HttpContext, id: string | undefined): void {
  const reg = ctx.registry;
  if (ex.method === 'get') {
    if (id === undefined) { ex.json(200, [...reg.specs.values()]); return; }
    const spec = reg.specs.get(id);
    if (spec === undefined) ex.error(new EvmeshError('EVM_UNKNOWN_SUBSCRIPTION', `no subscription ${id}`));
    else ex.json(200, spec);
    return;
  }
  if (ex.method === 'post' && id === undefined) {
    ex.body(ctx.config.http.maxBodyBytes, ctx.config.http.bodyTimeoutMs).then(async (body) => {
      const spec = subscriptionSpec(jsonObject(body), 'rest');
      await publishPut(ctx.client, spec);
      await reg.applied(spec.id, true);
      ex.json(201, spec);
    }).catch((err) => ex.error(err));
    return;
  }
  if (ex.method === 'delete' && id !== undefined) {
    if (!reg.specs.has(id)) { ex.error(new EvmeshError('EVM_UNKNOWN_SUBSCRIPTION', `no subscription ${id}`)); return; }
    publishDelete(ctx.client, id).then(() => reg.applied(id, false)).then(() => ex.json(200, { id, deleted: true }), (err) => ex.error(err));
    return;
  }
  ex.error(new EvmeshError('EVM_UNSUPPORTED', `${ex.method.toUpperCase()} ${ex.url} is not supported`, { status: 405 }));
}
