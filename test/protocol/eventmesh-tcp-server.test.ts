// EventMesh TCP server over real sockets against a real broker (2 shards, memory storage):
// session lifecycle (T26–T35), publish paths (T41–T46), pushes with real acks (T51–T58), bad
// input (T5, T8, T26, T27, T40, T70) — after every bad client the shard keeps serving others.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import { fixture } from '../fixtures/eventmesh-tcp/load.js';
import { CE_PROPS, cloudEvent, EMM_PROPS, RawClient } from '../fixtures/eventmesh-tcp/raw-client.js';

let broker: RunningBroker;
let port: number;
const clients: RawClient[] = [];
let topics = 0;
const topic = () => `em-tcp-${process.pid}-${++topics}`;

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

async function publisher(): Promise<RawClient> {
  const c = await client();
  await c.hello('pub', 'pubGroup');
  return c;
}

async function subscriber(t: string, group: string, mode = 'CLUSTERING', type = 'ASYNC', ua: Record<string, unknown> = {}): Promise<RawClient> {
  const c = await client();
  await c.hello('sub', group, ua);
  assert.equal((await c.subscribe(t, mode, type)).header.code, 0);
  assert.equal((await c.listen()).header.code, 0);
  return c;
}

/** A fresh client still gets served: the shard survived whatever came before. */
async function stillServing(): Promise<void> {
  const c = await client();
  await c.hello('pub', 'g');
  const seq = c.send('HEARTBEAT_REQUEST');
  assert.equal((await c.reply('HEARTBEAT_RESPONSE', seq)).header.code, 0);
  c.close();
}

before(async () => {
  broker = await startBroker(loadConfig({
    flags: {
      shards: 2, storage: 'memory', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, host: '127.0.0.1',
      'delivery.ackTimeoutMs': 400, 'delivery.maxAttempts': 3, 'tcp.idleTimeoutMs': 3000, 'topics.defaultPartitions': 4,
    },
  }), { log: () => {} });
  port = broker.ports.tcp!;
});

after(async () => {
  for (const c of clients) c.close();
  await broker?.stop();
});

test('T27/T81/T82: the worked HELLO_REQUEST gets HELLO_RESPONSE code 0 "success" with the same seq', async () => {
  const c = await client();
  c.write(fixture('t81-hello-request'));
  const r = await c.reply('HELLO_RESPONSE');
  assert.deepEqual(r.header, { cmd: 'HELLO_RESPONSE', code: 0, desc: 'success', seq: '4271830561', properties: {} });
  assert.equal(r.body, undefined);
  c.write(fixture('t83-heartbeat-request')); // T30
  assert.equal((await c.reply('HEARTBEAT_RESPONSE', '1056427380')).header.code, 0);
  c.write(fixture('t81-hello-request')); // T27: a second HELLO reuses the session
  assert.equal((await c.reply('HELLO_RESPONSE')).header.code, 0);
});

test('T84/T43: the worked ASYNC_MESSAGE_TO_SERVER is stored and acked (code 0, same seq) and reaches a subscriber', async () => {
  const sub = await subscriber('TEST-TOPIC-TCP-ASYNC', 'g84');
  const pub = await publisher();
  pub.write(fixture('t84-async-message-cloudevent'));
  const ack = await pub.reply('ASYNC_MESSAGE_TO_SERVER_ACK', '7315082246');
  assert.equal(ack.header.code, 0);
  assert.equal(ack.header.desc, 'success');
  const push = await sub.reply('ASYNC_MESSAGE_TO_CLIENT');
  assert.equal(push.header.code, 0);
  assert.deepEqual(push.header.properties, { protocoltype: 'cloudevents' });
  const ev = JSON.parse(push.body!);
  assert.equal(ev.id, '5f3c2b0e-8a6d-4c61-9a55-0d2f1e7b9c11');
  assert.equal(ev.subject, 'TEST-TOPIC-TCP-ASYNC');
  assert.equal(ev.ttl, '30000');
  assert.deepEqual(ev.data, { content: 'testAsyncMessage' });
  sub.send('ASYNC_MESSAGE_TO_CLIENT_ACK', { seq: push.header.seq! });
});

