// EventMesh gRPC PublisherService (spec G10–G12, G3 one-way calls) against a real 2-shard broker
// over real sockets with the grpc-js client: answers in the message (G8), bad input (G9),
// undecodable and oversized messages, deadlines, garbage on the port.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import { call, event, message, status, stubs, str, StreamReader, subscription, type Stubs } from '../fixtures/grpc/client.js';
import { encodeCloudEvent, encodeCloudEventBatch } from '../../src/protocol/grpc/codec.js';
import type { PbCloudEvent } from '../../src/protocol/grpc/cloudevent.js';

let broker: RunningBroker;
let port: number;
const open: Stubs[] = [];
let topics = 0;
let groups = 0;
const topic = (): string => `grpc-pub-${process.pid}-${++topics}`;
const client = (options: object = {}): Stubs => { const s = stubs(port, options); open.push(s); return s; };

before(async () => {
  broker = await startBroker(loadConfig({
    flags: {
      shards: 2, storage: 'memory', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, host: '127.0.0.1',
      'topics.defaultPartitions': 4, 'grpc.maxMessageBytes': 64 * 1024, 'limits.maxBatchEvents': 100, 'limits.maxEventBytes': 16 * 1024,
    },
  }), { log: () => {} });
  port = broker.ports.grpc!;
});

after(async () => {
  for (const s of open) s.close();
  await broker?.stop();
});

