// EventMesh HTTP path-based endpoints (spec H30–H37), matched by prefix before any request code
// (H2). Bodies: JSON object when Content-Type contains application/json, else form fields; GET
// uses the query (H31). Answers: HTTP 200 `{retCode, retMsg}` (H31), one per request.
import { randomUUID } from 'node:crypto';
import { EvmeshError } from '../../errors.js';
import type { AttrValue } from '../../core/types.js';
import type { HttpContext } from './context.js';
import { subscribeItems, unsubscribeTopics, identity, webhookUrl } from './eventmesh-codes.js';
import { pathError, pathReply } from './eventmesh-response.js';
import type { Exchange } from './exchange.js';
import { decoded, timedSend } from './metrics.js';
import { traceFromHeaders } from '../trace-context.js';

const DEFAULT_TOPIC = 'TEST-HTTP-TOPIC';
type Fields = Record<string, unknown>;

function parseFields(ex: Exchange, body: Buffer): Fields {
  return decoded(() => parseBody(ex, body));
}

function parseBody(ex: Exchange, body: Buffer): Fields {
  if ((ex.headers['content-type'] ?? '').includes('application/json')) {
    let o: unknown;
    try { o = JSON.parse(body.toString('utf8')); } catch { throw new EvmeshError('EVM_BAD_REQUEST', 'malformed JSON body (H31)'); }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new EvmeshError('EVM_BAD_REQUEST', 'the JSON body must be an object (H31)');
    return o as Fields;
  }
  return Object.fromEntries(new URLSearchParams(ex.method === 'get' ? ex.query : body.toString('utf8')));
}

function digits(n: number): string {
  let s = '';
  while (s.length < n) s += Math.random().toString().slice(2);
  return s.slice(0, n);
}

/** H32: an arbitrary HTTP request wrapped into a CloudEvent. JSON bodies become upstream's
 *  `{headers, body, path, method}` document; other content types keep their raw bytes (upstream
 *  refuses them with retCode 7). */
async function publish(ex: Exchange, ctx: HttpContext, topic: string, body: Buffer, fields: Fields | undefined): Promise<void> {
  const h = ex.headers;
  const ct = h['content-type'] || 'application/json';
  const attributes: Record<string, AttrValue> = {
    specversion: '1.0', id: randomUUID(), source: `source:${h.source || ex.remote()}`, type: h.type || 'http_request',
    subject: topic, datacontenttype: ct, protocoltype: 'http', protocoldesc: 'http',
    env: h.env || 'env', idc: h.idc || 'idc', sys: h.sys || '1234', pid: h.pid || String(process.pid), ip: ex.remote(),
    producergroup: h.producergroup || 'em-http-producer', consumergroup: h.consumergroup || 'em-http-consumer',
    bizseqno: h.bizseqno || digits(32), uniqueid: h.uniqueid || digits(32), ttl: h.ttl || '14400000',
  };
  const isJson = ct.split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
  const data = isJson ? Buffer.from(JSON.stringify({ headers: h, body: fields ?? {}, path: ex.url, method: 'POST' })) : body;
  await timedSend(ctx.publisher.publish(topic, traceFromHeaders(h, { attributes, data })));
  pathReply(ex, 0, `successSendResult[topic=${topic}, messageId=${String(attributes.id)}]`);
}

/** H37 body `{"topic":"a;b"}`. */
function topicList(f: Fields): string[] {
  if (typeof f.topic !== 'string' || f.topic.trim() === '') throw new EvmeshError('EVM_BAD_REQUEST', 'topic is required (H37)');
  return f.topic.split(';').map((t) => t.trim()).filter((t) => t !== '');
}

function topicDone(ex: Exchange): void {
  ex.send(200, JSON.stringify({ retCode: 0, retMessage: 'success' }), { 'content-type': 'text/plain; charset=UTF-8', requestURI: ex.url });
}

type PathHandler = (ex: Exchange, ctx: HttpContext, body: Buffer) => Promise<void>;