test('T26: commands before HELLO get their reply command with a failure code; the connection stays open', async () => {
  const c = await client();
  const s1 = c.send('ASYNC_MESSAGE_TO_SERVER', { properties: CE_PROPS, body: cloudEvent('x') });
  const s2 = c.send('SUBSCRIBE_REQUEST', { body: { topicList: [{ topic: 'x', mode: 'CLUSTERING', type: 'ASYNC' }] } });
  const s3 = c.send('REQUEST_TO_SERVER', { properties: CE_PROPS, body: cloudEvent('x') });
  const s4 = c.send('HEARTBEAT_REQUEST');
  for (const [cmd, seq] of [['ASYNC_MESSAGE_TO_SERVER_ACK', s1], ['SUBSCRIBE_RESPONSE', s2], ['RESPONSE_TO_CLIENT', s3], ['HEARTBEAT_RESPONSE', s4]] as const) {
    const r = await c.reply(cmd, seq);
    assert.notEqual(r.header.code, 0, cmd);
    assert.match(r.header.desc!, /HELLO/);
  }
  await c.hello('pub', 'g');
});

test('T27: a HELLO without group, with a bad purpose or without version is answered with a failure, then the connection closes', async () => {
  for (const ua of [{ version: '1', purpose: 'pub' }, { version: '1', purpose: 'both', group: 'g' }, { purpose: 'sub', group: 'g' }]) {
    const c = await client();
    const seq = c.send('HELLO_REQUEST', { body: ua });
    const r = await c.reply('HELLO_RESPONSE', seq);
    assert.notEqual(r.header.code, 0, JSON.stringify(ua));
    await c.closedByPeer();
  }
  await stillServing();
});

test('T5/T70: bad magic, bad version, oversized length, malformed header JSON, unknown command → SERVER_GOODBYE with the error, then close', async () => {
  const cases: [string, Buffer, RegExp][] = [
    ['bad magic mid-stream', Buffer.from('EventMesX0000\0\0\0\x0d\0\0\0\0'), /EVM_BAD_FRAME.*magic/],
    ['bad version', Buffer.from('EventMesh0001\0\0\0\x0d\0\0\0\0', 'latin1'), /EVM_BAD_FRAME.*version/],
    ['oversized', Buffer.from('EventMesh0000\x7f\xff\xff\xff\0\0\0\x10', 'latin1'), /EVM_TOO_LARGE/],
    ['bad header JSON', frame('{"cmd":"HELLO_REQUEST",'), /EVM_BAD_FRAME.*JSON/],
    ['unknown command', frame('{"cmd":"FLY_TO_MOON","seq":"1"}'), /EVM_BAD_FRAME.*unknown command/],
    ['lower-case command', frame('{"cmd":"hello_request","seq":"1"}'), /EVM_BAD_FRAME/],
    ['bad Subscription body', frame('{"cmd":"SUBSCRIBE_REQUEST","seq":"1"}', '{"topicList":[{"topic":"t","mode":"weird"}]}'), /EVM_BAD_FRAME.*mode/],
  ];
  for (const [name, bytes, desc] of cases) {
    const c = await client();
    c.write(fixture('t83-heartbeat-request')); // a valid frame first: the connection is EventMesh TCP
    await c.reply('HEARTBEAT_RESPONSE');
    if (name === 'bad Subscription body') await c.hello('sub', 'g');
    c.write(bytes);
    const bye = await c.reply('SERVER_GOODBYE_REQUEST');
    assert.notEqual(bye.header.code, 0, name);
    assert.match(bye.header.desc!, desc, name);
    await c.closedByPeer();
  }
  await stillServing();
});

test('T5: garbage instead of the magic is closed without a reply (listener sniffing)', async () => {
  const s = connect({ host: '127.0.0.1', port });
  await once(s, 'connect');
  let got = 0;
  s.on('data', (d) => { got += d.length; });
  s.on('error', () => {});
  s.write('GET / HTTP/1.1\r\n\r\n');
  await once(s, 'close');
  assert.equal(got, 0);
  await stillServing();
});

test('T5/T8: a frame without header, or without a command, gets SERVER_GOODBYE code 1 and the connection closes', async () => {
  for (const bytes of [frame(''), frame('{"code":0,"seq":"5"}')]) {
    const c = await client();
    c.write(bytes);
    const bye = await c.reply('SERVER_GOODBYE_REQUEST');
    assert.equal(bye.header.code, 1);
    assert.match(bye.header.desc!, /command type/);
    await c.closedByPeer();
  }
  await stillServing();
});

