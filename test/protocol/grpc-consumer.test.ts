// EventMesh gRPC ConsumerService + HeartbeatService (spec G14–G18, G25, G28) against a real
// 2-shard broker with the grpc-js client: webhook subscriptions (G13, G26), stream subscriptions, group modes, acks, cancellation
// and redelivery, request-reply over the stream, unsubscribe, heartbeat, expiry, deadlines,
// reconnects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import { call, clientAttrs, event, message, status, str, StreamReader, stubs, subscription, type Stubs } from '../fixtures/grpc/client.js';
import type { PbCloudEvent } from '../../src/protocol/grpc/cloudevent.js';
import { httpJson } from '../helpers/http.js';

let broker: RunningBroker;
let port: number;
const open: Stubs[] = [];
let topics = 0;
const topic = (): string => `grpc-con-${process.pid}-${++topics}`;
const client = (p = port, options: object = {}): Stubs => { const s = stubs(p, options); open.push(s); return s; };
const flags = {
  shards: 2, storage: 'memory', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, host: '127.0.0.1', 'topics.defaultPartitions': 4,
  'webhook.backoffBaseMs': 20, 'webhook.backoffMaxMs': 100,
} as const;

before(async () => {
  broker = await startBroker(loadConfig({ flags }), { log: () => {} });
  port = broker.ports.grpc!;
});

after(async () => {
  for (const s of open) s.close();
  await broker?.stop();
});

async function subscribed(c: Stubs, sub: PbCloudEvent): Promise<StreamReader> {
  const reader = new StreamReader(c.consumer.subscribeStream());
  reader.stream.write(sub);
  await reader.until(() => reader.answers().length > 0, 5000, 'the subscription answer');
  assert.equal(status(reader.answers()[0]!), '0', message(reader.answers()[0]!));
  return reader;
}

async function publish(c: Stubs, t: string, texts: string[]): Promise<void> {
  const { value } = await call(c.publisher, 'batchPublish', { events: texts.map((x) => event(t, x)) });
  assert.equal(status(value), '0');
}

const texts = (r: StreamReader): string[] => r.events().map((e) => e.text_data!).sort();
const range = (n: number, p = 'e'): string[] => Array.from({ length: n }, (_, i) => `${p}${String(i).padStart(3, '0')}`);

test('G14 subscribeStream: echo answer "subscribe success", pushes on the stream, a second subscription message adds a topic', async () => {
  const c = client();
  const [t1, t2] = [topic(), topic()];
  const sub = subscription('g-basic', [{ topic: t1 }]);
  const r = await subscribed(c, sub);
  const ans = r.answers()[0]!;
  assert.equal(message(ans), 'subscribe success');
  assert.equal(ans.text_data, sub.text_data, 'echo of the subscription (G8)');
  r.stream.write(subscription('g-basic', [{ topic: t2 }]));
  await r.until(() => r.answers().length === 2, 5000, 'second answer');
  await publish(c, t1, ['a1', 'a2']);
  await publish(c, t2, ['b1']);
  await r.until(() => r.events().length === 3, 5000, 'three pushes');
  assert.deepEqual(texts(r), ['a1', 'a2', 'b1']);
  const push = r.events()[0]!;
  assert.equal(push.attributes!.protocoldesc!.ce_string, 'grpc-cloud-event');
  assert.equal(push.attributes!.passwd, undefined);
  r.stream.end();
  await r.until(() => r.ended, 5000, 'completion after half-close (G14)');
});

