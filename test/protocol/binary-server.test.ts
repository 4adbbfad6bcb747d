// evmesh binary protocol server over real sockets against a real 2-shard broker: the happy path
// at frame level, credit, and bad input — every bad frame gets an ERROR with its catalog code,
// fatal ones close the connection, and the shard keeps serving other connections.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import { F, PREAMBLE } from '../../src/protocol/binary/frames.js';
import { FrameWriter } from '../../src/protocol/binary/frame-writer.js';
import { HeaderCodec } from '../../src/protocol/binary/header-codec.js';
import type { Frame } from '../../src/protocol/binary/parse.js';
import { rawFrame, RawClient } from '../fixtures/binary/raw-client.js';

let broker: RunningBroker;
let port: number;

before(async () => {
  broker = await startBroker(loadConfig({
    flags: { shards: 2, storage: 'memory', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, 'binary.idleTimeoutMs': 1500, 'limits.maxFrameBytes': 65536 },
  }));
  port = broker.ports.tcp!;
});
after(async () => { await broker.stop(); });

const ev = (id: string, extra: Record<string, unknown> = {}) => ({ specversion: '1.0', id, source: '/test', type: 'test.event', ...extra });
const hdr = (f: Frame) => f.header as Record<string, unknown>;

/** Another connection still publishes and gets its ack (the shard keeps serving). */
async function assertServing(): Promise<void> {
  for (let i = 0; i < 2; i++) { // two connections: likely one per shard
    const c = await RawClient.hello(port);
    c.send(F.PUBLISH, { id: 9, topic: 'alive', events: [ev('x')] }, [Buffer.from('ok')]);
    const ack = await c.next(F.PUBLISH_ACK);
    assert.equal(hdr(ack).id, 9);
    assert.equal((hdr(ack).runs as number[])[2], 1);
    c.close();
  }
}

/** Expects ERROR {code, fatal} and the connection closed by the server. */
async function expectFatal(c: RawClient, code: string): Promise<Frame> {
  const err = await c.next(F.ERROR);
  assert.equal(hdr(err).code, code, JSON.stringify(err.header));
  assert.equal(hdr(err).fatal, true);
  await c.closed;
  return err;
}

test('HELLO → HELLO_OK with the limits; PUBLISH of 2 events → PUBLISH_ACK with runs; heartbeat', async () => {
  const c = await RawClient.open(port);
  const w = new FrameWriter(c.codec);
  w.preamble();
  w.frame(F.HELLO, { client: 't1', auth: { token: 'anything' } });
  c.write(w.take()!);
  const ok = hdr(await c.next());
  assert.equal(ok.maxFrameBytes, 65536);
  assert.equal(ok.idleTimeoutMs, 1500);
  assert.equal(ok.heartbeatMs, 500);
  assert.equal(ok.maxInflightPublishes, 64);
  c.send(F.PUBLISH, { id: 1, topic: 'orders', events: [ev('1'), ev('2')] }, [Buffer.from('{"a":1}'), undefined]);
  const ack = hdr(await c.next(F.PUBLISH_ACK));
  assert.equal(ack.id, 1);
  const runs = ack.runs as number[];
  assert.equal(runs.length % 3, 0);
  assert.equal(runs.filter((_, i) => i % 3 === 2).reduce((a, b) => a + b, 0), 2);
  c.send(F.HEARTBEAT);
  assert.equal((await c.next()).type, F.HEARTBEAT_OK);
  c.close();
});

