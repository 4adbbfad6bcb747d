// EventMesh HTTP legacy request-code protocol (spec H2–H17): the operation is the `code` header
// (POST) or query parameter (GET), parameters are form fields (H3), every outcome is HTTP 200
// with a retCode body (H6) except the H4 pre-checks. Exactly one answer per request, including
// 102 and 301, which never answer upstream (H12, H16).
import { randomUUID } from 'node:crypto';
import { EvmeshError, toEvmeshError } from '../../errors.js';
import type { AttrValue, Delivery, MeshEvent } from '../../core/types.js';
import { CORRELATION_ID, REPLY_TO } from '../../core/request-reply.js';
import { fromStructuredJson } from '../cloudevents-json.js';
import { validateWebhookUrl } from '../webhook/url.js';
import type { HttpContext } from './context.js';
import { checkIdentity, messageEvent, type MessageFields } from './eventmesh-events.js';
import { bareStatus, codeError, codeReply } from './eventmesh-response.js';
import type { Exchange } from './exchange.js';
import { batchDiscarded, decoded, timedBatch, timedReply, timedSend } from './metrics.js';
import { traceFromHeaders } from '../trace-context.js';
import { publishDelete, publishPut, type SubscriptionSpec } from './registry.js';

type Form = URLSearchParams;
type Handler = (ex: Exchange, ctx: HttpContext, form: Form, code: string) => Promise<void>;

const f = (form: Form, name: string): string | undefined => form.get(name) ?? undefined;

function fields(form: Form, content = 'content'): MessageFields {
  return {
    topic: f(form, 'topic'), content: f(form, content), bizseqno: f(form, 'bizseqno'), uniqueid: f(form, 'uniqueid'),
    producergroup: f(form, 'producergroup'), ttl: f(form, 'ttl'), tag: f(form, 'tag'), extFields: f(form, 'extFields'),
  };
}

function jsonField(form: Form, name: string): unknown {
  const raw = form.get(name);
  if (raw === null || raw.trim() === '') throw new EvmeshError('EVM_BAD_REQUEST', `${name} is required`);
  try { return JSON.parse(raw); } catch { throw new EvmeshError('EVM_BAD_REQUEST', `${name} is not JSON`); }
}

/** One event of a message code, with the request's trace context (M30). */
function tracedEvent(ex: Exchange, f: MessageFields): { topic: string; event: MeshEvent } {
  const { topic, event } = messageEvent(ex.headers, f, ex.remote());
  return { topic, event: traceFromHeaders(ex.headers, event) };
}

/** H9 104 MSG_SEND_ASYNC. */
const sendAsync: Handler = async (ex, ctx, form, code) => {
  checkIdentity(ex.headers);
  const { topic, event } = tracedEvent(ex, fields(form));
  await timedSend(ctx.publisher.publish(topic, event));
  codeReply(ex, code, 0, `successSendResult[topic=${topic}, messageId=${String(event.attributes.id)}]`);
};

/** H11 107 MSG_BATCH_SEND_V2: one event, body field `msg`; size errors are retCode 7. */
const batchSendV2: Handler = async (ex, ctx, form, code) => {
  checkIdentity(ex.headers);
  const { topic, event } = tracedEvent(ex, { ...fields(form, 'msg'), uniqueid: f(form, 'uniqueid') ?? f(form, 'bizseqno') });
  try {
    // M6: upstream counts a 107 as one batch event.
    await timedBatch(1, ctx.publisher.publish(topic, event));
  } catch (err) {
    const e = toEvmeshError(err);
    return codeError(ex, code, e, e.code === 'EVM_TOO_LARGE' ? 7 : undefined);
  }
  codeReply(ex, code, 0, 'success', false);
};

/** H12 102 MSG_BATCH_SEND, implemented with its intended semantics: `contents` is a JSON array
 *  of {bizSeqNo, topic, msg, tag, ttl}; every event is validated before any is published. */