test('G14 bad subscriptions: header → 6, items → 7, unparsable → 17, each completes the stream; undecodable → INVALID_ARGUMENT', async () => {
  const c = client();
  const cases: [PbCloudEvent, string][] = [];
  const noEnv = subscription('g', [{ topic: topic() }]);
  delete noEnv.attributes!.env;
  cases.push([noEnv, '6']);
  cases.push([subscription('g', [{ topic: topic(), mode: 'SOMETIMES' }]), '7']);
  cases.push([subscription('g', [{ topic: ' ' }]), '7']);
  cases.push([subscription('', [{ topic: topic() }]), '7']);
  cases.push([subscription('g', [{ topic: topic() }], { ackmode: 'maybe' }), '7']);
  cases.push([{ ...subscription('g', []), text_data: '{not json' }, '17']);
  for (const [sub, code] of cases) {
    const r = new StreamReader(c.consumer.subscribeStream());
    r.stream.write(sub);
    await r.until(() => r.ended, 5000, `completion for ${code}`);
    assert.equal(r.error, undefined);
    assert.equal(status(r.answers()[0]!), code, message(r.answers()[0]!));
  }
  const raw = c.consumer.makeBidiStreamRequest('/org.apache.eventmesh.cloudevents.v1.ConsumerService/subscribeStream', (b: Buffer) => b, (b: Buffer) => b);
  const err = await new Promise<{ code: number; details: string }>((resolve) => { raw.on('error', resolve); raw.on('data', () => {}); raw.write(Buffer.from([0x0f, 0xff])); });
  assert.equal(err.code, GrpcStatus.INVALID_ARGUMENT);
  assert.match(err.details, /^EVM_BAD_FRAME/);
});

test('G28 CLUSTERING: each event to one stream of the group; BROADCASTING: to every stream', async () => {
  const [c1, c2, p] = [client(), client(), client()];
  const t = topic();
  const a = await subscribed(c1, subscription('g-cl', [{ topic: t }], { pid: '1001' }));
  const b = await subscribed(c2, subscription('g-cl', [{ topic: t }], { pid: '1002' }));
  const x = await subscribed(c1, subscription('g-bc', [{ topic: t, mode: 'BROADCASTING' }], { pid: '1003' }));
  const y = await subscribed(c2, subscription('g-bc', [{ topic: t, mode: 'BROADCASTING' }], { pid: '1004' }));
  const sent = range(40);
  await publish(p, t, sent);
  await a.until(() => a.events().length + b.events().length === 40, 5000, 'clustering deliveries');
  await x.until(() => x.events().length === 40 && y.events().length === 40, 5000, 'broadcast deliveries');
  assert.deepEqual([...texts(a), ...texts(b)].sort(), sent);
  assert.ok(a.events().length > 0 && b.events().length > 0, 'both members got a share (4 partitions)');
  assert.deepEqual(texts(x), sent);
  assert.deepEqual(texts(y), sent);
  for (const r of [a, b, x, y]) r.stream.cancel();
});

test('cancelled stream (ackmode client): its subscription is removed and its unacked events go to the other member; acked ones do not', async () => {
  const [c1, c2, p] = [client(), client(), client()];
  const t = topic();
  const a = await subscribed(c1, subscription('g-cancel', [{ topic: t }], { pid: '2001', ackmode: 'client' }));
  const sent = range(20);
  await publish(p, t, sent);
  await a.until(() => a.events().length === 20, 5000, 'all 20 on the only member');
  const ackIds = a.events().slice(0, 5).map((e) => e.attributes!.ackid!.ce_string!);
  const acked = a.events().slice(0, 5).map((e) => e.text_data!);
  a.stream.write({ ...subscription('g-cancel', []), attributes: { ...clientAttrs(), submessagetype: str('subscription_ack'), ackid: str(ackIds.join(',')) } });
  // Let the acks reach the partition owners before the second member joins.
  await new Promise((r) => setTimeout(r, 200));
  const b = await subscribed(c2, subscription('g-cancel', [{ topic: t }], { pid: '2002', ackmode: 'client' }));
  assert.equal(b.events().length, 0, 'a still holds every event unacked');
  a.stream.cancel();
  const rest = sent.filter((s) => !acked.includes(s));
  await b.until(() => b.events().length === rest.length, 5000, 'redelivery to b');
  assert.deepEqual(texts(b), rest);
  const clients = (await broker.queryShards('grpc.clients')).flatMap((s) => ('value' in s ? s.value : []) as { group: string; pid: string }[]);
  assert.deepEqual(clients.filter((v) => v.group === 'g-cancel').map((v) => v.pid), ['2002'], 'grpc.clients lists only the live stream');
  b.stream.cancel();
});

