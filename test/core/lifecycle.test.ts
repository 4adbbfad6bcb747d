import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cluster, FakeClock, ev, settle, until } from './harness.js';
import type { Delivery, MeshEvent } from '../../src/core/types.js';
import { ownerOf } from '../../src/core/partitioner.js';

test('request-reply: the reply comes from another node straight to the requester', async () => {
  const c = await Cluster.start({ shards: 2 });
  try {
    await c.client(1).subscribe({ topic: 'rpc', group: 'server' }, (d) => {
      void c.client(1).reply(d, ev(`re-${String(d.event.attributes.id)}`, {}, `pong ${new TextDecoder().decode(d.event.data)}`));
    });
    const reply = await c.client(2).request('rpc', ev('q1', {}, 'ping'), 5000);
    assert.equal(reply.attributes.id, 're-q1');
    assert.equal(new TextDecoder().decode(reply.data), 'pong ping');
    assert.equal(typeof reply.attributes.correlationid, 'string');
    // the request carried the extensions
    const seen: MeshEvent[] = [];
    await c.client(0).subscribe({ topic: 'rpc', group: 'spy', from: 'earliest' }, (d) => { seen.push(d.event); d.ack(); });
    await until(() => seen.length === 1, 3000, 'spy');
    assert.equal(seen[0]!.attributes.replyto, 'evmesh-node-2');
    assert.equal(seen[0]!.attributes.correlationid, reply.attributes.correlationid);
  } finally { await c.close(); }
});

test('request-reply: timeout → EVM_TIMEOUT; a late reply is dropped and counted', async () => {
  const clock = new FakeClock();
  const c = await Cluster.start({ shards: 2, now: clock.now });
  try {
    const held: Delivery[] = [];
    await c.client(0).subscribe({ topic: 'rpc', group: 'server' }, (d) => { held.push(d); });
    const p = c.client(1).request('rpc', ev('q'), 500);
    await until(() => held.length === 1, 3000, 'request delivered');
    clock.advance(501);
    await assert.rejects(p, { code: 'EVM_TIMEOUT' });
    await c.client(0).reply(held[0]!, ev('late'));
    await until(() => c.cores[1]!.stats().lateReplies === 1, 3000, 'late reply counted');
  } finally { await c.close(); }
});

test('reply to a non-request delivery is EVM_BAD_REQUEST', async () => {
  const c = await Cluster.start({ shards: 1 });
  try {
    const got: Delivery[] = [];
    await c.client(0).subscribe({ topic: 't', group: 'g' }, (d) => got.push(d));
    await c.client(0).publish('t', ev('x'));
    await until(() => got.length === 1);
    await assert.rejects(c.client(0).reply(got[0]!, ev('r')), { code: 'EVM_BAD_REQUEST' });
  } finally { await c.close(); }
});

test('bad events and topics are rejected with the right codes', async () => {
  const c = await Cluster.start({ shards: 2, maxEventBytes: 200, maxBatchEvents: 3 });
  const cl = c.client(0);
  try {
    await assert.rejects(cl.publish('bad topic', ev('a')), { code: 'EVM_BAD_TOPIC' });
    await assert.rejects(cl.publish('', ev('a')), { code: 'EVM_BAD_TOPIC' });
    await assert.rejects(cl.publish('..', ev('a')), { code: 'EVM_BAD_TOPIC' });
    await assert.rejects(cl.publish('t', { attributes: { specversion: '1.0', id: 'a', source: '/s' } } as never), { code: 'EVM_BAD_EVENT', message: /"type"/ });
    await assert.rejects(cl.publish('t', { attributes: { specversion: '0.3', id: 'a', source: '/s', type: 't' } }), { code: 'EVM_BAD_EVENT', message: /specversion/ });
    await assert.rejects(cl.publish('t', ev('a', { 'Bad-Name': 'x' })), { code: 'EVM_BAD_EVENT', message: /Bad-Name/ });
    await assert.rejects(cl.publish('t', ev('a', { time: 'yesterday' })), { code: 'EVM_BAD_EVENT', message: /time/ });
    await assert.rejects(cl.publish('t', ev('a', {}, 'x'.repeat(300))), { code: 'EVM_TOO_LARGE' });
    await assert.rejects(cl.publishBatch('t', [ev('a'), ev('b'), ev('c'), ev('d')]), { code: 'EVM_TOO_LARGE' });
    await assert.rejects(cl.subscribe({ topic: 'no/pe', group: 'g' }, () => {}), { code: 'EVM_BAD_TOPIC' });
    await assert.rejects(cl.createTopic('fixed', 2).then(() => cl.createTopic('fixed', 3)), { code: 'EVM_TOPIC_EXISTS' });
    assert.deepEqual(await c.client(1).createTopic('fixed', 2), { name: 'fixed', partitions: 2 });
  } finally { await c.close(); }
});