const batchSend: Handler = async (ex, ctx, form, code) => {
  checkIdentity(ex.headers);
  const contents = jsonField(form, 'contents');
  if (!Array.isArray(contents) || contents.length === 0) throw new EvmeshError('EVM_BAD_REQUEST', 'contents must be a non-empty JSON array (H12)');
  if (contents.length > ctx.config.limits.maxBatchEvents) {
    batchDiscarded(contents.length);
    throw new EvmeshError('EVM_TOO_LARGE', `${contents.length} events, over limits.maxBatchEvents`);
  }
  const group = f(form, 'producerGroup') ?? f(form, 'producergroup');
  const byTopic = new Map<string, MeshEvent[]>();
  for (const item of contents as Record<string, unknown>[]) {
    const s = (k: string): string | undefined => (item !== null && typeof item === 'object' && typeof item[k] === 'string' ? item[k] as string : undefined);
    const { topic, event } = messageEvent({ ...ex.headers, protocoltype: ex.headers.protocoltype || 'eventmeshmessage' }, {
      topic: s('topic'), content: s('msg'), bizseqno: s('bizSeqNo'), uniqueid: s('bizSeqNo'), producergroup: group,
      ttl: s('ttl'), tag: s('tag'), extFields: undefined,
    }, ex.remote());
    const list = byTopic.get(topic) ?? [];
    list.push(traceFromHeaders(ex.headers, event));
    byTopic.set(topic, list);
  }
  await timedBatch(contents.length, Promise.all([...byTopic].map(([topic, events]) => ctx.client.publishBatch(topic, events))));
  codeReply(ex, code, 0, 'success');
};

/** H10 101 MSG_SEND_SYNC: request-reply; `ttl` is the reply timeout. On reply, retMsg is the
 *  JSON string {topic, body, properties}. Size errors are retCode 7, timeouts 4. */
const sendSync: Handler = async (ex, ctx, form, code) => {
  checkIdentity(ex.headers);
  const ttl = f(form, 'ttl');
  if (ttl === undefined || !/^\d{1,12}$/.test(ttl.trim()) || Number(ttl) === 0) throw new EvmeshError('EVM_BAD_REQUEST', 'ttl (the reply timeout in ms) is required (H10)');
  const { topic, event } = tracedEvent(ex, fields(form));
  let reply: MeshEvent;
  try {
    reply = await timedSend(ctx.client.request(topic, event, Number(ttl)));
  } catch (err) {
    const e = toEvmeshError(err);
    return codeError(ex, code, e, e.code === 'EVM_TOO_LARGE' ? 7 : e.code === 'EVM_TIMEOUT' ? 4 : 3);
  }
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(reply.attributes)) properties[k] = String(v);
  const body = reply.data === undefined ? '' : Buffer.from(reply.data).toString('utf8');
  codeReply(ex, code, 0, JSON.stringify({ topic, body, properties }));
};

/** H16 301 REPLY_MESSAGE, intended semantics: the reply to a SYNC push (code 106). It is routed
 *  by the request's `correlationid`/`replyto` extensions, which the push carried in extFields. */
const replyMessage: Handler = async (ex, ctx, form, code) => {
  checkIdentity(ex.headers);
  const ext: Record<string, string> = {};
  const rawExt = f(form, 'extFields');
  if (rawExt !== undefined && rawExt.trim() !== '') {
    let o: unknown;
    try { o = JSON.parse(rawExt); } catch { throw new EvmeshError('EVM_BAD_REQUEST', 'extFields is not JSON (H16)'); }
    if (o !== null && typeof o === 'object') for (const [k, v] of Object.entries(o)) ext[k] = String(v);
  }
  const content = f(form, 'content') ?? '';
  let reply: MeshEvent;
  if (ex.headers.protocoltype === 'cloudevents') {
    let json: unknown;
    try { json = JSON.parse(content); } catch { throw new EvmeshError('EVM_BAD_EVENT', 'content is not CloudEvents JSON (H16)'); }
    reply = fromStructuredJson(json);
  } else {
    const id = f(form, 'bizseqno') ?? f(form, 'uniqueid');
    if (id === undefined || id === '') throw new EvmeshError('EVM_BAD_REQUEST', 'bizseqno is required (H16)');
    reply = { attributes: { specversion: '1.0', id, source: '/', type: 'eventmeshmessage', subject: f(form, 'origtopic') ?? '' }, data: Buffer.from(content, 'utf8') };
  }
  const correlationId = reply.attributes[CORRELATION_ID] ?? ext[CORRELATION_ID];
  const replyTo = reply.attributes[REPLY_TO] ?? ext[REPLY_TO];
  if (typeof correlationId !== 'string' || typeof replyTo !== 'string') {
    throw new EvmeshError('EVM_BAD_REQUEST', `the reply needs the request's ${CORRELATION_ID} and ${REPLY_TO} (in extFields or the CloudEvent)`);
  }
  const attributes: Record<string, AttrValue> = { ...reply.attributes, [CORRELATION_ID]: correlationId, [REPLY_TO]: replyTo };
  if (attributes.subject === '') delete attributes.subject;
  const request: Delivery = {
    event: { attributes: { specversion: '1.0', id: correlationId, source: '/', type: 'request', [CORRELATION_ID]: correlationId, [REPLY_TO]: replyTo } },
    topic: '', partition: 0, offset: 0, attempt: 1, ack() {},
  };
  await timedReply(ctx.client.reply(request, { attributes, ...(reply.data === undefined ? {} : { data: reply.data }) }));
  codeReply(ex, code, 0, 'success');
};