test('subscribe with credit 2: exactly 2 deliveries until CREDIT grants more; ACK by tag ranges', async () => {
  const c = await RawClient.hello(port);
  c.send(F.SUBSCRIBE, { id: 1, topic: 'credit', group: 'g', from: 'earliest', credit: 2 });
  const sub = hdr(await c.next(F.SUBSCRIBED)).sub as number;
  c.send(F.PUBLISH, { id: 2, topic: 'credit', events: [ev('1'), ev('2'), ev('3'), ev('4'), ev('5')] }, [undefined, undefined, undefined, undefined, undefined]);
  await c.next(F.PUBLISH_ACK);
  const got: unknown[][] = [];
  const take = async (n: number) => {
    while (got.length < n) {
      const d = hdr(await c.next(F.DELIVER));
      assert.equal(d.sub, sub);
      assert.equal(d.topic, 'credit');
      for (const [i, e] of (d.d as unknown[][]).entries()) got.push([(d.tag as number) + i, ...e]);
    }
  };
  await take(2);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(c.frames.filter((f) => f.type === F.DELIVER).length, 0, 'nothing beyond the credit');
  assert.equal(got.length, 2);
  c.send(F.ACK, { tags: [0, 2] });
  c.send(F.CREDIT, { sub, n: 3 });
  // The broker holds at most maxInflight (= the credit, 2) unacked per partition owner: ack
  // what arrives until all 5 are in.
  while (got.length < 5) {
    const before = got.length;
    await take(before + 1);
    c.send(F.ACK, { tags: [before, got.length - before] });
  }
  assert.deepEqual(got.map((g) => g[0]), [0, 1, 2, 3, 4]);
  assert.deepEqual(got.map((g) => (g[4] as Record<string, unknown>).id).sort(), ['1', '2', '3', '4', '5']);
  c.send(F.UNSUBSCRIBE, { id: 3, sub });
  assert.equal(hdr(await c.next(F.OK)).id, 3);
  c.close();
});

test('invalid CloudEvents in a batch: per-event errors, the valid events are stored', async () => {
  const c = await RawClient.hello(port);
  c.send(F.PUBLISH, { id: 4, topic: 'mixed', events: [ev('1'), { specversion: '1.0', source: '/x', type: 't' }, ev('3'), 42] }, [undefined, undefined, undefined, undefined]);
  const ack = hdr(await c.next(F.PUBLISH_ACK));
  assert.equal(ack.id, 4);
  const runs = ack.runs as number[];
  assert.equal(runs.filter((_, i) => i % 3 === 2).reduce((a, b) => a + b, 0), 2);
  const errors = ack.errors as unknown[];
  assert.deepEqual([errors[0], errors[1], errors[3], errors[4]], [1, 'EVM_BAD_EVENT', 3, 'EVM_BAD_EVENT']);
  assert.match(String(errors[2]), /id/);
  c.close();
});

test('request errors are non-fatal: bad topic name, missing topic/group, unknown tag, unknown subscription', async () => {
  const c = await RawClient.hello(port);
  c.send(F.PUBLISH, { id: 1, topic: 'bad topic!', events: [ev('1')] }, [undefined]);
  let e = hdr(await c.next(F.ERROR));
  assert.deepEqual([e.id, e.code, e.fatal], [1, 'EVM_BAD_TOPIC', undefined]);
  c.send(F.PUBLISH, { id: 2, events: [ev('1')] }, [undefined]);
  e = hdr(await c.next(F.ERROR));
  assert.deepEqual([e.id, e.code], [2, 'EVM_BAD_REQUEST']);
  c.send(F.SUBSCRIBE, { id: 3, topic: 'orders' });
  e = hdr(await c.next(F.ERROR));
  assert.deepEqual([e.id, e.code], [3, 'EVM_BAD_REQUEST']);
  assert.match(String(e.message), /group/);
  c.send(F.SUBSCRIBE, { id: 4, topic: '', group: 'g' });
  e = hdr(await c.next(F.ERROR));
  assert.deepEqual([e.id, e.code], [4, 'EVM_BAD_TOPIC']);
  c.send(F.REPLY, { id: 5, tag: 77, event: ev('r') }, [undefined]);
  e = hdr(await c.next(F.ERROR));
  assert.deepEqual([e.id, e.code], [5, 'EVM_BAD_REQUEST']);
  c.send(F.UNSUBSCRIBE, { id: 6, sub: 99 });
  e = hdr(await c.next(F.ERROR));
  assert.deepEqual([e.id, e.code], [6, 'EVM_UNKNOWN_SUBSCRIPTION']);
  c.send(F.REQUEST, { id: 7, topic: 'rr', timeoutMs: -1, event: ev('q') }, [undefined]);
  e = hdr(await c.next(F.ERROR));
  assert.deepEqual([e.id, e.code], [7, 'EVM_BAD_REQUEST']);
  // still open and working
  c.send(F.PUBLISH, { id: 8, topic: 'orders', events: [ev('1')] }, [undefined]);
  assert.equal(hdr(await c.next(F.PUBLISH_ACK)).id, 8);
  c.close();
});