test('unknown topic with autoCreateTopics off → EVM_UNKNOWN_TOPIC; explicit createTopic works', async () => {
  const c = await Cluster.start({ shards: 2, autoCreateTopics: false });
  try {
    await assert.rejects(c.client(0).publish('nope', ev('a')), { code: 'EVM_UNKNOWN_TOPIC' });
    await assert.rejects(c.client(2).publish('nope', ev('a')), { code: 'EVM_UNKNOWN_TOPIC' });
    await assert.rejects(c.client(1).subscribe({ topic: 'nope', group: 'g' }, () => {}), { code: 'EVM_UNKNOWN_TOPIC' });
    await c.client(1).createTopic('yes', 3);
    const r = await c.client(0).publish('yes', ev('a'));
    assert.ok(r.partition < 3);
    assert.deepEqual((await c.storages[c.controller]!.listTopics()).map((t) => t.name), ['yes']);
  } finally { await c.close(); }
});

test('pending publishes per node are bounded (EVM_OVERLOADED)', async () => {
  const c = await Cluster.start({ shards: 2, maxPendingPublishes: 5 });
  try {
    await c.client(0).createTopic('t', 4);
    const ps = Array.from({ length: 8 }, (_, i) => c.client(2).publish('t', ev(`e${i}`)).then(() => 'ok', (e) => e.code));
    const out = await Promise.all(ps);
    assert.equal(out.filter((x) => x === 'ok').length, 5);
    assert.equal(out.filter((x) => x === 'EVM_OVERLOADED').length, 3);
    assert.equal((await c.client(2).publish('t', ev('after'))).topic, 't', 'accepted again once acknowledged');
  } finally { await c.close(); }
});

test('publishBatch does one storage append per partition touched, results in input order', async () => {
  const c = await Cluster.start({ shards: 2 });
  try {
    await c.client(0).createTopic('k', 4);
    const calls: string[] = [];
    for (const s of c.storages) {
      const orig = s.append.bind(s);
      // Count appends that succeeded (a node-local MemoryStorage first answers EVM_UNKNOWN_TOPIC,
      // then core creates the topic locally and retries).
      s.append = async (topic, p, values, ts) => { const r = await orig(topic, p, values, ts); calls.push(`${topic}/${p}x${values.length}`); return r; };
    }
    const evs = Array.from({ length: 40 }, (_, i) => ev(`e${i}`, { partitionkey: `key-${i % 3}` }));
    const res = await c.client(2).publishBatch('k', evs);
    assert.equal(res.length, 40);
    const parts = new Set(res.map((r) => r.partition));
    assert.equal(calls.length, parts.size, `one append per partition: ${calls.join(' ')}`);
    for (let i = 0; i < 40; i++) for (let j = i + 1; j < 40; j++) {
      if (res[i]!.partition === res[j]!.partition) assert.ok(res[i]!.offset < res[j]!.offset, 'offsets follow input order');
    }
  } finally { await c.close(); }
});