interface TopicItem { topic: string; mode: 'CLUSTERING' | 'BROADCASTING'; type: 'ASYNC' | 'SYNC' }

function topicItems(raw: unknown): TopicItem[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new EvmeshError('EVM_BAD_REQUEST', 'topic must be a non-empty JSON array (H13)');
  return raw.map((it) => {
    const o = (it ?? {}) as Record<string, unknown>;
    if (typeof o.topic !== 'string' || o.topic === '') throw new EvmeshError('EVM_BAD_REQUEST', 'every topic item needs a topic (H13)');
    return { topic: o.topic, mode: o.mode === 'BROADCASTING' ? 'BROADCASTING' : 'CLUSTERING', type: o.type === 'SYNC' ? 'SYNC' : 'ASYNC' };
  });
}

/** Registers one webhook subscription per topic item (H13, H33); an identical one (group,
 *  topic, url) is kept. Resolves once this shard applied them. */
export async function subscribeItems(ctx: HttpContext, items: readonly TopicItem[], url: string, group: string, client: Record<string, string>): Promise<void> {
  const reg = ctx.registry;
  const created: SubscriptionSpec[] = [];
  for (const it of items) {
    const same = [...reg.specs.values()].some((s) => s.group === group && s.topic === it.topic && s.url === url);
    if (same) continue;
    const spec: SubscriptionSpec = {
      id: randomUUID(), topic: it.topic, group, mode: it.mode, url, format: 'eventmesh', sync: it.type === 'SYNC',
      origin: 'eventmesh', client, createdAt: Date.now(),
    };
    await publishPut(ctx.client, spec);
    created.push(spec);
  }
  await Promise.all(created.map((s) => reg.applied(s.id, true)));
}

export async function unsubscribeTopics(ctx: HttpContext, topics: readonly string[], url: string, group: string): Promise<void> {
  const gone = [...ctx.registry.specs.values()].filter((s) => s.group === group && s.url === url && topics.includes(s.topic));
  for (const s of gone) await publishDelete(ctx.client, s.id);
  await Promise.all(gone.map((s) => ctx.registry.applied(s.id, false)));
}

export function identity(ex: Exchange): Record<string, string> {
  const h = ex.headers;
  return { env: h.env ?? '', idc: h.idc ?? '', sys: h.sys ?? '', pid: h.pid ?? '', ip: ex.remote() };
}

/** H13: a bad URL is a body error with upstream's message. */
export function webhookUrl(raw: string | undefined): string {
  try {
    validateWebhookUrl(raw);
    return raw!;
  } catch {
    throw new EvmeshError('EVM_BAD_REQUEST', `eventMesh protocol[body] error invalid URL: ${raw ?? ''}`);
  }
}

/** H13 206 SUBSCRIBE. */
const subscribe: Handler = async (ex, ctx, form, code) => {
  checkIdentity(ex.headers);
  const url = f(form, 'url'), group = f(form, 'consumerGroup');
  if (!url || !group) throw new EvmeshError('EVM_BAD_REQUEST', 'url and consumerGroup are required (H13)');
  const items = topicItems(jsonField(form, 'topic'));
  await subscribeItems(ctx, items, webhookUrl(url), group, identity(ex));
  codeReply(ex, code, 0, 'success', false);
};

