// The sharded runtime end to end, in process: startBroker with 2 worker-thread shards, the
// main-thread client publishing and subscribing across them, the admin API over real HTTP,
// group rebalance, redelivery/DLQ and replay through real rings, and a shard crash + restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import { ownerOf } from '../../src/core/partitioner.js';
import type { Delivery, MeshEvent } from '../../src/core/types.js';
import { cloudEvent, httpJson } from '../helpers/http.js';

const crashPlugin = new URL('./fixtures/crash-plugin.ts', import.meta.url).href;

function ev(id: string, extra: Record<string, string | number | boolean> = {}): MeshEvent {
  return { attributes: { specversion: '1.0', id, source: '/t', type: 't', ...extra }, data: Buffer.from(id) };
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('broker: ports', () => {
  it('refuses a TCP port another process holds (SO_REUSEPORT would silently share it)', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen({ host: '127.0.0.1', port: 0 }, r));
    const port = (holder.address() as AddressInfo).port;
    try {
      const config = loadConfig({ flags: { shards: 1, storage: 'memory', host: '127.0.0.1', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': port, 'ports.http': 0, 'ports.grpc': 0 } });
      await assert.rejects(startBroker(config), (err: Error & { code?: string }) => err.code === 'EVM_UNAVAILABLE' && /EADDRINUSE/.test(err.message) && err.message.includes(String(port)));
    } finally {
      holder.close();
    }
  });
});

describe('broker: 2 shards, embedded log', () => {
  let dir: string;
  let broker: RunningBroker;
  const logs: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evmesh-broker-'));
    const config = loadConfig({ flags: { shards: 2, dataDir: dir, 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, 'delivery.ackTimeoutMs': 300, 'delivery.maxAttempts': 2, 'topics.defaultPartitions': 4 } });
    broker = await startBroker(config, { plugins: [{ url: crashPlugin, options: { markerDir: dir } }], log: (l) => logs.push(l) });
  });
  after(async () => {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes across both shards and delivers every event once to a CLUSTERING group', async () => {
    const client = broker.client();
    await client.createTopic('orders', 4);
    const owners = new Set([0, 1, 2, 3].map((p) => ownerOf('orders', p, 2)));
    assert.equal(owners.size, 2, 'partitions of the topic live on both shards');
    const got: Delivery[] = [];
    const sub = await client.subscribe({ topic: 'orders', group: 'g1', from: 'earliest' }, (d) => { got.push(d); d.ack(); });
    // One call's unkeyed events share a partition; the main thread's calls round robin over all.
    const results = [];
    for (let k = 0; k < 4; k++) results.push(...await client.publishBatch('orders', Array.from({ length: 50 }, (_, i) => ev(`o${k}.${i}`))));
    assert.equal(new Set(results.map((r) => r.partition)).size, 4, 'round robin uses every partition');
    await until(() => got.length >= 200, '200 deliveries');
    assert.deepEqual(new Set(got.map((d) => d.event.attributes.id)).size, 200);
    await sub.close();
  });

  it('rebalances a group when a member leaves: its unacked events reach the other member', async () => {
    const client = broker.client();
    await client.createTopic('rebal', 4);
    const a: Delivery[] = [];
    const b: Delivery[] = [];
    const subA = await client.subscribe({ topic: 'rebal', group: 'g', from: 'earliest' }, (d) => a.push(d)); // never acks
    const subB = await client.subscribe({ topic: 'rebal', group: 'g', from: 'earliest' }, (d) => { b.push(d); d.ack(); });
    await client.publishBatch('rebal', Array.from({ length: 40 }, (_, i) => ev(`r${i}`)));
    await until(() => a.length + b.length >= 40, 'first deliveries');
    assert.ok(a.length > 0, 'member A received some events');
    const heldByA = new Set(a.map((d) => d.event.attributes.id));
    await subA.close();
    await until(() => [...heldByA].every((id) => b.some((d) => d.event.attributes.id === id)), 'A\'s events redelivered to B');
    await subB.close();
  });

  it('redelivers after the ack timeout, then dead-letters after maxAttempts', async () => {
    const client = broker.client();
    await client.createTopic('flaky', 1);
    const attempts: number[] = [];
    const sub = await client.subscribe({ topic: 'flaky', group: 'dl', from: 'earliest' }, (d) => attempts.push(d.attempt));
    await client.publish('flaky', ev('f1', { partitionkey: 'k' }));
    await until(() => attempts.length >= 2, 'two attempts');
    assert.deepEqual(attempts.slice(0, 2), [1, 2]);
    const dlq: Delivery[] = [];
    const dsub = await client.subscribe({ topic: 'flaky.dl.DLQ', group: 'ops', from: 'earliest' }, (d) => { dlq.push(d); d.ack(); });
    await until(() => dlq.length >= 1, 'the dead-lettered event');
    assert.equal(dlq[0]!.event.attributes.id, 'f1');
    await sub.close();
    await dsub.close();
  });

  it('replays a partition from an offset and from a timestamp', async () => {
    const client = broker.client();
    await client.createTopic('replay', 1);
    const first = await client.publishBatch('replay', [ev('p0'), ev('p1'), ev('p2')]);
    await new Promise((r) => setTimeout(r, 20));
    const t = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    await client.publishBatch('replay', [ev('p3'), ev('p4')]);
    const fromOffset: string[] = [];
    const s1 = await client.subscribe({ topic: 'replay', group: 'r1', from: { offset: first[1]!.offset }, replay: true }, (d) => { fromOffset.push(String(d.event.attributes.id)); d.ack(); });
    await until(() => fromOffset.length >= 4, 'replay from offset');
    assert.deepEqual(fromOffset, ['p1', 'p2', 'p3', 'p4']);
    const fromTime: string[] = [];
    const s2 = await client.subscribe({ topic: 'replay', group: 'r2', from: { timestamp: t }, replay: true }, (d) => { fromTime.push(String(d.event.attributes.id)); d.ack(); });
    await until(() => fromTime.length >= 2, 'replay from timestamp');
    assert.deepEqual(fromTime, ['p3', 'p4']);
    await s1.close();
    await s2.close();
  });

  it('request-reply through the owner shard: the reply reaches the requester; no reply → EVM_TIMEOUT', async () => {
    const client = broker.client();
    await client.createTopic('rpc', 2);
    const server = await client.subscribe({ topic: 'rpc', group: 'server', from: 'latest' }, (d) => {
      void client.reply(d, { attributes: { specversion: '1.0', id: `re-${String(d.event.attributes.id)}`, source: '/server', type: 'reply' }, data: Buffer.from(`echo ${Buffer.from(d.event.data!).toString()}`) });
    });
    const reply = await client.request('rpc', ev('q1'), 5000);
    assert.equal(reply.attributes.id, 're-q1');
    assert.equal(Buffer.from(reply.data!).toString(), 'echo q1');
    await server.close();
    await client.createTopic('rpc-silent', 1);
    await assert.rejects(client.request('rpc-silent', ev('q2'), 200), { code: 'EVM_TIMEOUT' });
  });

  it('serves the admin API: health, status, topics, publish and pull over HTTP', async () => {
    const port = broker.ports.admin!;
    assert.deepEqual((await httpJson(port, 'GET', '/health')).body, { status: 'UP' });
    const created = await httpJson(port, 'POST', '/topics', { name: 'web', partitions: 2 });
    assert.equal(created.status, 201);
    const pub = await httpJson(port, 'POST', '/topics/web/events', cloudEvent('w1', { partitionkey: 'x', n: 7 }));
    assert.equal(pub.status, 201);
    assert.equal(pub.body.topic, 'web');
    const pulled = await httpJson(port, 'GET', '/topics/web/events?group=reader&from=earliest&max=10&waitMs=2000');
    assert.equal(pulled.status, 200);
    assert.equal(pulled.body.events.length, 1);
    assert.deepEqual(pulled.body.events[0].event, { ...cloudEvent('w1', { partitionkey: 'x', n: 7 }) });
    const again = await httpJson(port, 'GET', '/topics/web/events?group=reader&max=10&waitMs=200');
    assert.equal(again.body.events.length, 0, 'acked events are not pulled twice');
    const topics = await httpJson(port, 'GET', '/topics');
    assert.ok(topics.body.some((t: { name: string }) => t.name === 'web'));
    const status = await httpJson(port, 'GET', '/status');
    assert.equal(status.body.shards, 2);
    // Bad input: catalog errors with fitting statuses.
    const bad = await httpJson(port, 'POST', '/topics/web/events', { id: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'EVM_BAD_EVENT');
    assert.equal((await httpJson(port, 'POST', '/topics/bad%20name/events', cloudEvent('y'))).body.code, 'EVM_BAD_TOPIC');
    assert.equal((await httpJson(port, 'POST', '/topics', '{nope')).status, 400);
    assert.equal((await httpJson(port, 'GET', '/nowhere')).status, 404);
    // Limits: an event over limits.maxEventBytes, and a body over the admin body limit.
    const big = await httpJson(port, 'POST', '/topics/web/events', cloudEvent('big', { datacontenttype: 'text/plain', data: 'x'.repeat(4 * 1024 * 1024 + 1) }));
    assert.equal(big.status, 413);
    assert.equal(big.body.code, 'EVM_TOO_LARGE');
    const huge = await httpJson(port, 'POST', '/topics/web/events', '"' + 'y'.repeat(7 * 1024 * 1024) + '"');
    assert.equal(huge.status, 413);
    assert.equal(huge.body.code, 'EVM_TOO_LARGE');
    assert.equal((await httpJson(port, 'GET', '/topics/web/events?group=reader&max=0')).status, 400);
    assert.equal((await httpJson(port, 'GET', '/topics/web/events?group=reader&from=yesterday')).status, 400);
    assert.equal((await httpJson(port, 'GET', '/topics/web/events')).body.code, 'EVM_BAD_REQUEST');
    // The broker still serves after all of that.
    assert.equal((await httpJson(port, 'GET', '/health')).status, 200);
  });

  it('carries events larger than a ring record (3 MiB) across shards, and refuses one over limits.maxEventBytes', async () => {
    const client = broker.client();
    await client.createTopic('big', 2);
    const data = Uint8Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7) & 0xff);
    const got: Delivery[] = [];
    const sub = await client.subscribe({ topic: 'big', group: 'g', from: 'earliest' }, (d) => { got.push(d); d.ack(); });
    await client.publishBatch('big', [{ ...ev('b1'), data }, { ...ev('b2', { partitionkey: 'other' }), data }]);
    await until(() => got.length >= 2, 'both big events');
    for (const d of got) assert.deepEqual(Buffer.compare(Buffer.from(d.event.data!), Buffer.from(data)), 0);
    await assert.rejects(client.publish('big', { ...ev('b3'), data: new Uint8Array(4 * 1024 * 1024 + 1) }), { code: 'EVM_TOO_LARGE' });
    await sub.close();
  });

  it('answers shard queries from every shard; an unknown query is an error answer, not a rejection', async () => {
    const stats = await broker.queryShards('core.stats');
    assert.deepEqual(stats.map((a) => a.shard), [0, 1]);
    for (const a of stats) assert.equal(a.error, undefined, JSON.stringify(a));
    const unknown = await broker.queryShards('no.such.query');
    for (const a of unknown) assert.equal(a.error?.code, 'EVM_UNSUPPORTED');
  });

  it('restarts a crashed shard; acknowledged data survives and traffic flows again', async () => {
    const client = broker.client();
    await client.createTopic('durable', 4);
    const before = await client.publishBatch('durable', Array.from({ length: 20 }, (_, i) => ev(`d${i}`)));
    assert.equal(before.length, 20);
    await client.publish('poison', ev('boom', { type: 'crash', shard: 1 }));
    await until(() => logs.some((l) => /shard 1/.test(l)), 'the crash to be logged');
    // The restarted shard serves its partitions again, with everything acknowledged before.
    const got = new Set<string>();
    const sub = await client.subscribe({ topic: 'durable', group: 'after-crash', from: 'earliest' }, (d) => { got.add(String(d.event.attributes.id)); d.ack(); });
    await until(() => got.size >= 20, 'all 20 pre-crash events', 20_000);
    await client.publishBatch('durable', Array.from({ length: 20 }, (_, i) => ev(`n${i}`)));
    await until(() => got.size >= 40, 'post-crash events', 20_000);
    await sub.close();
  });
});