test('partition key consistency: partitionkey, else subject, same partition every time and from every node', async () => {
  const c = await Cluster.start({ shards: 3, defaultPartitions: 8 });
  try {
    const p1 = await Promise.all([0, 1, 2, 3].map((n) => c.client(n).publish('pk', ev(`x${n}`, { partitionkey: 'customer-17' }))));
    assert.equal(new Set(p1.map((r) => r.partition)).size, 1);
    const p2 = await Promise.all([0, 1, 2, 3].map((n) => c.client(n).publish('pk', ev(`y${n}`, { subject: 'customer-17' }))));
    assert.equal(p2[0]!.partition, p1[0]!.partition, 'subject hashes like partitionkey');
    const p3 = await c.client(0).publish('pk', ev('z', { partitionkey: 'customer-17', subject: 'other' }));
    assert.equal(p3.partition, p1[0]!.partition, 'partitionkey wins over subject');
    // Kafka-compatible: murmur2("customer-17") positive % 8, cross-checked in partitioner.test.ts.
    const rr: number[] = [];
    for (let i = 0; i < 16; i++) rr.push((await c.client(1).publish('pk', ev(`r${i}`))).partition);
    // Unkeyed: shard 1 round robins over the partitions it owns (ownerOf), the controller over all.
    const owned = [0, 1, 2, 3, 4, 5, 6, 7].filter((q) => ownerOf('pk', q, 3) === 1);
    assert.deepEqual(rr, Array.from({ length: 16 }, (_, i) => owned[i % owned.length]), 'round robin per (node, topic) over its own partitions');
    const fromController: number[] = [];
    for (let i = 0; i < 8; i++) fromController.push((await c.client(3).publish('pk', ev(`c${i}`))).partition);
    assert.deepEqual(fromController, [0, 1, 2, 3, 4, 5, 6, 7], 'the controller owns none: round robin over all');
    const offsets = p1.map((r) => r.offset).sort((a, b) => a - b);
    assert.deepEqual(offsets, [offsets[0], offsets[0]! + 1, offsets[0]! + 2, offsets[0]! + 3]);
  } finally { await c.close(); }
});

test('drain rejects new publishes with EVM_SHUTTING_DOWN and completes in-flight ones', async () => {
  const c = await Cluster.start({ shards: 2 });
  try {
    await c.client(0).createTopic('d', 4);
    const inflight = Array.from({ length: 50 }, (_, i) => c.client(2).publish('d', ev(`e${i}`)));
    const drained = c.cores[2]!.drain();
    await assert.rejects(c.client(2).publish('d', ev('late')), { code: 'EVM_SHUTTING_DOWN' });
    await drained;
    const results = await Promise.all(inflight);
    assert.equal(results.length, 50);
    let total = 0;
    for (let s = 0; s < 2; s++) for (let p = 0; p < 4; p++) {
      try { total += (await c.storages[s]!.bounds('d', p)).end; } catch { /* partition not on this shard */ }
    }
    assert.equal(total, 50, 'all in-flight publishes were appended');
    // the other nodes still publish
    await c.client(0).publish('d', ev('ok'));
  } finally { await c.close(); }
});

test('drain on an owner commits consumer offsets', async () => {
  const c = await Cluster.start({ shards: 1, commitIntervalMs: 1_000_000 });
  try {
    await c.client(0).createTopic('c', 1);
    const got: Delivery[] = [];
    await c.client(1).subscribe({ topic: 'c', group: 'g' }, (d) => { got.push(d); d.ack(); });
    await c.client(1).publishBatch('c', [ev('a'), ev('b')]);
    await until(() => c.cores[0]!.stats().acked === 2, 3000, 'acks');
    assert.equal(await c.storages[0]!.fetchOffset('g', 'c', 0), 0, 'only the start position is committed yet (interval)');
    await c.cores[0]!.drain();
    assert.equal(await c.storages[0]!.fetchOffset('g', 'c', 0), 2);
  } finally { await c.close(); }
});

