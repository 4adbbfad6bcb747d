// Topic deletion on the admin port (issue 5 item 6; docs/admin.md "Deleting a topic") and on the
// HTTP port (H37 /eventmesh/topic/delete), end to end over real sockets with 2 shards: log
// storage (files gone, a restart does not resurrect the topic, a crash-safe rename), memory,
// Kafka (the real broker of scripts/services.sh), the protected names, unknown topics, deletion
// while subscribed (409) and publish after delete; upstream GET /topic's messageCount.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import type { Delivery, MeshEvent } from '../../src/core/types.js';
import { EvmeshClient } from '../../src/sdk/evmesh-client.js';
import { httpJson } from '../helpers/http.js';
import { deleteKafkaTopics, kafkaUp, uniquePrefix } from '../helpers/kafka.js';
import { send, sink } from '../protocol/http-helpers.js';

const FLAGS = { shards: 2, host: '127.0.0.1', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0 };
const start = (flags: Record<string, unknown>): Promise<RunningBroker> => startBroker(loadConfig({ flags: { ...FLAGS, ...flags } }), { log: () => {} });

function ev(id: string): MeshEvent {
  return { attributes: { specversion: '1.0', id, source: '/admin-topics', type: 't' }, data: Buffer.from(id) };
}

/** Publishes `n` events, one call each (so the main thread spreads them round robin over every
 *  partition, partitioner.ts); returns the highest offset. */
async function publish(b: RunningBroker, topic: string, n: number, tag: string): Promise<number> {
  let max = -1;
  for (let i = 0; i < n; i++) max = Math.max(max, (await b.client().publish(topic, ev(`${tag}-${i}`))).offset);
  return max;
}

/** Consumes `n` events of the group from the earliest offset, acks them and leaves (the group's
 *  offsets are committed on leave). */
async function consume(b: RunningBroker, topic: string, group: string, n: number): Promise<string[]> {
  const got: Delivery[] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => { done = r; });
  const sub = await b.client().subscribe({ topic, group, from: 'earliest' }, (d) => { got.push(d); d.ack(); if (got.length === n) done(); });
  await Promise.race([all, new Promise((_, j) => setTimeout(() => j(new Error(`${group}: ${got.length} of ${n} events`)), 10_000))]);
  await sub.close();
  return got.map((d) => String(d.event.attributes.id));
}

const names = async (b: RunningBroker): Promise<string[]> => (await httpJson(b.ports.admin!, 'GET', '/topics')).body.map((t: { name: string }) => t.name);

