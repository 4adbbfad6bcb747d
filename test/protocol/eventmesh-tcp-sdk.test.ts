// The EventMesh TCP SDK (src/sdk/eventmesh-tcp.ts) against a real broker: pipelined publish
// acked by the server (T43), subscribe with explicit acks and redelivery (T56), broadcast (T63),
// request-reply (T45/T46/T54), heartbeat (T30), reconnect + resubscribe (T29).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import { EvmeshError } from '../../src/errors.js';
import type { MeshEvent } from '../../src/core/types.js';
import { EventMeshTcpClient, type EventMeshTcpClientOptions } from '../../src/sdk/eventmesh-tcp.js';

let broker: RunningBroker;
const clients: EventMeshTcpClient[] = [];
let n = 0;
const topic = () => `sdk-${process.pid}-${++n}`;

async function client(purpose: 'pub' | 'sub', group: string, extra: Partial<EventMeshTcpClientOptions> = {}): Promise<EventMeshTcpClient> {
  const c = await EventMeshTcpClient.connect({ port: broker.ports.tcp!, userAgent: { group, purpose, subsystem: '5023', idc: 'FT' }, reconnectDelayMs: { min: 20, max: 200 }, ...extra });
  clients.push(c);
  return c;
}

const event = (data: unknown, extra: Record<string, string | number | boolean> = {}): MeshEvent => ({
  attributes: { specversion: '1.0', id: `e${++n}`, source: '/sdk', type: 'test', datacontenttype: 'application/json', ...extra },
  data: Buffer.from(JSON.stringify(data)),
});
const json = (ev: MeshEvent): unknown => JSON.parse(Buffer.from(ev.data!).toString());

function collector(count: number) {
  const got: MeshEvent[] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => { done = r; });
  return { got, all, add(ev: MeshEvent) { got.push(ev); if (got.length === count) done(); } };
}

before(async () => {
  broker = await startBroker(loadConfig({
    flags: { shards: 2, storage: 'memory', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, host: '127.0.0.1', 'delivery.ackTimeoutMs': 300 },
  }), { log: () => {} });
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await broker?.stop();
});

test('SDK: 200 pipelined publishes resolve on their ACKs (T43) and reach a subscriber that acks each push (T56)', async () => {
  const t = topic();
  const sub = await client('sub', 'sdkG1');
  const c = collector(200);
  await sub.subscribe(t, {}, (ev, ack) => { ack(); c.add(ev); });
  const pub = await client('pub', 'sdkP', { maxInflight: 16 });
  await Promise.all(Array.from({ length: 200 }, (_, i) => pub.publish(t, event({ i }))));
  await c.all;
  assert.deepEqual(new Set(c.got.map((e) => (json(e) as { i: number }).i)).size, 200);
  assert.equal(c.got[0]!.attributes.subject, t);
});

test('SDK: a failed publish rejects with the server\'s error code (T41)', async () => {
  const pub = await client('pub', 'sdkP');
  await assert.rejects(pub.publish('bad topic!', event(1)), (e: EvmeshError) => e instanceof EvmeshError && e.code === 'EVM_BAD_TOPIC');
  await assert.rejects(pub.publish(topic(), { attributes: { specversion: '1.0', id: '', source: '/', type: 't' } }), (e: EvmeshError) => e.code === 'EVM_BAD_EVENT');
  await pub.ping();
});

test('SDK: publishBatch pipelines more events than maxInflight and resolves when all are ACKed (T43); a bad event rejects it with its code, the others are stored', async () => {
  const t = topic();
  const sub = await client('sub', 'sdkBatch');
  const c = collector(301);
  await sub.subscribe(t, {}, (ev, ack) => { ack(); c.add(ev); });
  const pub = await client('pub', 'sdkP', { maxInflight: 16 });
  await pub.publishBatch(t, Array.from({ length: 300 }, (_, i) => event({ i })));
  const mixed = [event('ok'), { attributes: { specversion: '1.0', id: '', source: '/', type: 't' } }];
  await assert.rejects(pub.publishBatch(t, mixed), (e: EvmeshError) => e.code === 'EVM_BAD_EVENT');
  await c.all;
  assert.equal(new Set(c.got.map((e) => JSON.stringify(json(e)))).size, 301);
  await pub.publishBatch(t, []);
});

test('SDK: a push that is not acked is redelivered (real acks, unlike upstream T58)', async () => {
  const t = topic();
  const sub = await client('sub', 'sdkRedeliver');
  const seen: string[] = [];
  let resolve!: () => void;
  const acked = new Promise<void>((r) => { resolve = r; });
  await sub.subscribe(t, {}, (ev, ack) => {
    seen.push(String(ev.attributes.id));
    if (seen.length === 2) { ack(); resolve(); }
  });
  const pub = await client('pub', 'sdkP');
  await pub.publish(t, event('once'));
  await acked;
  assert.equal(seen[0], seen[1]);
});

test('SDK: BROADCASTING subscribers of one group each get every event (T63)', async () => {
  const t = topic();
  const cs = [collector(3), collector(3)];
  for (const c of cs) {
    const sub = await client('sub', 'sdkBroadcast');
    await sub.subscribe(t, { mode: 'BROADCASTING' }, (ev, ack) => { ack(); c.add(ev); });
  }
  const pub = await client('pub', 'sdkP');
  for (let i = 0; i < 3; i++) await pub.publish(t, event(i), { broadcast: true });
  await Promise.all(cs.map((c) => c.all));
});

test('SDK: request-reply through a SYNC subscriber (T45/T46/T54)', async () => {
  const t = topic();
  const responder = await client('sub', 'sdkRR');
  await responder.subscribe(t, { type: 'SYNC' }, (ev, _ack, ctx) => {
    ctx.reply!(event({ echo: json(ev) }, { subject: t }));
  });
  const requester = await client('pub', 'sdkP');
  const reply = await requester.request(t, event({ q: 42 }), 5000);
  assert.deepEqual(json(reply), { echo: { q: 42 } });
  await assert.rejects(requester.request(topic(), event(1), 200), (e: EvmeshError) => e.code === 'EVM_TIMEOUT');
});

test('SDK: after a lost connection the client reconnects, says HELLO, resubscribes and LISTENs again (T29)', async () => {
  const t = topic();
  const errors: EvmeshError[] = [];
  const sub = await client('sub', 'sdkReconnect', { onError: (e) => errors.push(e) });
  const c = collector(2);
  await sub.subscribe(t, {}, (ev, ack) => { ack(); c.add(ev); });
  const pub = await client('pub', 'sdkP');
  await pub.publish(t, event('before'));
  (sub as unknown as { socket: import('node:net').Socket }).socket.destroy(); // simulate a network failure
  // Publishing continues; the event waits in the group until the subscriber is back.
  await pub.publish(t, event('after'));
  await c.all;
  assert.deepEqual(c.got.map(json).sort(), ['after', 'before']);
  assert.ok(errors.some((e) => e.code === 'EVM_UNAVAILABLE'));
});

test('SDK: a refused HELLO rejects connect (T27) and does not retry', async () => {
  await assert.rejects(
    EventMeshTcpClient.connect({ port: broker.ports.tcp!, userAgent: { group: ' ', purpose: 'pub' } }),
    (e: EvmeshError) => e.code === 'EVM_BAD_REQUEST',
  );
});