test('peerReset: a dead node\'s members lose their unacked events to the others', async () => {
  const c = await Cluster.start({ shards: 2 });
  try {
    await c.client(0).createTopic('p', 2);
    const onNode1: Delivery[] = [], onNode0: Delivery[] = [];
    await c.client(1).subscribe({ topic: 'p', group: 'g' }, (d) => { onNode1.push(d); });
    await c.client(1).publishBatch('p', Array.from({ length: 10 }, (_, i) => ev(`e${i}`)));
    await until(() => onNode1.length === 10, 3000, 'node 1 holds 10');
    await c.client(0).subscribe({ topic: 'p', group: 'g' }, (d) => { onNode0.push(d); d.ack(); });
    await c.restart(1);
    await until(() => onNode0.length === 10, 3000, 'node 0 gets the 10');
    assert.deepEqual(onNode0.map((d) => d.event.attributes.id).sort(), onNode1.map((d) => d.event.attributes.id).sort());
  } finally { await c.close(); }
});

test('peerReset of an owner: pending publishes fail EVM_UNAVAILABLE, members are re-announced, unacked events come back', async () => {
  const c = await Cluster.start({ shards: 2 });
  try {
    await c.client(0).createTopic('q', 1);
    const owner = ownerOf('q', 0, 2);
    const other = 1 - owner;
    const got: Delivery[] = [];
    await c.client(other).subscribe({ topic: 'q', group: 'g', from: 'earliest' }, (d) => { got.push(d); if (d.attempt > 1 || d.event.attributes.id === 'a') d.ack(); });
    await c.client(other).publishBatch('q', [ev('a'), ev('b')]);
    await until(() => got.length === 2, 3000, '2 deliveries');
    await until(() => c.cores[owner]!.stats().acked === 1, 3000, 'ack of a');
    await c.cores[owner]!.drain(); // a commits; b stays unacked
    const pending = c.client(other).publish('q', ev('lost?')).then(() => 'ok', (e) => e.code);
    await c.restart(owner);
    const r = await pending;
    assert.ok(r === 'EVM_UNAVAILABLE' || r === 'ok', `publish routed to the dead owner: ${r}`);
    await until(() => got.some((d) => d.event.attributes.id === 'b' && d.attempt > 1) || got.filter((d) => d.event.attributes.id === 'b').length === 2, 3000, 'b redelivered by the restarted owner');
    // the restarted owner serves new publishes to the re-announced member
    await c.client(owner).publish('q', ev('fresh'));
    await until(() => got.some((d) => d.event.attributes.id === 'fresh'), 3000, 'fresh delivered');
  } finally { await c.close(); }
});

test('controller restart: shards keep working, the controller reloads topics from storage', async () => {
  const c = await Cluster.start({ shards: 2, autoCreateTopics: false });
  try {
    await c.client(0).createTopic('keep', 2);
    await c.restart(c.controller);
    await c.client(2).publish('keep', ev('a'));
    await assert.rejects(c.client(2).publish('other', ev('a')), { code: 'EVM_UNKNOWN_TOPIC' });
    await settle();
  } finally { await c.close(); }
});

test('listTopics: the controller lists every topic; shards list what they learned', async () => {
  const c = await Cluster.start({ shards: 2 });
  try {
    await c.client(0).createTopic('a', 2);
    await c.client(1).createTopic('b', 3);
    const names = (await c.cores[c.controller]!.listTopics()).map((t) => `${t.name}:${t.partitions}`).sort();
    assert.deepEqual(names, ['a:2', 'b:3']);
    await settle();
    assert.deepEqual((await c.cores[0]!.listTopics()).map((t) => t.name).sort(), ['a', 'b']);
  } finally { await c.close(); }
});