describe('admin topic deletion: log storage', () => {
  let dataDir: string;
  let broker: RunningBroker;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'evmesh-admin-topics-'));
    broker = await start({ storage: 'log', dataDir });
  });
  after(async () => {
    await broker?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('DELETE /topics/{t}: every shard lets go, the files and the group offsets are gone, a restart does not resurrect it', async () => {
    const admin = broker.ports.admin!;
    assert.equal((await httpJson(admin, 'POST', '/topics', { name: 'doomed', partitions: 4 })).status, 201);
    assert.deepEqual((await httpJson(admin, 'GET', '/topics/doomed')).body.partitions, 4);
    await publish(broker, 'doomed', 20, 'old');
    assert.equal((await consume(broker, 'doomed', 'g1', 20)).length, 20);
    const del = await httpJson(admin, 'DELETE', '/topics/doomed');
    assert.deepEqual([del.status, del.body], [200, { name: 'doomed', deleted: true }]);
    assert.ok(!(await names(broker)).includes('doomed'));
    const gone = await httpJson(admin, 'GET', '/topics/doomed');
    assert.deepEqual([gone.status, gone.body.code], [404, 'EVM_UNKNOWN_TOPIC']);
    await assert.rejects(stat(join(dataDir, 'topics', 'doomed')), { code: 'ENOENT' });
    assert.deepEqual(await readdir(join(dataDir, 'trash')), []);

    // Publish after delete recreates it fresh (topics.autoCreate): offsets restart at 0, and g1's
    // committed offsets went with the old topic (it reads the new event from the start).
    assert.equal(await publish(broker, 'doomed', 1, 'new'), 0);
    assert.deepEqual(await consume(broker, 'doomed', 'g1', 1), ['new-0']);
    assert.equal((await httpJson(admin, 'DELETE', '/topics/doomed')).status, 200);

    await broker.stop();
    broker = await start({ storage: 'log', dataDir });
    assert.ok(!(await names(broker)).includes('doomed'));
    await assert.rejects(stat(join(dataDir, 'topics', 'doomed')), { code: 'ENOENT' });
  });

  it('upstream DELETE /topic (H51): name from a form, JSON or the query; empty text answer', async () => {
    const admin = broker.ports.admin!;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    for (const [how, req] of [
      ['form', () => send(admin, 'DELETE', '/topic', form, 'name=up1')],
      ['query', () => send(admin, 'DELETE', '/topic?name=up2', {})],
      ['json', () => send(admin, 'DELETE', '/topic', { 'content-type': 'application/json' }, '{"name":"up3"}')],
    ] as const) {
      const name = { form: 'up1', query: 'up2', json: 'up3' }[how];
      assert.equal((await send(admin, 'POST', '/topic', form, `name=${name}`)).status, 200);
      const r = await req();
      assert.deepEqual([r.status, r.text], [200, ''], how);
      assert.ok(!(await names(broker)).includes(name), how);
    }
    const missing = await send(admin, 'DELETE', '/topic', {});
    assert.deepEqual([missing.status, missing.json.code], [400, 'EVM_BAD_REQUEST']);
    const unknown = await send(admin, 'DELETE', '/topic?name=never-was', {});
    assert.deepEqual([unknown.status, unknown.json.code], [404, 'EVM_UNKNOWN_TOPIC']);
  });

  it('unknown, malformed and protected names: 404, 400, 403 with the catalog error; nothing is deleted', async () => {
    const admin = broker.ports.admin!;
    const unknown = await httpJson(admin, 'DELETE', '/topics/never-was');
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'EVM_UNKNOWN_TOPIC']);
    for (const bad of ['a%20b', '%E0%A4%A', 'a%2Fb']) {
      const r = await httpJson(admin, 'DELETE', `/topics/${bad}`);
      assert.deepEqual([r.status, r.body.code], [400, 'EVM_BAD_TOPIC'], bad);
    }
    // The subscription registry (internal) and a dead-letter topic ({topic}.{group}.DLQ).
    await httpJson(admin, 'POST', '/topics', { name: 'orders.g1.DLQ', partitions: 1 });
    for (const name of ['__evmesh.subscriptions', 'orders.g1.DLQ']) {
      const r = await httpJson(admin, 'DELETE', `/topics/${name}`);
      assert.deepEqual([r.status, r.body.code], [403, 'EVM_FORBIDDEN'], name);
      assert.ok((await names(broker)).includes(name), name);
    }
  });

  it('refuses with 409 EVM_CONFLICT while the topic has subscribers (naming their groups); the subscription keeps working; after it ends the delete succeeds', async () => {
    const admin = broker.ports.admin!;
    const s = await sink(() => ({ status: 200 }));
    try {
      await httpJson(admin, 'POST', '/topics', { name: 'busy', partitions: 4 });
      const created = await httpJson(admin, 'POST', '/subscriptions', { topic: 'busy', url: s.url, group: 'busy-hook', from: 'earliest' });
      assert.equal(created.status, 201);
      // Both shards run the webhook subscription once they applied the registry entry.
      const live = async (): Promise<boolean> => (await httpJson(admin, 'GET', '/clients')).body.webhooks.some((w: { id: string; shards: unknown[] }) => w.id === created.body.id && w.shards.length === 2);
      for (let i = 0; i < 100 && !(await live()); i++) await new Promise((r) => setTimeout(r, 50));
      const refused = await httpJson(admin, 'DELETE', '/topics/busy');
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'EVM_CONFLICT');
      assert.match(refused.body.message, /busy-hook/);
      assert.ok((await names(broker)).includes('busy'));
      await publish(broker, 'busy', 4, 'still');
      await s.waitFor(4);
      assert.equal((await httpJson(admin, 'DELETE', `/subscriptions/${created.body.id as string}`)).status, 200);
      // The shards end the webhook's members asynchronously: 409 until they did.
      let del = await httpJson(admin, 'DELETE', '/topics/busy');
      for (let i = 0; i < 100 && del.status === 409; i++) {
        await new Promise((r) => setTimeout(r, 50));
        del = await httpJson(admin, 'DELETE', '/topics/busy');
      }
      assert.equal(del.status, 200);
      assert.ok(!(await names(broker)).includes('busy'));
    } finally {
      await s.close();
    }
  });

  // H37 on the HTTP port: the handler runs in a shard, which asks the controller (main thread)
  // to delete cluster-wide, with the admin port's semantics and upstream's answer shapes.
  const h37 = (topic: string) => send(broker.ports.http!, 'POST', '/eventmesh/topic/delete', { 'content-type': 'application/json' }, JSON.stringify({ topic }));

  it('H37 POST /eventmesh/topic/delete: deletes cluster-wide (the log files are gone), `a;b` deletes both, upstream\'s success body', async () => {
    const admin = broker.ports.admin!;
    for (const t of ['h37-a', 'h37-b']) {
      await httpJson(admin, 'POST', '/topics', { name: t, partitions: 4 });
      await publish(broker, t, 8, t);
    }
    assert.equal((await consume(broker, 'h37-a', 'g-h37', 8)).length, 8);
    const r = await h37('h37-a;h37-b');
    assert.deepEqual([r.status, r.json], [200, { retCode: 0, retMessage: 'success' }]);
    assert.equal(r.headers.requesturi, '/eventmesh/topic/delete');
    for (const t of ['h37-a', 'h37-b']) {
      assert.ok(!(await names(broker)).includes(t), t);
      await assert.rejects(stat(join(dataDir, 'topics', t)), { code: 'ENOENT' });
    }
    // The name starts afresh, as after DELETE /topics/{t}.
    assert.equal(await publish(broker, 'h37-a', 1, 'new'), 0);
  });

  it('H37 refusals: unknown → retCode 100 upstream\'s text and nothing deleted; protected → 22; bad name → 6; missing topic → 7; subscribed → 100 EVM_CONFLICT', async () => {
    const admin = broker.ports.admin!;
    await httpJson(admin, 'POST', '/topics', { name: 'h37-kept', partitions: 2 });
    const unknown = await h37('h37-kept;h37-never;h37-nor');
    assert.deepEqual([unknown.status, unknown.json], [200, { retCode: 100, retMsg: 'operate fail[h37-never, h37-nor] not exist in eventmesh' }]);
    assert.ok((await names(broker)).includes('h37-kept'));
    const internal = await h37('__evmesh.subscriptions');
    assert.deepEqual([internal.status, internal.json.retCode], [200, 22]);
    assert.match(internal.json.retMsg, /^EVM_FORBIDDEN: /);
    assert.ok((await names(broker)).includes('__evmesh.subscriptions'));
    assert.equal((await h37('a b')).json.retCode, 6);
    const missing = await send(broker.ports.http!, 'POST', '/eventmesh/topic/delete', { 'content-type': 'application/json' }, '{}');
    assert.equal(missing.json.retCode, 7);

    const sub = await broker.client().subscribe({ topic: 'h37-kept', group: 'h37-g' }, (d) => d.ack());
    try {
      const busy = await h37('h37-kept');
      assert.equal(busy.json.retCode, 100);
      assert.match(busy.json.retMsg, /^EVM_CONFLICT: .*h37-g/);
      assert.ok((await names(broker)).includes('h37-kept'));
    } finally {
      await sub.close();
    }
    assert.equal((await h37('h37-kept')).json.retCode, 0);
    assert.ok(!(await names(broker)).includes('h37-kept'));
  });

  it('upstream GET /topic: messageCount = records retained over every partition of every shard', async () => {
    const admin = broker.ports.admin!;
    await httpJson(admin, 'POST', '/topics', { name: 'counted', partitions: 4 });
    await httpJson(admin, 'POST', '/topics', { name: 'empty', partitions: 3 });
    await publish(broker, 'counted', 13, 'c');
    await broker.client().publishBatch('counted', [ev('b1'), ev('b2'), ev('b3')]);
    const list = (await httpJson(admin, 'GET', '/topic')).body as { name: string; messageCount: number | null; partitions: number }[];
    assert.deepEqual(list.find((t) => t.name === 'counted'), { name: 'counted', messageCount: 16, partitions: 4 });
    assert.deepEqual(list.find((t) => t.name === 'empty'), { name: 'empty', messageCount: 0, partitions: 3 });
    // Consuming does not remove records (retention does): the count stays.
    await consume(broker, 'counted', 'g-count', 16);
    assert.equal(((await httpJson(admin, 'GET', '/topic')).body as { name: string; messageCount: number }[]).find((t) => t.name === 'counted')!.messageCount, 16);
  });
});