test('wrong magic: the connection is closed without a reply (sniffer); others keep working', async () => {
  const c = await RawClient.open(port);
  c.write(Buffer.from('EVMX\x01'));
  await c.closed;
  assert.equal(c.frames.length, 0);
  await assertServing();
});

test('wrong version → EVM_UNSUPPORTED, fatal', async () => {
  const c = await RawClient.open(port);
  c.write(Buffer.from('EVMB\x02'));
  // the server's own preamble comes first, then the error
  const err = await expectFatal(c, 'EVM_UNSUPPORTED');
  assert.match(String(hdr(err).message), /version 2/);
  await assertServing();
});

const withPreamble = (...frames: Uint8Array[]) => Buffer.concat([PREAMBLE, ...frames]);
const hello = () => { const w = new FrameWriter(new HeaderCodec()); w.frame(F.HELLO, { client: 'bad' }); return w.take()!; };

for (const [name, bytes, code] of [
  ['oversized length (above limits.maxFrameBytes)', withPreamble(hello(), Buffer.from([0, 1, 0, 0, F.PUBLISH])), 'EVM_TOO_LARGE'],
  ['length 0xFFFFFFFF', withPreamble(hello(), Buffer.from([0xff, 0xff, 0xff, 0xff])), 'EVM_TOO_LARGE'],
  ['length below 5', withPreamble(hello(), Buffer.from([0, 0, 0, 2, F.HEARTBEAT, 0])), 'EVM_BAD_FRAME'],
  ['malformed msgpack header (truncated array)', withPreamble(hello(), rawFrame(F.PUBLISH, Buffer.from([0x93, 0x01]))), 'EVM_BAD_FRAME'],
  ['header length beyond the frame', withPreamble(hello(), Buffer.from([0, 0, 0, 5, F.HEARTBEAT, 0, 0, 0, 9])), 'EVM_BAD_FRAME'],
  ['unknown frame type', withPreamble(hello(), rawFrame(0x77, new Uint8Array(0))), 'EVM_BAD_FRAME'],
  ['PUBLISH before HELLO', withPreamble(rawFrame(F.PUBLISH, Buffer.from(new HeaderCodec().encode({ id: 1, topic: 't', events: [] })))), 'EVM_BAD_REQUEST'],
  ['SUBSCRIBE before HELLO', withPreamble(rawFrame(F.SUBSCRIBE, Buffer.from(new HeaderCodec().encode({ id: 1, topic: 't', group: 'g' })))), 'EVM_BAD_REQUEST'],
  ['HELLO without client', withPreamble(rawFrame(F.HELLO, Buffer.from(new HeaderCodec().encode({ auth: 1 })))), 'EVM_BAD_REQUEST'],
  ['HELLO with bad structures', withPreamble(rawFrame(F.HELLO, Buffer.from(new HeaderCodec().encode({ client: 'x', structures: [[1]] })))), 'EVM_BAD_REQUEST'],
  ['a second HELLO', withPreamble(hello(), hello()), 'EVM_BAD_REQUEST'],
  ['PUBLISH without id', withPreamble(hello(), rawFrame(F.PUBLISH, Buffer.from(new HeaderCodec().encode({ topic: 't', events: [] })))), 'EVM_BAD_REQUEST'],
  ['PUBLISH whose payload does not match its events', withPreamble(hello(), rawFrame(F.PUBLISH, Buffer.from(new HeaderCodec().encode({ id: 1, topic: 't', events: [{}] })))), 'EVM_BAD_FRAME'],
  ['a server-only frame (DELIVER) from the client', withPreamble(hello(), rawFrame(F.DELIVER, Buffer.from(new HeaderCodec().encode({ sub: 1, topic: 't', tag: 0, d: [] })))), 'EVM_BAD_REQUEST'],
  ['ACK with an odd tag list', withPreamble(hello(), rawFrame(F.ACK, Buffer.from(new HeaderCodec().encode({ tags: [1] })))), 'EVM_BAD_REQUEST'],
] as const) {
  test(`bad input: ${name} → ERROR ${code}, connection closed, shard keeps serving`, async () => {
    const c = await RawClient.open(port);
    c.write(bytes);
    await expectFatal(c, code);
    await assertServing();
  });
}