test('ackmode write (default): a push is acked once written — a cancelled stream leaves nothing to redeliver', async () => {
  const [c1, c2, p] = [client(), client(), client()];
  const t = topic();
  const a = await subscribed(c1, subscription('g-write', [{ topic: t }], { pid: '3001' }));
  await publish(p, t, range(10));
  await a.until(() => a.events().length === 10, 5000, 'ten pushes');
  assert.equal(a.events()[0]!.attributes!.ackid, undefined);
  await new Promise((r) => setTimeout(r, 100));
  a.stream.cancel();
  const b = await subscribed(c2, subscription('g-write', [{ topic: t }], { pid: '3002' }));
  await publish(p, t, ['after']);
  await b.until(() => b.events().length === 1, 5000, 'the new event');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(texts(b), ['after']);
  b.stream.cancel();
});

test('G15 request-reply over the stream: a SYNC subscriber answers with submessagetype subscription_reply (Java SDK shape)', async () => {
  const [c1, p] = [client(), client()];
  const t = topic();
  const r = await subscribed(c1, subscription('g-rr', [{ topic: t, type: 'SYNC' }], { pid: '4001' }));
  const pending = call(p.publisher, 'requestReply', event(t, 'question', { ttl: '4000' }));
  await r.until(() => r.events().length === 1, 5000, 'the request push');
  const req = r.events()[0]!;
  assert.equal(req.text_data, 'question');
  // As the Java SDK (SubStreamHandler.buildReplyMessage): the reply's own attributes, the
  // request's attributes in SubscriptionReply.properties, the reply data in `content`.
  const properties = Object.fromEntries(Object.entries(req.attributes!).map(([k, v]) => [k, v.ce_string ?? '']));
  const reply = event(t, JSON.stringify({ producerGroup: 'g-rr', topic: t, content: 'answer', seqNum: '1', uniqueId: '2', ttl: '4000', properties }), {
    submessagetype: 'subscription_reply', datacontenttype: 'application/json',
  });
  r.stream.write(reply);
  const { value } = await pending;
  assert.equal(value.text_data, 'answer');
  assert.equal(value.attributes!.submessagetype, undefined);
  // A reply without any correlation → echo 15, stream completed.
  r.stream.write(event(t, 'orphan', { submessagetype: 'subscription_reply' }));
  await r.until(() => r.ended, 5000, 'completion');
  assert.equal(status(r.answers().at(-1)!), '15');
});

test('G16 unsubscribe: removes the caller\'s subscription only; a stream without subscriptions is completed', async () => {
  const [c1, c2, p] = [client(), client(), client()];
  const t = topic();
  const a = await subscribed(c1, subscription('g-unsub', [{ topic: t }], { pid: '5001' }));
  const b = await subscribed(c2, subscription('g-unsub', [{ topic: t }], { pid: '5002' }));
  const { value } = await call(p.consumer, 'unsubscribe', subscription('g-unsub', [{ topic: t }], { pid: '5001' }));
  assert.equal(status(value), '0');
  assert.equal(message(value), 'success unsubscribe success');
  await a.until(() => a.ended, 5000, 'a completed');
  await publish(p, t, range(6));
  await b.until(() => b.events().length === 6, 5000, 'b gets everything');
  const bad = subscription('g-unsub', [{ topic: t, type: 'NONE' }]);
  assert.equal(status((await call(p.consumer, 'unsubscribe', bad)).value), '7');
  const noSys = subscription('g-unsub', [{ topic: t }]);
  delete noSys.attributes!.sys;
  assert.equal(status((await call(p.consumer, 'unsubscribe', noSys)).value), '6');
  b.stream.cancel();
});

function heartbeatMsg(group: string, items: object[] | undefined, extra: Record<string, string> = {}, clientType = 2): PbCloudEvent {
  return {
    id: 'hb', source: '/', spec_version: '1.0', type: 'heartbeat',
    attributes: { ...clientAttrs({ consumergroup: group, ...extra }), clienttype: { ce_integer: clientType } },
    ...(items === undefined ? {} : { text_data: JSON.stringify(items) }),
  };
}