const ROUTES: [prefix: string, methods: readonly string[], handler: PathHandler][] = [
  ['/eventmesh/publish', ['post'], async (ex, ctx, body) => {
    const rest = ex.url.slice('/eventmesh/publish'.length);
    if (rest === '') throw new EvmeshError('EVM_BAD_REQUEST', 'POST /eventmesh/publish/{topic}: the topic is missing (H32)');
    const topic = decodeURIComponent(rest.replace(/^\//, '')) || DEFAULT_TOPIC;
    const json = (ex.headers['content-type'] ?? 'application/json').includes('application/json');
    await publish(ex, ctx, topic, body, json ? parseFields(ex, body.length === 0 ? Buffer.from('{}') : body) : undefined);
  }],
  // H36: a push from another mesh; the pushed `content` is the body, topic from header subject.
  ['/eventmesh/bridge/publish', ['post'], async (ex, ctx, body) => {
    const f = parseFields(ex, body);
    const content = Buffer.from(typeof f.content === 'string' ? f.content : JSON.stringify(f));
    await publish(ex, ctx, ex.headers.subject || DEFAULT_TOPIC, content, undefined);
  }],
  ['/eventmesh/subscribe/local', ['post'], async (ex, ctx, body) => {
    const f = parseFields(ex, body);
    if (!Array.isArray(f.topic) || f.topic.length === 0) throw new EvmeshError('EVM_BAD_REQUEST', 'topic must be a non-empty array (H33)');
    if (typeof f.url !== 'string' || typeof f.consumerGroup !== 'string' || f.consumerGroup === '') throw new EvmeshError('EVM_BAD_REQUEST', 'url and consumerGroup are required (H33)');
    const items = f.topic.map((it: unknown) => {
      const o = (it ?? {}) as Record<string, unknown>;
      if (typeof o.topic !== 'string' || o.topic === '') throw new EvmeshError('EVM_BAD_REQUEST', 'every topic item needs a topic (H33)');
      return { topic: o.topic, mode: o.mode === 'BROADCASTING' ? 'BROADCASTING' as const : 'CLUSTERING' as const, type: o.type === 'SYNC' ? 'SYNC' as const : 'ASYNC' as const };
    });
    await subscribeItems(ctx, items, webhookUrl(f.url), f.consumerGroup, identity(ex));
    pathReply(ex, 0, 'success');
  }],
  ['/eventmesh/unsubscribe/local', ['post'], async (ex, ctx, body) => {
    const f = parseFields(ex, body);
    if (!Array.isArray(f.topic) || !f.topic.every((t) => typeof t === 'string')) throw new EvmeshError('EVM_BAD_REQUEST', 'topic must be an array of topic names (H34)');
    if (typeof f.url !== 'string' || typeof f.consumerGroup !== 'string') throw new EvmeshError('EVM_BAD_REQUEST', 'url and consumerGroup are required (H34)');
    await unsubscribeTopics(ctx, f.topic as string[], f.url, f.consumerGroup);
    pathReply(ex, 0, 'success');
  }],
  ['/eventmesh/subscribe/remote', ['post'], async (ex) => pathReply(ex, 19, 'EVM_UNSUPPORTED: cross-mesh subscriptions (H35) are not supported')],
  ['/eventmesh/unsubscribe/remote', ['post'], async (ex) => pathReply(ex, 20, 'EVM_UNSUPPORTED: cross-mesh subscriptions (H35) are not supported')],
  // H37: topics in storage (upstream keeps an in-memory set); `retMessage` as upstream spells it.
  ['/eventmesh/topic/create', ['post'], async (ex, ctx, body) => {
    for (const t of topicList(parseFields(ex, body))) await ctx.client.createTopic(t);
    topicDone(ex);
  }],
  // Deleted cluster-wide as the admin port's DELETE /topics/{t} (docs/admin.md): the shard asks
  // the main thread. Unknown names answer upstream's retCode 100 text (its DeleteTopicProcessor
  // prints the list of unknown names), other refusals the catalog's retCode (409 subscribed →
  // 100, protected → 22, bad name → 6).
  ['/eventmesh/topic/delete', ['post'], async (ex, ctx, body) => {
    try {
      await ctx.deleteTopics(topicList(parseFields(ex, body)));
    } catch (err) {
      const unknown = err instanceof EvmeshError && err.code === 'EVM_UNKNOWN_TOPIC' ? err.props?.unknown : undefined;
      if (!Array.isArray(unknown)) throw err;
      return pathReply(ex, 100, `operate fail[${unknown.join(', ')}] not exist in eventmesh`);
    }
    topicDone(ex);
  }],
  ['/eventmesh/subscrition/query', ['get', 'post'], async (ex, ctx) => {
    const specs = [...ctx.registry.specs.values()];
    ex.send(200, JSON.stringify({ subsrciption: specs, localTopicSet: [...new Set(specs.map((s) => s.topic))] }), { 'content-type': 'text/plain; charset=UTF-8', uri: ex.url });
  }],
];

/** True when the URL has a registered prefix (H2, H30); then the request is answered here. */
export function eventMeshPath(ex: Exchange, ctx: HttpContext): boolean {
  const route = ROUTES.find(([prefix]) => ex.url.startsWith(prefix));
  if (route === undefined) return false;
  const [, methods, handler] = route;
  if (!methods.includes(ex.method)) { ex.send(500, '', { 'content-type': 'text/plain; charset=UTF-8' }); return true; } // H30
  const run = (body: Buffer): void => { handler(ex, ctx, body).catch((err) => pathError(ex, err)); };
  if (ex.method === 'get') run(Buffer.alloc(0));
  else ex.body(ctx.config.http.maxBodyBytes, ctx.config.http.bodyTimeoutMs).then(run, (err) => ex.error(err));
  return true;
}