test('bad input fed one byte at a time is detected the same way', async () => {
  const c = await RawClient.open(port);
  const bytes = withPreamble(hello(), rawFrame(0x77, new Uint8Array(0)));
  for (const b of bytes) { c.write(Buffer.from([b])); await new Promise((r) => setImmediate(r)); }
  await expectFatal(c, 'EVM_BAD_FRAME');
});

test('a connection silent for binary.idleTimeoutMs gets ERROR EVM_TIMEOUT and is closed', async () => {
  const c = await RawClient.hello(port);
  await expectFatal(c, 'EVM_TIMEOUT');
  await assertServing();
});

test('request-reply at frame level: REQUEST → DELIVER (request event) → REPLY(tag) → OK, REPLY to the requester', async () => {
  const responder = await RawClient.hello(port);
  responder.send(F.SUBSCRIBE, { id: 1, topic: 'rpc', group: 'svc', credit: 10 });
  await responder.next(F.SUBSCRIBED);
  const requester = await RawClient.hello(port);
  requester.send(F.REQUEST, { id: 5, topic: 'rpc', timeoutMs: 5000, event: ev('q1') }, [Buffer.from('ping')]);
  const d = await responder.next(F.DELIVER);
  const [, , , attrs] = (hdr(d).d as unknown[][])[0]!;
  assert.equal((attrs as Record<string, unknown>).id, 'q1');
  assert.equal(Buffer.from(d.data![0]!).toString(), 'ping');
  responder.send(F.REPLY, { id: 2, tag: hdr(d).tag, event: ev('r1') }, [Buffer.from('pong')]);
  assert.equal(hdr(await responder.next(F.OK)).id, 2);
  const reply = await requester.next(F.REPLY);
  assert.equal(hdr(reply).id, 5);
  assert.equal((hdr(reply).event as Record<string, unknown>).id, 'r1');
  assert.equal(Buffer.from(reply.data![0]!).toString(), 'pong');
  responder.close();
  requester.close();
});

test('client structures agreed in HELLO are used both ways', async () => {
  const structures = [['specversion', 'id', 'source', 'type', 'region']];
  const c = await RawClient.hello(port, structures);
  c.send(F.SUBSCRIBE, { id: 1, topic: 'structs', group: 'g', from: 'earliest', credit: 10 });
  await c.next(F.SUBSCRIBED);
  c.send(F.PUBLISH, { id: 2, topic: 'structs', events: [ev('1', { region: 'eu' })] }, [undefined]);
  await c.next(F.PUBLISH_ACK);
  const d = await c.next(F.DELIVER);
  assert.equal(((hdr(d).d as unknown[][])[0]![3] as Record<string, unknown>).region, 'eu');
  c.close();
});

test('drain: a connected client gets GOODBYE after in-flight work and the connection closes', async () => {
  const b = await startBroker(loadConfig({ flags: { shards: 2, storage: 'memory', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0 } }));
  const c = await RawClient.hello(b.ports.tcp!);
  c.send(F.PUBLISH, { id: 1, topic: 'd', events: [ev('1')] }, [undefined]);
  const stopped = b.stop();
  const frames: number[] = [];
  for (;;) {
    try { frames.push((await c.next()).type); } catch { break; }
  }
  await stopped;
  assert.deepEqual(frames, [F.PUBLISH_ACK, F.GOODBYE]);
});