test('T40: unimplemented and server-to-client commands are echoed with a failure; the connection stays open', async () => {
  const c = await publisher();
  for (const cmd of ['REGISTER_REQUEST', 'SYS_LOG_TO_LOGSERVER', 'HELLO_RESPONSE', 'REDIRECT_TO_CLIENT'] as const) {
    const seq = c.send(cmd);
    const r = await c.reply(cmd, seq);
    assert.notEqual(r.header.code, 0, cmd);
  }
  const seq = c.send('RECOMMEND_REQUEST', { body: { version: '1', purpose: 'pub', group: 'g' } }); // T37: no registry
  assert.notEqual((await c.reply('RECOMMEND_RESPONSE', seq)).header.code, 0);
  const hb = c.send('HEARTBEAT_REQUEST');
  assert.equal((await c.reply('HEARTBEAT_RESPONSE', hb)).header.code, 0);
});

test('T41/T24/T42: missing protocoltype, unsupported protocol, bad body, missing subject, invalid topic name, invalid event → FAIL ack; connection stays', async () => {
  const c = await publisher();
  const cases: [Record<string, unknown>, unknown, RegExp][] = [
    [{}, cloudEvent('t1'), /EVM_BAD_REQUEST.*protocoltype/],
    [{ ...CE_PROPS, protocoltype: 'openmessage' }, cloudEvent('t1'), /EVM_UNSUPPORTED/],
    [CE_PROPS, '{"not json', /EVM_BAD_EVENT/],
    [CE_PROPS, { specversion: '1.0', id: '1', source: '/', type: 't', data: 1 }, /EVM_BAD_REQUEST.*subject/],
    [CE_PROPS, cloudEvent('bad topic name!'), /EVM_BAD_TOPIC/],
    [CE_PROPS, { ...cloudEvent('t1'), id: '' }, /EVM_BAD_EVENT/],
    [{ ...CE_PROPS, 'Bad-Key': 'x' }, cloudEvent('t1'), /EVM_BAD_EVENT/], // T10: properties become extensions
    [EMM_PROPS, { topic: 't1', properties: {} }, /EVM_BAD_EVENT.*body/],
  ];
  for (const [properties, body, desc] of cases) {
    const seq = c.send('ASYNC_MESSAGE_TO_SERVER', { properties, body: body as object });
    const r = await c.reply('ASYNC_MESSAGE_TO_SERVER_ACK', seq);
    assert.notEqual(r.header.code, 0, String(desc));
    assert.match(r.header.desc!, desc);
  }
  const seq = c.send('ASYNC_MESSAGE_TO_SERVER', { properties: CE_PROPS, body: cloudEvent(topic()) });
  assert.equal((await c.reply('ASYNC_MESSAGE_TO_SERVER_ACK', seq)).header.code, 0);
});

test('T31/T32/T66: SUBSCRIBE with an invalid topic fails; pub sessions cannot subscribe or LISTEN; mixed modes in a group are rejected (T65)', async () => {
  const pub = await publisher();
  assert.notEqual((await pub.listen()).header.code, 0);
  assert.notEqual((await pub.subscribe(topic())).header.code, 0);
  const sub = await client();
  await sub.hello('sub', 'gMix');
  const bad = await sub.subscribe('no spaces allowed');
  assert.match(bad.header.desc!, /EVM_BAD_TOPIC/);
  const t = topic();
  assert.equal((await sub.subscribe(t, 'CLUSTERING')).header.code, 0);
  const other = await client();
  await other.hello('sub', 'gMix');
  const mixed = await other.subscribe(t, 'BROADCASTING');
  assert.match(mixed.header.desc!, /EVM_CONFLICT/);
});