test('G17 heartbeat: refreshes the subscription; unknown → 30; PUB → 7; no items → 19; header → 6', async () => {
  const c = client();
  const t = topic();
  const r = await subscribed(c, subscription('g-hb', [{ topic: t }], { pid: '6001' }));
  let { value } = await call(c.heartbeat, 'heartbeat', heartbeatMsg('g-hb', [{ topic: t }], { pid: '6001' }));
  assert.equal(status(value), '0');
  assert.equal(message(value), 'success heartbeat success');
  ({ value } = await call(c.heartbeat, 'heartbeat', heartbeatMsg('g-hb', [{ topic: topic() }], { pid: '6001' })));
  assert.equal(status(value), '30');
  assert.equal(message(value), 'client needs to resubscribe.');
  assert.equal(status((await call(c.heartbeat, 'heartbeat', heartbeatMsg('g-hb', [{ topic: t }], { pid: '6001' }, 1))).value), '7');
  assert.equal(status((await call(c.heartbeat, 'heartbeat', heartbeatMsg('g-hb', undefined, { pid: '6001' }))).value), '19');
  assert.equal(status((await call(c.heartbeat, 'heartbeat', heartbeatMsg('g-hb', [{ topic: t }], { pid: 'x' }))).value), '6');
  r.stream.cancel();
});

test('G18 expiry: a subscription without heartbeats is removed and its stream completed; heartbeats keep one alive', async () => {
  const b = await startBroker(loadConfig({ flags: { ...flags, shards: 1, 'grpc.clientExpiryMs': 400, 'grpc.sweepIntervalMs': 50 } }), { log: () => {} });
  try {
    const c = client(b.ports.grpc!);
    const t = topic();
    const quiet = await subscribed(c, subscription('g-exp', [{ topic: t }], { pid: '7001' }));
    const alive = await subscribed(c, subscription('g-exp', [{ topic: t }], { pid: '7002' }));
    const beat = setInterval(() => { void call(c.heartbeat, 'heartbeat', heartbeatMsg('g-exp', [{ topic: t }], { pid: '7002' })); }, 100);
    await quiet.until(() => quiet.ended, 3000, 'expiry of the quiet stream');
    assert.equal(alive.ended, false);
    clearInterval(beat);
    await publish(c, t, ['x']);
    await alive.until(() => alive.events().length === 1, 3000, 'delivery to the live one');
    alive.stream.cancel();
  } finally {
    await b.stop();
  }
});

test('deadlines: a stream with a deadline ends DEADLINE_EXCEEDED and its subscription is removed', async () => {
  const [c1, c2, p] = [client(), client(), client()];
  const t = topic();
  const a = new StreamReader(c1.consumer.subscribeStream(new Metadata(), { deadline: Date.now() + 400 }));
  a.stream.write(subscription('g-dl', [{ topic: t }], { pid: '8001', ackmode: 'client' }));
  await a.until(() => a.answers().length === 1, 3000, 'answer');
  await publish(p, t, range(5));
  await a.until(() => a.events().length === 5, 3000, 'pushes');
  await a.until(() => a.ended, 3000, 'deadline');
  assert.equal(a.error?.code, GrpcStatus.DEADLINE_EXCEEDED);
  const b = await subscribed(c2, subscription('g-dl', [{ topic: t }], { pid: '8002' }));
  await b.until(() => b.events().length === 5, 5000, 'unacked events redelivered');
  b.stream.cancel();
});

test('reconnects: after a broker restart on the same port the same channel publishes and subscribes again', async () => {
  const b1 = await startBroker(loadConfig({ flags: { ...flags, storage: 'memory' } }), { log: () => {} });
  const grpcPort = b1.ports.grpc!;
  const c = client(grpcPort, { 'grpc.initial_reconnect_backoff_ms': 50, 'grpc.max_reconnect_backoff_ms': 200 });
  const t = topic();
  assert.equal(status((await call(c.publisher, 'publish', event(t, 'one'))).value), '0');
  const r1 = new StreamReader(c.consumer.subscribeStream());
  r1.stream.write(subscription('g-re', [{ topic: t }]));
  await r1.until(() => r1.answers().length === 1, 3000, 'answer');
  await b1.stop();
  await r1.until(() => r1.ended, 5000, 'the stream ends with the broker');
  const b2 = await startBroker(loadConfig({ flags: { ...flags, 'ports.grpc': grpcPort } }), { log: () => {} });
  try {
    const r2 = await subscribed(c, subscription('g-re', [{ topic: t }]));
    const md = new Metadata();
    md.setOptions({ waitForReady: true });
    assert.equal(status((await call(c.publisher, 'publish', event(t, 'two'), { metadata: md })).value), '0');
    await r2.until(() => r2.events().length === 1, 5000, 'push after reconnect');
    r2.stream.cancel();
  } finally {
    await b2.stop();
  }
});