/** Reads `n` events of `t` through the in-process client (a group of its own, from earliest). */
async function consume(t: string, n: number): Promise<{ attributes: Record<string, unknown>; data: string }[]> {
  const got: { attributes: Record<string, unknown>; data: string }[] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => { done = r; });
  const sub = await broker.client().subscribe({ topic: t, group: `check-${t}-${++groups}`, from: 'earliest' }, (d) => {
    got.push({ attributes: { ...d.event.attributes }, data: Buffer.from(d.event.data ?? []).toString() });
    d.ack();
    if (got.length === n) done();
  });
  await Promise.race([all, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${got.length}/${n} events`)), 5000))]);
  await sub.close();
  return got;
}

test('G10 publish: stored on the subject topic with its attributes, answered statuscode 0 with SendResult', async () => {
  const c = client();
  const t = topic();
  const { value, trailer } = await call(c.publisher, 'publish', event(t, 'hello', { tag: 'x' }));
  assert.equal(status(value), '0');
  assert.match(message(value)!, new RegExp(`^success SendResult\\[topic=${t}, messageId=\\d+-\\d+\\]$`));
  assert.equal(value.spec_version, '1.0');
  assert.ok(value.attributes!.time!.ce_timestamp, 'time is a ce_timestamp (G8)');
  assert.equal(trailer?.get('evmesh-code').length ?? 0, 0);
  const [ev] = await consume(t, 1);
  assert.equal(ev!.data, 'hello');
  assert.equal(ev!.attributes.subject, t);
  assert.equal(ev!.attributes.tag, 'x');
  assert.equal(ev!.attributes.producergroup, 'pg');
  assert.equal(ev!.attributes.passwd, undefined, 'credentials are not stored');
});

test('G6 conversion: attribute types, binary data and proto_data survive a publish → stream push round trip', async () => {
  const c = client();
  const t = topic();
  const reader = new StreamReader(c.consumer.subscribeStream());
  reader.stream.write(subscription('g-conv', [{ topic: t }]));
  await reader.until(() => reader.answers().length === 1, 5000, 'subscribe answer');
  assert.equal(status(reader.answers()[0]!), '0');
  const bin = event(t, '', { datacontenttype: 'application/octet-stream' });
  delete bin.text_data;
  bin.binary_data = Buffer.from([0, 1, 2, 255]);
  bin.attributes!.flag = { ce_boolean: true };
  bin.attributes!.count = { ce_integer: 42 };
  bin.attributes!.link = { ce_uri: 'https://example.com/x' };
  bin.attributes!.time = { ce_timestamp: { seconds: '1700000000', nanos: 5_000_000 } };
  assert.equal(status((await call(c.publisher, 'publish', bin)).value), '0');
  const proto = event(t, '', { datacontenttype: 'application/protobuf' });
  delete proto.text_data;
  proto.proto_data = { type_url: 'type.googleapis.com/x.Y', value: Buffer.from([8, 1]) };
  assert.equal(status((await call(c.publisher, 'publish', proto)).value), '0');
  await reader.until(() => reader.events().length === 2, 5000, 'two pushes');
  const [a, b] = reader.events();
  assert.deepEqual([...a!.binary_data!], [0, 1, 2, 255]);
  assert.equal(a!.attributes!.flag!.ce_boolean, true);
  assert.equal(a!.attributes!.count!.ce_integer, 42);
  assert.equal(a!.attributes!.link!.ce_string, 'https://example.com/x');
  assert.deepEqual(a!.attributes!.time!.ce_timestamp, { seconds: '1700000000', nanos: 5_000_000 });
  assert.match(a!.attributes!.reqeventmesh2ctimestamp!.ce_string!, /^\d+$/);
  assert.equal(b!.proto_data!.type_url, 'type.googleapis.com/x.Y');
  assert.deepEqual([...b!.proto_data!.value!], [8, 1]);
  reader.stream.end();
});

test('G9 header check → statuscode 6, data check → 7, conversion failure → 14; catalog code in the text and the evmesh-code trailer', async () => {
  const c = client();
  const t = topic();
  const noIdc = event(t, 'x');
  delete noIdc.attributes!.idc;
  let r = await call(c.publisher, 'publish', noIdc);
  assert.equal(status(r.value), '6');
  assert.match(message(r.value)!, /^eventMesh CloudEvent\[header\] err, {2}EVM_BAD_REQUEST: attribute idc/);
  assert.equal(r.trailer?.get('evmesh-code')[0], 'EVM_BAD_REQUEST');
  const badPid = event(t, 'x', { pid: 'abc' });
  assert.equal(status((await call(c.publisher, 'publish', badPid)).value), '6');
  const intIdc = event(t, 'x');
  intIdc.attributes!.idc = { ce_integer: 1 }; // read as ce_string (G7)
  assert.equal(status((await call(c.publisher, 'publish', intIdc)).value), '6');
  const noSubject = event(t, 'x');
  delete noSubject.attributes!.subject;
  r = await call(c.publisher, 'publish', noSubject);
  assert.equal(status(r.value), '7');
  assert.match(message(r.value)!, /attribute subject/);
  const noData = event(t, '');
  assert.equal(status((await call(c.publisher, 'publish', noData)).value), '7');
  const badSource = event(t, 'x');
  badSource.source = '';
  r = await call(c.publisher, 'publish', badSource);
  assert.equal(status(r.value), '14');
  assert.match(message(r.value)!, /EVM_BAD_EVENT: attribute "source"/);
  assert.equal(r.trailer?.get('evmesh-code')[0], 'EVM_BAD_EVENT');
  const badName = event(t, 'x');
  badName.attributes!['Bad-Name'] = str('v');
  assert.equal(status((await call(c.publisher, 'publish', badName)).value), '14');
  const spec03 = event(t, 'x');
  spec03.spec_version = '0.3';
  assert.match(message((await call(c.publisher, 'publish', spec03)).value)!, /specversion/);
});

test('G12 batchPublish: every event stored on its own subject; one bad event refuses the whole batch', async () => {
  const c = client();
  const [t1, t2] = [topic(), topic()];
  const events = [event(t1, 'a'), event(t2, 'b'), event(t1, 'c')];
  const { value } = await call(c.publisher, 'batchPublish', { events });
  assert.equal(status(value), '0');
  assert.equal(message(value), 'success batch publish success');
  assert.deepEqual((await consume(t1, 2)).map((e) => e.data).sort(), ['a', 'c']);
  assert.deepEqual((await consume(t2, 1)).map((e) => e.data), ['b']);
  const bad = event(t1, 'x');
  delete bad.attributes!.uniqueid;
  let r = await call(c.publisher, 'batchPublish', { events: [event(t1, 'y'), bad] });
  assert.equal(status(r.value), '7');
  assert.match(message(r.value)!, /event 1: attribute uniqueid/);
  r = await call(c.publisher, 'batchPublish', { events: [] });
  assert.equal(status(r.value), '7');
  const tooMany = Array.from({ length: 101 }, () => event(t1, 'z'));
  r = await call(c.publisher, 'batchPublish', { events: tooMany });
  assert.equal(status(r.value), '10');
  assert.equal(r.trailer?.get('evmesh-code')[0], 'EVM_TOO_LARGE');
  const badEvent = event(t1, 'x');
  badEvent.type = '';
  r = await call(c.publisher, 'batchPublish', { events: [event(t1, 'ok'), badEvent] });
  assert.equal(status(r.value), '10');
  // Nothing of the refused batches was stored: t1 still has exactly a and c.
  const sub = await consume(t1, 2);
  assert.deepEqual(sub.map((e) => e.data).sort(), ['a', 'c']);
});

test('G3 publishOneWay / batchPublishOneWay (UNIMPLEMENTED upstream): served, errors are INVALID_ARGUMENT with the catalog code', async () => {
  const c = client();
  const t = topic();
  const { value } = await call<object>(c.publisher, 'publishOneWay', event(t, 'one'));
  assert.deepEqual(value, {});
  await call<object>(c.publisher, 'batchPublishOneWay', { events: [event(t, 'two'), event(t, 'three')] });
  assert.deepEqual((await consume(t, 3)).map((e) => e.data).sort(), ['one', 'three', 'two']);
  const bad = event(t, 'x');
  delete bad.attributes!.env;
  await assert.rejects(call(c.publisher, 'publishOneWay', bad), (err: ServiceError) => {
    assert.equal(err.code, GrpcStatus.INVALID_ARGUMENT);
    assert.match(err.details, /^EVM_BAD_REQUEST: attribute env/);
    assert.equal(err.metadata.get('evmesh-code')[0], 'EVM_BAD_REQUEST');
    return true;
  });
  const badSource = event(t, 'x');
  badSource.source = '';
  await assert.rejects(call(c.publisher, 'batchPublishOneWay', { events: [badSource] }), (err: ServiceError) => {
    assert.equal(err.code, GrpcStatus.INVALID_ARGUMENT);
    assert.match(err.details, /^EVM_BAD_EVENT/);
    return true;
  });
});

test('G11 requestReply: the reply event is the answer; no responder → echo with statuscode 22 after ttl', async () => {
  const c = client();
  const t = topic();
  const sub = await broker.client().subscribe({ topic: t, group: 'responder' }, (d) => {
    void broker.client().reply(d, { attributes: { specversion: '1.0', id: 'r1', source: '/responder', type: 'reply', datacontenttype: 'text/plain', seqnum: 'r' }, data: Buffer.from(`re: ${Buffer.from(d.event.data!).toString()}`) });
  });
  const { value } = await call(c.publisher, 'requestReply', event(t, 'ping', { ttl: '3000' }));
  assert.equal(value.text_data, 're: ping');
  assert.equal(value.source, '/responder');
  assert.equal(status(value), undefined, 'the reply itself, no status attributes (G11)');
  await sub.close();
  const req = event(topic(), 'nobody', { ttl: '200' });
  const r = await call(c.publisher, 'requestReply', req);
  assert.equal(status(r.value), '22');
  assert.equal(r.value.text_data, 'nobody', 'echo of the request (G8)');
  assert.match(message(r.value)!, /EVM_TIMEOUT/);
  const badTtl = await call(c.publisher, 'requestReply', event(topic(), 'x', { ttl: 'soon' }));
  assert.equal(status(badTtl.value), '7');
});

test('undecodable request bytes → INVALID_ARGUMENT; oversized message → RESOURCE_EXHAUSTED; event over limits.maxEventBytes → 14 EVM_TOO_LARGE; the shard keeps serving', async () => {
  const c = client();
  // A raw client call with a hand-made serializer sends bytes that are not a CloudEvent.
  const raw = c.publisher.makeUnaryRequest(
    '/org.apache.eventmesh.cloudevents.v1.PublisherService/publish',
    (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0f, 0xff, 0xff]),
    (err: ServiceError | null) => { rawDone(err); },
  );
  let rawDone!: (e: ServiceError | null) => void;
  const rawErr = await new Promise<ServiceError | null>((r) => { rawDone = r; });
  void raw;
  assert.equal(rawErr?.code, GrpcStatus.INVALID_ARGUMENT, rawErr?.details);
  assert.match(rawErr!.details, /^EVM_BAD_FRAME/);
  const big = event(topic(), 'x'.repeat(70 * 1024));
  await assert.rejects(call(c.publisher, 'publish', big), (err: ServiceError) => err.code === GrpcStatus.RESOURCE_EXHAUSTED);
  // Under grpc.maxMessageBytes but over limits.maxEventBytes: refused by core (G10 status 14).
  const large = await call(c.publisher, 'publish', event(topic(), 'x'.repeat(20 * 1024)));
  assert.equal(status(large.value), '14');
  assert.equal(large.trailer?.get('evmesh-code')[0], 'EVM_TOO_LARGE');
  assert.equal(status((await call(c.publisher, 'publish', event(topic(), 'still'))).value), '0');
});

test('deadlines: a requestReply whose deadline passes before its ttl ends DEADLINE_EXCEEDED', async () => {
  const c = client();
  await assert.rejects(call(c.publisher, 'requestReply', event(topic(), 'slow', { ttl: '5000' }), { deadlineMs: 150 }),
    (err: ServiceError) => err.code === GrpcStatus.DEADLINE_EXCEEDED);
  assert.equal(status((await call(c.publisher, 'publish', event(topic(), 'after'))).value), '0');
});

test('garbage bytes on the gRPC port close that connection only; the shard keeps serving', async () => {
  const c = client();
  // Not HTTP/2: the HTTP/2 layer drops the connection.
  await new Promise<void>((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\n\r\n\x00\x01garbage'));
    s.on('close', () => resolve());
    s.on('error', () => {});
    s.setTimeout(2000, () => s.destroy());
  });
  assert.equal(status((await call(c.publisher, 'publish', event(topic(), 'after'))).value), '0');
});

test('bad input fuzz: random bytes and random CloudEvents to every unary method get an answer or a status; the shard keeps serving', async () => {
  const c = client();
  let seed = 7;
  const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
  const keys = ['env', 'idc', 'ip', 'pid', 'sys', 'username', 'passwd', 'language', 'subject', 'uniqueid', 'ttl', 'producergroup', 'consumergroup',
    'datacontenttype', 'url', 'clienttype', 'time', 'submessagetype', 'Bad Key', '', 'x'.repeat(300)];
  const values = (): object => pick([
    { ce_string: pick(['', '1', 'abc', 'text/plain', 'application/protobuf', '[{"topic":"t"}]', 'http://127.0.0.1:1/x', '-1']) },
    { ce_integer: pick([0, 2, -1, 2147483647]) }, { ce_boolean: true }, { ce_bytes: Buffer.from([1, 2]) }, {},
    { ce_timestamp: { seconds: String(rand(2) ? -1 : 253402300800), nanos: 5 } },
  ]);
  const methods = ['PublisherService/publish', 'PublisherService/requestReply', 'PublisherService/publishOneWay', 'PublisherService/batchPublish',
    'PublisherService/batchPublishOneWay', 'ConsumerService/subscribe', 'ConsumerService/unsubscribe', 'HeartbeatService/heartbeat'];
  for (let i = 0; i < 300; i++) {
    const method = pick(methods);
    let bytes: Buffer;
    if (rand(4) === 0) bytes = Buffer.from(Array.from({ length: rand(40) }, () => rand(256)));
    else {
      const ev: PbCloudEvent = {
        id: pick(['', 'i']), source: pick(['', '/s', '::']), spec_version: pick(['1.0', '0.3', '']), type: pick(['', 't']),
        attributes: Object.fromEntries(Array.from({ length: rand(12) }, () => [pick(keys), values()])),
        ...(rand(2) ? { text_data: pick(['', 'x', '[{"topic":"t","mode":"CLUSTERING","type":"ASYNC"}]', '{']) } : { binary_data: Buffer.from([rand(256)]) }),
      };
      ev.attributes!.ttl = { ce_string: '50' };
      bytes = method.includes('batch') ? encodeCloudEventBatch({ events: [ev, ev] }) : encodeCloudEvent(ev);
    }
    await new Promise<void>((resolve) => {
      c.publisher.makeUnaryRequest(`/org.apache.eventmesh.cloudevents.v1.${method}`, (b: Buffer) => b, (b: Buffer) => b, bytes,
        { deadline: Date.now() + 5000 }, (err: ServiceError | null) => {
          assert.notEqual(err?.code, GrpcStatus.DEADLINE_EXCEEDED, `${method} answered`);
          assert.notEqual(err?.code, GrpcStatus.INTERNAL, `${method}: ${err?.details}`);
          resolve();
        });
    });
  }
  assert.equal(status((await call(c.publisher, 'publish', event(topic(), 'still'))).value), '0');
});

test('item 4: a client that sends evmesh-status-errors: true gets INVALID_ARGUMENT with the catalog code in details and the G30 code as trailer', async () => {
  const c = client();
  const md = new Metadata();
  md.set('evmesh-status-errors', 'true');
  const noIdc = event(topic(), 'x');
  delete noIdc.attributes!.idc;
  await assert.rejects(call(c.publisher, 'publish', noIdc, { metadata: md }), (err: ServiceError) => {
    assert.equal(err.code, GrpcStatus.INVALID_ARGUMENT);
    assert.match(err.details, /EVM_BAD_REQUEST: attribute idc/);
    assert.equal(err.metadata.get('evmesh-code')[0], 'EVM_BAD_REQUEST');
    assert.equal(err.metadata.get('eventmesh-statuscode')[0], '6');
    return true;
  });
  const badSource = event(topic(), 'x');
  badSource.source = '';
  await assert.rejects(call(c.publisher, 'batchPublish', { events: [badSource] }, { metadata: md }), (err: ServiceError) =>
    err.code === GrpcStatus.INVALID_ARGUMENT && /EVM_BAD_EVENT/.test(err.details) && err.metadata.get('eventmesh-statuscode')[0] === '10');
  // Success is still the G8 answer; without the header errors stay in the message (G8).
  assert.equal(status((await call(c.publisher, 'publish', event(topic(), 'ok'), { metadata: md })).value), '0');
  const inMessage = await call(c.publisher, 'publish', noIdc);
  assert.equal(status(inMessage.value), '6');
  assert.equal(inMessage.trailer?.get('eventmesh-statuscode')[0], '6');
});