test('T51/T56: CLUSTERING pub/sub with CloudEvents; acks are real: an unacked push is redelivered with a new seq, an acked one is not', async () => {
  const t = topic();
  const sub = await subscriber(t, 'gRedeliver');
  const pub = await publisher();
  const seq = pub.send('ASYNC_MESSAGE_TO_SERVER', { properties: CE_PROPS, body: cloudEvent(t, { hello: 'world' }, { ext1: 'v', num: 3 }) });
  assert.equal((await pub.reply('ASYNC_MESSAGE_TO_SERVER_ACK', seq)).header.code, 0);
  const first = await sub.reply('ASYNC_MESSAGE_TO_CLIENT');
  const ev = JSON.parse(first.body!);
  assert.deepEqual(ev.data, { hello: 'world' });
  assert.equal(ev.num, 3, 'extension types kept exactly');
  assert.equal(ev.ext1, 'v');
  // Not acked: core redelivers after delivery.ackTimeoutMs (400 ms here).
  const again = await sub.reply('ASYNC_MESSAGE_TO_CLIENT');
  assert.notEqual(again.header.seq, first.header.seq);
  assert.equal(JSON.parse(again.body!).id, ev.id);
  sub.send('ASYNC_MESSAGE_TO_CLIENT_ACK', { seq: again.header.seq! });
  sub.send('ASYNC_MESSAGE_TO_CLIENT_ACK', { seq: 'unknown-seq' }); // T56: ignored
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(sub.frames.filter((f) => f.header.cmd === 'ASYNC_MESSAGE_TO_CLIENT').length, 0, 'acked: no more redeliveries');
});

test('T38: when a subscriber disconnects, its unacked pushes go to another member of the group', async () => {
  const t = topic();
  const a = await subscriber(t, 'gHandover');
  const pub = await publisher();
  const seq = pub.send('ASYNC_MESSAGE_TO_SERVER', { properties: CE_PROPS, body: cloudEvent(t, { x: 1 }) });
  await pub.reply('ASYNC_MESSAGE_TO_SERVER_ACK', seq);
  const pushed = await a.reply('ASYNC_MESSAGE_TO_CLIENT');
  const b = await subscriber(t, 'gHandover');
  a.close();
  const handed = await b.reply('ASYNC_MESSAGE_TO_CLIENT');
  assert.equal(JSON.parse(handed.body!).id, JSON.parse(pushed.body!).id);
});

test('T63/T52: BROADCASTING pushes BROADCAST_MESSAGE_TO_CLIENT to every member; EventMeshMessage bodies map both ways (T22)', async () => {
  const t = topic();
  const s1 = await subscriber(t, 'gBroadcast', 'BROADCASTING');
  const s2 = await subscriber(t, 'gBroadcast', 'BROADCASTING');
  const pub = await publisher();
  const seq = pub.send('BROADCAST_MESSAGE_TO_SERVER', { properties: EMM_PROPS, body: { topic: t, properties: { k: 'v' }, headers: { datacontenttype: 'text/plain' }, body: 'to all' } });
  assert.equal((await pub.reply('BROADCAST_MESSAGE_TO_SERVER_ACK', seq)).header.code, 0);
  for (const s of [s1, s2]) {
    const push = await s.reply('BROADCAST_MESSAGE_TO_CLIENT');
    assert.deepEqual(push.header.properties, { protocoltype: 'eventmeshmessage' });
    const m = JSON.parse(push.body!);
    assert.equal(m.topic, t);
    assert.equal(m.body, 'to all');
    assert.equal(m.properties.k, 'v');
    assert.deepEqual(m.headers, { datacontenttype: 'text/plain' });
    s.send('BROADCAST_MESSAGE_TO_CLIENT_ACK', { seq: push.header.seq! });
  }
});