/** H15 207 UNSUBSCRIBE: `topic` is a JSON array of topic names. */
const unsubscribe: Handler = async (ex, ctx, form, code) => {
  checkIdentity(ex.headers);
  const url = f(form, 'url'), group = f(form, 'consumerGroup');
  if (!url || !group) throw new EvmeshError('EVM_BAD_REQUEST', 'url and consumerGroup are required (H15)');
  const topics = jsonField(form, 'topic');
  if (!Array.isArray(topics) || !topics.every((t) => typeof t === 'string')) throw new EvmeshError('EVM_BAD_REQUEST', 'topic must be a JSON array of topic names (H15)');
  await unsubscribeTopics(ctx, topics as string[], url, group);
  codeReply(ex, code, 0, 'success', false);
};

/** H14 203 HEARTBEAT: subscribers never expire (H70 j), so a valid heartbeat only answers. */
const heartbeat: Handler = async (ex, _ctx, form, code) => {
  checkIdentity(ex.headers);
  if (!f(form, 'clientType') || !f(form, 'consumerGroup')) throw new EvmeshError('EVM_BAD_REQUEST', 'clientType and consumerGroup are required (H14)');
  const entities = jsonField(form, 'heartbeatEntities');
  if (!Array.isArray(entities) || entities.length === 0) throw new EvmeshError('EVM_BAD_REQUEST', 'heartbeatEntities must be a non-empty JSON array (H14)');
  codeReply(ex, code, 0, 'success', false);
};

/** H7: the registered codes; their failure retCodes where not the catalog's (H8). */
const HANDLERS: Record<string, { handler: Handler; failRetCode?: number }> = {
  101: { handler: sendSync },
  102: { handler: batchSend },
  104: { handler: sendAsync },
  107: { handler: batchSendV2 },
  203: { handler: heartbeat, failRetCode: 21 },
  206: { handler: subscribe, failRetCode: 19 },
  207: { handler: unsubscribe, failRetCode: 20 },
  301: { handler: replyMessage, failRetCode: 16 },
};

/** Body/parameter errors keep their own retCode (6, 7, 8); other failures of a code get its
 *  failure retCode (H8: 19 subscribe, 20 unsubscribe, 21 heartbeat, 16 reply). */
const OWN_RETCODES = new Set(['EVM_BAD_EVENT', 'EVM_BAD_REQUEST', 'EVM_TOO_LARGE', 'EVM_BAD_TOPIC', 'EVM_UNSUPPORTED']);

/** Dispatches a request that matched no path prefix (H2). Synchronous up to the body read. */
export function eventMeshCode(ex: Exchange, ctx: HttpContext): void {
  const method = ex.method;
  if (method !== 'post' && method !== 'get') return bareStatus(ex, 405); // H4
  const version = ex.headers.version ?? '';
  if (version !== '' && version !== '1.0' && version !== '2.0') return bareStatus(ex, 400); // H4
  const query = new URLSearchParams(ex.query);
  const code = (method === 'post' ? ex.headers.code : query.get('code') ?? undefined) ?? '';
  const entry = HANDLERS[code];
  if (entry === undefined) {
    // H4: 400 with retCode 2; `code` header echoes the code or 0.
    codeReply(ex, code === '' ? '0' : code, 2, 'requestCode can\'t be null, or must be number', false, 400);
    return;
  }
  const run = (form: Form): void => {
    entry.handler(ex, ctx, form, code).catch((err) => {
      const e = toEvmeshError(err);
      codeError(ex, code, e, entry.failRetCode !== undefined && !OWN_RETCODES.has(e.code) ? entry.failRetCode : undefined);
    });
  };
  if (method === 'get') { run(query); return; }
  ex.body(ctx.config.http.maxBodyBytes, ctx.config.http.bodyTimeoutMs).then((body) => run(decoded(() => new URLSearchParams(body.toString('utf8')))), (err) => ex.error(err));
}