describe('upstream GET /topic messageCount under log retention', () => {
  it('counts only what retention kept: published − first retained offset', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'evmesh-admin-count-'));
    const broker = await start({ storage: 'log', dataDir, 'log.segmentBytes': 4096, 'log.retentionBytes': 8192 });
    try {
      await broker.client().createTopic('kept', 1);
      for (let i = 0; i < 60; i++) await broker.client().publish('kept', { ...ev(`k-${i}`), data: Buffer.alloc(1000, i) });
      await new Promise((r) => setTimeout(r, 200)); // the last roll's retention finishes
      const count = ((await httpJson(broker.ports.admin!, 'GET', '/topic')).body as { name: string; messageCount: number }[]).find((t) => t.name === 'kept')!.messageCount;
      const first = Number(/^k-(\d+)$/.exec((await consume(broker, 'kept', 'g', 1))[0]!)![1]);
      assert.ok(first > 0, 'retention removed the oldest segments');
      assert.equal(count, 60 - first);
    } finally {
      await broker.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('admin topic deletion: publishes racing it (log storage, topics.autoCreate off)', () => {
  it('each racing publish is acked before the deletion or fails with EVM_UNKNOWN_TOPIC; no shard recreates the files; the name starts fresh', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'evmesh-admin-race-'));
    const broker = await start({ storage: 'log', dataDir, 'topics.autoCreate': false });
    try {
      await broker.client().createTopic('race', 4);
      const outcomes: string[] = [];
      let deleted = false;
      const publishing = (async () => {
        for (let i = 0; !deleted || i % 10 !== 0; i++) {
          await broker.client().publishBatch('race', [ev(`r${i}`), ev(`r${i}b`)]).then(
            () => outcomes.push('acked'),
            (err: { code?: string }) => outcomes.push(String(err.code)),
          );
          if (i > 10_000) break;
        }
      })();
      await new Promise((r) => setTimeout(r, 50));
      const del = await httpJson(broker.ports.admin!, 'DELETE', '/topics/race');
      deleted = true;
      await publishing;
      assert.equal(del.status, 200);
      assert.ok(outcomes.includes('acked'));
      assert.deepEqual([...new Set(outcomes)].sort(), ['EVM_UNKNOWN_TOPIC', 'acked']);
      assert.equal(outcomes.lastIndexOf('acked') < outcomes.indexOf('EVM_UNKNOWN_TOPIC'), true, 'no ack after the first failure');
      await assert.rejects(stat(join(dataDir, 'topics', 'race')), { code: 'ENOENT' });
      await broker.client().createTopic('race', 4);
      const fresh = await broker.client().publishBatch('race', Array.from({ length: 8 }, (_, i) => ev(`f${i}`)));
      // One call's unkeyed events share one partition (partitioner.ts), empty again.
      assert.deepEqual(fresh.map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await broker.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('admin topic deletion: memory storage', () => {
  let broker: RunningBroker;
  before(async () => { broker = await start({ storage: 'memory' }); });
  after(async () => { await broker?.stop(); });

  it('the shards drop the records they held: a publish after delete starts at offset 0 in every partition', async () => {
    const admin = broker.ports.admin!;
    await httpJson(admin, 'POST', '/topics', { name: 'mem', partitions: 4 });
    assert.ok(await publish(broker, 'mem', 40, 'old') >= 9);
    assert.equal((await httpJson(admin, 'GET', '/topic')).body.find((t: { name: string }) => t.name === 'mem').messageCount, 40);
    assert.equal((await httpJson(admin, 'DELETE', '/topics/mem')).status, 200);
    assert.ok(!(await names(broker)).includes('mem'));
    await httpJson(admin, 'POST', '/topics', { name: 'mem', partitions: 2 });
    assert.equal(await publish(broker, 'mem', 2, 'new'), 0);
    assert.deepEqual((await consume(broker, 'mem', 'g', 2)).sort(), ['new-0', 'new-1']);
  });

  it('create, inspect, list: idempotent create, 409 on another partition count, 400 on bad input', async () => {
    const admin = broker.ports.admin!;
    const c1 = await httpJson(admin, 'POST', '/topics', { name: 'shape', partitions: 3 });
    assert.deepEqual([c1.status, c1.body], [201, { name: 'shape', partitions: 3 }]);
    assert.equal((await httpJson(admin, 'POST', '/topics', { name: 'shape', partitions: 3 })).status, 201);
    const other = await httpJson(admin, 'POST', '/topics', { name: 'shape', partitions: 5 });
    assert.deepEqual([other.status, other.body.code], [409, 'EVM_TOPIC_EXISTS']);
    for (const bad of [{ name: 'a b' }, { name: 'ok', partitions: 0 }, { name: 'ok', partitions: 1.5 }, { partitions: 1 }]) {
      const r = await httpJson(admin, 'POST', '/topics', bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.match(r.body.code, /^EVM_BAD_(TOPIC|REQUEST)$/);
    }
    const one = (await httpJson(admin, 'GET', '/topics/shape')).body;
    assert.deepEqual([one.name, one.partitions, typeof one.createdAt], ['shape', 3, 'number']);
    assert.deepEqual((await httpJson(admin, 'GET', '/topics')).body.find((t: { name: string }) => t.name === 'shape'), one);
    assert.deepEqual((await httpJson(admin, 'GET', '/topic')).body.find((t: { name: string }) => t.name === 'shape'), { name: 'shape', messageCount: 0, partitions: 3 });
  });

  it('a binary-protocol TCP subscriber (on one shard) blocks the delete (409); once it left, the delete succeeds', async () => {
    const admin = broker.ports.admin!;
    const tcp = await EvmeshClient.connect({ host: '127.0.0.1', port: broker.ports.tcp!, reconnect: false });
    try {
      const sub = await tcp.subscribe({ topic: 'tcp-held', group: 'tcp-g' }, (d) => d.ack());
      const r = await httpJson(admin, 'DELETE', '/topics/tcp-held');
      assert.deepEqual([r.status, r.body.code], [409, 'EVM_CONFLICT']);
      assert.match(r.body.message, /tcp-g/);
      await sub.close();
      assert.equal((await httpJson(admin, 'DELETE', '/topics/tcp-held')).status, 200);
    } finally {
      await tcp.close();
    }
  });

  it('a subscriber on the main thread also blocks the delete (409); the refused topic keeps its records', async () => {
    const admin = broker.ports.admin!;
    const sub = await broker.client().subscribe({ topic: 'held', group: 'main-g' }, (d) => d.ack());
    await publish(broker, 'held', 6, 'kept');
    try {
      const r = await httpJson(admin, 'DELETE', '/topics/held');
      assert.deepEqual([r.status, r.body.code], [409, 'EVM_CONFLICT']);
      assert.match(r.body.message, /main-g/);
    } finally {
      await sub.close();
    }
    assert.equal((await consume(broker, 'held', 'other', 6)).length, 6);
    assert.equal((await httpJson(admin, 'DELETE', '/topics/held')).status, 200);
  });
});

describe('admin topic deletion: kafka storage', () => {
  const brokers = kafkaUp();
  const prefix = uniquePrefix('admdel');
  let broker: RunningBroker;
  before(async () => {
    broker = await start({ storage: 'kafka', 'kafka.brokers': brokers, 'kafka.prefix': prefix, 'kafka.lingerMs': 1 });
  });
  after(async () => {
    await broker?.stop();
    await deleteKafkaTopics(brokers, [prefix]);
  });

  const kafkaTopics = (): string[] => execFileSync('kcat', ['-b', brokers, '-L', '-J'], { encoding: 'utf8', timeout: 30_000 })
    .trim().split('\n').flatMap((l) => (JSON.parse(l) as { topics: { topic: string }[] }).topics.map((t) => t.topic));

  it('DeleteTopics through the controller: the topic is gone from Kafka\'s metadata; a publish after delete starts fresh', async () => {
    const admin = broker.ports.admin!;
    await httpJson(admin, 'POST', '/topics', { name: 'kdel', partitions: 3 });
    assert.ok(await publish(broker, 'kdel', 9, 'old') >= 2);
    // messageCount from Kafka's watermarks (high − low), asked on the main thread.
    assert.equal((await httpJson(admin, 'GET', '/topic')).body.find((t: { name: string }) => t.name === 'kdel').messageCount, 9);
    assert.ok(kafkaTopics().includes(`${prefix}kdel`));
    assert.equal((await httpJson(admin, 'DELETE', '/topics/kdel')).status, 200);
    assert.ok(!kafkaTopics().includes(`${prefix}kdel`));
    assert.ok(!(await names(broker)).includes('kdel'));
    assert.equal(await publish(broker, 'kdel', 1, 'new'), 0);
    assert.deepEqual(await consume(broker, 'kdel', 'g', 1), ['new-0']);
  });
});