test('T45/T46/T54: request-reply: REQUEST_TO_CLIENT to a SYNC subscriber, its RESPONSE_TO_SERVER comes back as RESPONSE_TO_CLIENT with the request seq', async () => {
  const t = topic();
  const responder = await subscriber(t, 'gRR', 'CLUSTERING', 'SYNC');
  const requester = await publisher();
  const seq = requester.send('REQUEST_TO_SERVER', { properties: CE_PROPS, body: cloudEvent(t, { q: 1 }, { ttl: '5000' }) });
  const req = await responder.reply('REQUEST_TO_CLIENT');
  assert.equal(req.header.code, 0);
  const reqEvent = JSON.parse(req.body!);
  assert.deepEqual(reqEvent.data, { q: 1 });
  responder.send('REQUEST_TO_CLIENT_ACK', { seq: req.header.seq! });
  // The Java SDK's responders echo (or copy) the request: its correlation extensions come back.
  responder.send('RESPONSE_TO_SERVER', { properties: CE_PROPS, body: { ...reqEvent, id: 'reply-1', data: { a: 2 } } });
  const resp = await requester.reply('RESPONSE_TO_CLIENT', seq);
  assert.equal(resp.header.code, 0);
  assert.deepEqual(resp.header.properties, { protocoltype: 'cloudevents' });
  assert.deepEqual(JSON.parse(resp.body!).data, { a: 2 });
  // T45: a non-numeric ttl fails; without a responder the request times out (answered, unlike upstream).
  const bad = requester.send('REQUEST_TO_SERVER', { properties: CE_PROPS, body: cloudEvent(t, 1, { ttl: 'soon' }) });
  assert.match((await requester.reply('RESPONSE_TO_CLIENT', bad)).header.desc!, /EVM_BAD_REQUEST.*ttl/);
  const lonely = requester.send('REQUEST_TO_SERVER', { properties: CE_PROPS, body: cloudEvent(topic(), 1, { ttl: '200' }) });
  assert.match((await requester.reply('RESPONSE_TO_CLIENT', lonely)).header.desc!, /EVM_TIMEOUT/);
});

test('pipelining: 500 publishes written at once are all acked with their own seq (in-flight bounded by tcp.maxPendingPublishes)', async () => {
  const t = topic();
  const c = await publisher();
  const seqs = new Set<string>();
  const frames: Buffer[] = [];
  const { encodeFrame } = await import('../../src/protocol/tcp/frame.js');
  for (let i = 0; i < 500; i++) {
    const seq = `p${i}`;
    seqs.add(seq);
    frames.push(encodeFrame({ cmd: 'ASYNC_MESSAGE_TO_SERVER', code: 0, seq, properties: CE_PROPS }, JSON.stringify(cloudEvent(t, i))));
  }
  c.write(Buffer.concat(frames));
  for (let i = 0; i < 500; i++) {
    const r = await c.take((f) => f.header.cmd === 'ASYNC_MESSAGE_TO_SERVER_ACK');
    assert.equal(r.header.code, 0);
    assert.ok(seqs.delete(r.header.seq!));
  }
  assert.equal(seqs.size, 0);
});

test('pipelining: publishes of one read go to core as a batch; an invalid event among them fails alone, the others are acked; other commands keep their place', async () => {
  const t = topic();
  const sub = await subscriber(t, 'g-batch');
  const c = await publisher();
  const { encodeFrame } = await import('../../src/protocol/tcp/frame.js');
  const frames: Buffer[] = [];
  for (let i = 0; i < 20; i++) {
    const ev = i === 7 ? { ...cloudEvent(t, i), id: '' } : cloudEvent(t, i); // 7: invalid (empty id)
    frames.push(encodeFrame({ cmd: 'ASYNC_MESSAGE_TO_SERVER', code: 0, seq: `b${i}`, properties: CE_PROPS }, JSON.stringify(ev)));
    if (i === 10) frames.push(encodeFrame({ cmd: 'HEARTBEAT_REQUEST', code: 0, seq: 'hb', properties: {} }));
  }
  c.write(Buffer.concat(frames));
  const codes = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    const r = await c.take((f) => f.header.cmd === 'ASYNC_MESSAGE_TO_SERVER_ACK');
    codes.set(r.header.seq!, r.header.code);
  }
  assert.equal((await c.reply('HEARTBEAT_RESPONSE', 'hb')).header.code, 0);
  for (let i = 0; i < 20; i++) assert.equal(codes.get(`b${i}`) === 0, i !== 7, `seq b${i}`);
  // The 19 valid events are stored once each.
  const got = new Set<string>();
  while (got.size < 19) {
    const p = await sub.take((f) => f.header.cmd === 'ASYNC_MESSAGE_TO_CLIENT');
    got.add(JSON.parse(p.body!).id);
    sub.send('ASYNC_MESSAGE_TO_CLIENT_ACK', { seq: p.header.seq! });
  }
  assert.equal(got.size, 19);
});