test('G13 subscribe (webhook): pushes in the EventMesh webhook form to the url; a failed push is retried; unsubscribe by url stops them', async () => {
  const pushes: { headers: Record<string, unknown>; form: URLSearchParams }[] = [];
  let failNext = 1;
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c; });
    req.on('end', () => {
      if (failNext > 0) { failNext--; res.writeHead(500).end(); return; }
      pushes.push({ headers: req.headers, form: new URLSearchParams(body) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"retCode":1}');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  try {
    const c = client();
    const t = topic();
    let { value } = await call(c.consumer, 'subscribe', subscription('g-hook', [{ topic: t }], { url }));
    assert.equal(status(value), '0', message(value));
    assert.equal(message(value), 'success subscribe success');
    await publish(c, t, ['w1', 'w2']);
    const deadline = Date.now() + 8000;
    while (pushes.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(pushes.length, 2, 'both events pushed (the first after a retry)');
    const p = pushes[0]!;
    assert.equal(p.headers.code, '105');
    assert.equal(p.form.get('topic'), t);
    assert.match(p.form.get('uniqueId')!, /^u-\d+$/);
    const ext = JSON.parse(p.form.get('extFields')!) as Record<string, string>;
    assert.equal(ext.producergroup, 'pg');
    assert.deepEqual(pushes.map((x) => (JSON.parse(x.form.get('content')!) as { data: string }).data).sort(), ['w1', 'w2']);
    ({ value } = await call(c.consumer, 'unsubscribe', subscription('g-hook', [{ topic: t }], { url })));
    assert.equal(status(value), '0');
    await publish(c, t, ['w3']);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(pushes.length, 2, 'no push after unsubscribe');
    // G13 checks: no url → 7, a url that is not http(s) → 7, unparsable items → 17.
    assert.equal(status((await call(c.consumer, 'subscribe', subscription('g-hook', [{ topic: t }]))).value), '7');
    assert.equal(status((await call(c.consumer, 'subscribe', subscription('g-hook', [{ topic: t }], { url: 'ftp://x/y' }))).value), '7');
    assert.equal(status((await call(c.consumer, 'subscribe', { ...subscription('g-hook', [], { url }), text_data: '[1' })).value), '17');
  } finally {
    hook.close();
  }
});

test('G16 identity: a new stream of the same client (ip, pid) takes the subscription over — also when both subscribe at once', async () => {
  const [c1, c2, p] = [client(), client(), client()];
  const t = topic();
  const old = await subscribed(c1, subscription('g-take', [{ topic: t }], { pid: '9001' }));
  const taker = await subscribed(c2, subscription('g-take', [{ topic: t }], { pid: '9001' }));
  await old.until(() => old.ended, 5000, 'the old stream completed');
  await publish(p, t, range(4));
  await taker.until(() => taker.events().length === 4, 5000, 'the new stream gets the events');
  taker.stream.cancel();
  // Both at once: exactly one of them ends up with the subscription, and it gets every event.
  const t2 = topic();
  const a = new StreamReader(c1.consumer.subscribeStream());
  const b = new StreamReader(c2.consumer.subscribeStream());
  a.stream.write(subscription('g-take2', [{ topic: t2 }], { pid: '9002' }));
  b.stream.write(subscription('g-take2', [{ topic: t2 }], { pid: '9002' }));
  await a.until(() => (a.answers().length > 0 || a.ended) && (b.answers().length > 0 || b.ended), 5000, 'both answered');
  await new Promise((r) => setTimeout(r, 200));
  const clients = (await broker.queryShards('grpc.clients')).flatMap((s) => ('value' in s ? s.value : []) as { group: string }[]);
  assert.equal(clients.filter((v) => v.group === 'g-take2').length, 1);
  await publish(p, t2, range(4));
  await a.until(() => a.events().length + b.events().length === 4, 5000, 'the events reach the live stream');
  a.stream.cancel();
  b.stream.cancel();
});

test('G1 one port, every shard: connections spread over both shards (SO_REUSEPORT) and events cross the rings to them', async () => {
  const t = topic();
  // Separate subchannel pools: one TCP connection per client, as separate processes would have.
  const cs = Array.from({ length: 16 }, () => client(port, { 'grpc.use_local_subchannel_pool': 1 }));
  const readers = await Promise.all(cs.map((c, i) => subscribed(c, subscription('g-spread', [{ topic: t, mode: 'BROADCASTING' }], { pid: String(10_000 + i) }))));
  const perShard = (await broker.queryShards('grpc.clients')).map((s) => ('value' in s ? (s.value as { group: string }[]) : []).filter((v) => v.group === 'g-spread').length);
  assert.equal(perShard.reduce((a, b) => a + b, 0), 16);
  assert.ok(perShard.every((n) => n > 0), `both shards serve connections: ${perShard.join(' / ')}`);
  await publish(cs[0]!, t, range(8));
  await Promise.all(readers.map((r) => r.until(() => r.events().length === 8, 5000, 'every broadcast')));
  for (const r of readers) r.stream.cancel();
});

test('drain: stopping the broker completes open streams (status OK) and answers the calls in flight', async () => {
  const b = await startBroker(loadConfig({ flags }), { log: () => {} });
  const c = client(b.ports.grpc!);
  const t = topic();
  const r = await subscribed(c, subscription('g-drain', [{ topic: t }]));
  // Core's drain waits for calls in flight; this one ends with its ttl, answered, not cut off.
  const pending = call(c.publisher, 'requestReply', event(topic(), 'nobody answers', { ttl: '1500' }));
  await new Promise((res) => setTimeout(res, 100));
  await b.stop();
  await r.until(() => r.ended, 5000, 'the stream completed');
  assert.equal(r.error, undefined, 'completed with OK, not an error');
  const { value } = await pending;
  assert.equal(status(value), '22');
  assert.match(message(value)!, /EVM_TIMEOUT/);
});

test('H51 admin: /clients and /client/grpc list gRPC consumers of every shard; DELETE /client/grpc {url} removes its webhook subscriptions', async () => {
  const hook = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"retCode":0}'));
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/admin-hook`;
  try {
    const c = client();
    const [ts, tw] = [topic(), topic()];
    const reader = await subscribed(c, subscription('g-admin', [{ topic: ts }]));
    assert.equal(status((await call(c.consumer, 'subscribe', subscription('g-admin', [{ topic: tw }], { url }))).value), '0');
    const all = await httpJson(broker.ports.admin!, 'GET', '/clients');
    const grpc = (all.body as { grpc: { kind: string; topic: string; group: string; shard: number; url?: string }[] }).grpc;
    assert.deepEqual(grpc.filter((x) => x.group === 'g-admin').map((x) => `${x.kind}:${x.topic}`).sort(), [`stream:${ts}`, `webhook:${tw}`].sort());
    assert.ok(grpc.every((x) => Number.isInteger(x.shard)));
    const listed = (await httpJson(broker.ports.admin!, 'GET', '/client/grpc')).body as { url?: string }[];
    assert.ok(listed.some((x) => x.url === url));
    assert.equal((await httpJson(broker.ports.admin!, 'DELETE', '/client/grpc', { url })).status, 200);
    const after = (await httpJson(broker.ports.admin!, 'GET', '/client/grpc')).body as { url?: string; topic: string }[];
    assert.ok(!after.some((x) => x.url === url), 'the webhook subscription is gone');
    assert.ok(after.some((x) => x.topic === ts), 'the stream subscription stays');
    assert.equal((await httpJson(broker.ports.admin!, 'DELETE', '/client/grpc', {})).status, 400);
    reader.stream.cancel();
  } finally {
    hook.close();
  }
});