test('flow control: pushes to a connection are bounded by its credit (UserAgent.unack → maxInflight): nothing more until acks', async () => {
  const t = topic();
  const sub = await subscriber(t, 'gCredit', 'CLUSTERING', 'ASYNC', { unack: 2 });
  const pub = await publisher();
  for (let i = 0; i < 40; i++) pub.send('ASYNC_MESSAGE_TO_SERVER', { properties: CE_PROPS, body: cloudEvent(t, i) });
  for (let i = 0; i < 40; i++) await pub.reply('ASYNC_MESSAGE_TO_SERVER_ACK');
  await new Promise((r) => setTimeout(r, 150));
  // 2 per partition owner (2 shards) at most, before the first ack timeout.
  const first = sub.frames.filter((f) => f.header.cmd === 'ASYNC_MESSAGE_TO_CLIENT');
  assert.ok(first.length >= 1 && first.length <= 4, `pushed ${first.length}`);
  // Acking everything received drains all 40 events.
  const seen = new Set<string>();
  while (seen.size < 40) {
    const p = await sub.reply('ASYNC_MESSAGE_TO_CLIENT');
    seen.add(JSON.parse(p.body!).id);
    sub.send('ASYNC_MESSAGE_TO_CLIENT_ACK', { seq: p.header.seq! });
  }
});

test('backpressure: a subscriber that stops reading fills its socket; pushes wait (socket.write returned false) and all arrive once it reads again', async () => {
  const t = topic();
  const sub = await subscriber(t, 'gSlow', 'CLUSTERING', 'ASYNC', { unack: 100 });
  sub.socket.pause(); // a slow consumer: nothing is read
  const pub = await publisher();
  const big = 'x'.repeat(256 * 1024);
  for (let i = 0; i < 40; i++) pub.send('ASYNC_MESSAGE_TO_SERVER', { properties: CE_PROPS, body: cloudEvent(t, { i, big }) });
  for (let i = 0; i < 40; i++) assert.equal((await pub.reply('ASYNC_MESSAGE_TO_SERVER_ACK', undefined, 15_000)).header.code, 0);
  await new Promise((r) => setTimeout(r, 100));
  sub.socket.resume();
  const seen = new Set<number>();
  while (seen.size < 40) {
    const p = await sub.reply('ASYNC_MESSAGE_TO_CLIENT', undefined, 15_000);
    seen.add(JSON.parse(p.body!).data.i);
    sub.send('ASYNC_MESSAGE_TO_CLIENT_ACK', { seq: p.header.seq! });
  }
});

test('T33/T34: UNSUBSCRIBE stops pushes; CLIENT_GOODBYE is answered and the server closes the connection', async () => {
  const t = topic();
  const sub = await subscriber(t, 'gBye');
  const u = sub.send('UNSUBSCRIBE_REQUEST');
  assert.equal((await sub.reply('UNSUBSCRIBE_RESPONSE', u)).header.code, 0);
  const pub = await publisher();
  const seq = pub.send('ASYNC_MESSAGE_TO_SERVER', { properties: CE_PROPS, body: cloudEvent(t) });
  await pub.reply('ASYNC_MESSAGE_TO_SERVER_ACK', seq);
  const g = sub.send('CLIENT_GOODBYE_REQUEST');
  assert.equal((await sub.reply('CLIENT_GOODBYE_RESPONSE', g)).header.code, 0);
  await sub.closedByPeer();
  assert.equal(sub.frames.filter((f) => f.header.cmd === 'ASYNC_MESSAGE_TO_CLIENT').length, 0);
});

test('T29: a connection that sends nothing for tcp.idleTimeoutMs is closed', async () => {
  const c = await publisher();
  await c.closedByPeer(6000);
});

test('T35: on shutdown every connection gets SERVER_GOODBYE code 0, then the server closes it', async () => {
  const c = await publisher();
  const stopping = broker.stop();
  const bye = await c.reply('SERVER_GOODBYE_REQUEST');
  assert.equal(bye.header.code, 0);
  assert.equal(bye.header.desc, 'graceful normal quit from eventmesh');
  await c.closedByPeer();
  await stopping;
});

function frame(header: string, body = ''): Buffer {
  const h = Buffer.from(header);
  const b = Buffer.from(body);
  const p = Buffer.alloc(21);
  p.write('EventMesh0000', 0, 'latin1');
  p.writeUInt32BE(13 + h.length + b.length, 13);
  p.writeUInt32BE(h.length, 17);
  return Buffer.concat([p, h, b]);
}
