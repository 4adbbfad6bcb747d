import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cluster, FakeClock, ev, settle, until } from './harness.js';
import type { Delivery } from '../../src/core/types.js';
import { ownerOf } from '../../src/core/partitioner.js';

test('CLUSTERING: each event reaches exactly one of 3 members, spread across them', async () => {
  const c = await Cluster.start({ shards: 2 });
  try {
    const byMember: Delivery[][] = [[], [], []];
    for (let m = 0; m < 3; m++) {
      await c.client(m).subscribe({ topic: 't', group: 'g', mode: 'CLUSTERING', maxInflight: 5 }, (d) => { byMember[m]!.push(d); d.ack(); });
    }
    await c.client(0).publishBatch('t', Array.from({ length: 300 }, (_, i) => ev(`e${i}`)));
    await until(() => byMember.flat().length >= 300, 3000, '300 deliveries');
    await settle();
    const all = byMember.flat().map((d) => `${d.partition}:${d.offset}`);
    assert.equal(all.length, 300, 'no duplicates');
    assert.equal(new Set(all).size, 300);
    for (const list of byMember) assert.ok(list.length > 0, 'every member got some events');
  } finally { await c.close(); }
});

test('CLUSTERING rebalance: a leaving member\'s unacked events go to the others at once', async () => {
  const c = await Cluster.start({ shards: 2 });
  try {
    const held: Delivery[] = [];
    const others: Delivery[] = [];
    const a = await c.client(0).subscribe({ topic: 't', group: 'g', maxInflight: 1000 }, (d) => { held.push(d); });
    await c.client(1).publishBatch('t', Array.from({ length: 20 }, (_, i) => ev(`e${i}`)));
    await until(() => held.length === 20, 3000, 'member A gets all 20');
    await c.client(2).subscribe({ topic: 't', group: 'g', maxInflight: 1000 }, (d) => { others.push(d); d.ack(); });
    await settle();
    assert.equal(others.length, 0, 'nothing new to deliver while A holds everything');
    await a.close();
    await until(() => others.length === 20, 3000, 'B gets A\'s 20 unacked events');
    assert.deepEqual(others.map((d) => d.event.attributes.id).sort(), held.map((d) => d.event.attributes.id).sort());
    assert.ok(others.every((d) => d.attempt === 2), 'redeliveries carry attempt 2');
    const late = held[0]!;
    late.ack(); // a late ack from the departed member is harmless
    await settle();
  } finally { await c.close(); }
});

test('maxInflight credit: a member never has more than maxInflight unacked events per owner', async () => {
  const c = await Cluster.start({ shards: 1, defaultPartitions: 2 });
  try {
    const got: Delivery[] = [];
    await c.client(0).subscribe({ topic: 't', group: 'g', maxInflight: 3 }, (d) => { got.push(d); });
    await c.client(0).publishBatch('t', Array.from({ length: 10 }, (_, i) => ev(`e${i}`)));
    await until(() => got.length === 3, 3000, '3 deliveries');
    await settle();
    assert.equal(got.length, 3);
    got[0]!.ack();
    await until(() => got.length === 4, 3000, 'one more after one ack');
    await settle();
    assert.equal(got.length, 4);
  } finally { await c.close(); }
});

test('BROADCASTING: every member gets every event; the group commits what all members acked', async () => {
  const c = await Cluster.start({ shards: 2, defaultPartitions: 1 });
  try {
    await c.client(0).createTopic('b', 1);
    const a: Delivery[] = [], b: Delivery[] = [];
    await c.client(0).subscribe({ topic: 'b', group: 'bg', mode: 'BROADCASTING' }, (d) => { a.push(d); d.ack(); });
    await c.client(1).subscribe({ topic: 'b', group: 'bg', mode: 'BROADCASTING' }, (d) => { b.push(d); });
    await c.client(2).publishBatch('b', Array.from({ length: 10 }, (_, i) => ev(`e${i}`)));
    await until(() => a.length === 10 && b.length === 10, 3000, 'both members get all 10');
    const owner = c.cores.find((core) => core.stats().groups.some((g) => g.group === 'bg'))!;
    await settle();
    let g = owner.stats().groups.find((x) => x.group === 'bg')!;
    assert.equal(g.position, 0, 'B acked nothing: the group stays at 0');
    for (const d of b.slice(0, 4)) d.ack();
    await until(() => owner.stats().groups.find((x) => x.group === 'bg')!.position === 4, 3000, 'position 4');
    g = owner.stats().groups.find((x) => x.group === 'bg')!;
    assert.equal(g.members, 2);
  } finally { await c.close(); }
});

test('BROADCASTING vs CLUSTERING on the same group is a conflict', async () => {
  const c = await Cluster.start({ shards: 2 });
  try {
    await c.client(0).subscribe({ topic: 't', group: 'g', mode: 'BROADCASTING' }, () => {});
    await assert.rejects(c.client(1).subscribe({ topic: 't', group: 'g', mode: 'CLUSTERING' }, () => {}), { code: 'EVM_CONFLICT' });
  } finally { await c.close(); }
});

test('ack timeout → redelivery with increasing attempt, possibly to another member', async () => {
  const clock = new FakeClock();
  const c = await Cluster.start({ shards: 2, now: clock.now, ackTimeoutMs: 1000, maxAttempts: 5 });
  try {
    const got: Delivery[] = [];
    await c.client(0).subscribe({ topic: 't', group: 'g' }, (d) => { got.push(d); });
    await c.client(1).publish('t', ev('only'));
    await until(() => got.length === 1, 3000, 'first delivery');
    assert.equal(got[0]!.attempt, 1);
    clock.advance(999);
    await settle(); await new Promise((r) => setTimeout(r, 20));
    assert.equal(got.length, 1, 'not before the deadline');
    clock.advance(2);
    await until(() => got.length === 2, 3000, 'redelivery');
    assert.equal(got[1]!.attempt, 2);
    assert.equal(got[1]!.offset, got[0]!.offset);
    clock.advance(1001);
    await until(() => got.length === 3, 3000, 'second redelivery');
    assert.equal(got[2]!.attempt, 3);
    got[2]!.ack();
    // The ack travels to the owning shard through the mesh: wait until it is counted, or a
    // redelivery scan triggered by the clock jump may race it (seen under load: 4 deliveries).
    await until(() => c.cores.reduce((n, core) => n + core.stats().acked, 0) === 1, 3000, 'ack counted');
    clock.advance(5000);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(got.length, 3, 'acked: no more redeliveries');
    const s = c.cores.reduce((n, core) => n + core.stats().redelivered, 0);
    assert.equal(s, 2);
  } finally { await c.close(); }
});

test('maxAttempts → the event goes to the dead-letter topic with its provenance', async () => {
  const clock = new FakeClock();
  const c = await Cluster.start({ shards: 2, now: clock.now, ackTimeoutMs: 100, maxAttempts: 2 });
  try {
    const got: Delivery[] = [];
    await c.client(0).subscribe({ topic: 'pay', group: 'billing' }, (d) => { got.push(d); });
    const r = await c.client(1).publish('pay', ev('poison', { subject: 'acct-1', flag: true, n: 7 }, 'bad'));
    await until(() => got.length === 1, 3000, 'attempt 1');
    clock.advance(101);
    await until(() => got.length === 2, 3000, 'attempt 2');
    // Subscribe to the DLQ from the start (it is created on first dead letter).
    clock.advance(101);
    await until(() => c.cores.reduce((n, core) => n + core.stats().deadLettered, 0) === 1, 3000, 'dead-lettered');
    const dlq: Delivery[] = [];
    await c.client(2).subscribe({ topic: 'pay.billing.DLQ', group: 'ops', from: 'earliest' }, (d) => { dlq.push(d); d.ack(); });
    await until(() => dlq.length === 1, 3000, 'DLQ delivery');
    const a = dlq[0]!.event.attributes;
    assert.equal(a.id, 'poison');
    assert.equal(a.subject, 'acct-1');
    assert.equal(a.flag, true);
    assert.equal(a.n, 7);
    assert.equal(a.dlqtopic, 'pay');
    assert.equal(a.dlqpartition, r.partition);
    assert.equal(a.dlqoffset, String(r.offset));
    assert.equal(a.dlqgroup, 'billing');
    assert.equal(a.dlqattempts, 2);
    assert.equal(a.dlqreason, 'acktimeout');
    assert.equal(new TextDecoder().decode(dlq[0]!.event.data), 'bad');
    clock.advance(1000);
    await new Promise((r2) => setTimeout(r2, 30));
    assert.equal(got.length, 2, 'handled: no more deliveries after dead-lettering');
    const g = c.cores.flatMap((core) => core.stats().groups).find((x) => x.group === 'billing' && x.partition === r.partition)!;
    assert.equal(g.position, r.offset + 1, 'dead-lettered counts as handled for the commit');
  } finally { await c.close(); }
});

test('commit advances only over the contiguous acked prefix; a restarted group resumes there', async () => {
  const c = await Cluster.start({ shards: 2 });
  try {
    await c.client(0).createTopic('one', 1);
    const got: Delivery[] = [];
    const sub = await c.client(0).subscribe({ topic: 'one', group: 'g', from: 'earliest' }, (d) => { got.push(d); });
    await c.client(1).publishBatch('one', Array.from({ length: 10 }, (_, i) => ev(`e${i}`)));
    await until(() => got.length === 10, 3000, '10 deliveries');
    for (const o of [0, 1, 2, 3, 4, 5, 7, 8]) got[o]!.ack(); // 6 not acked
    const owner = c.cores.find((core) => core.stats().groups.some((g) => g.group === 'g'))!;
    await until(() => owner.stats().groups[0]!.position === 6, 3000, 'position 6');
    await sub.close();
    const storage = c.storages[owner.nodeId]!;
    assert.equal(await storage.fetchOffset('g', 'one', 0), 6, 'committed 6 (5 and 7 acked, 6 not)');
    const again: Delivery[] = [];
    await c.client(2).subscribe({ topic: 'one', group: 'g', from: 'latest' }, (d) => { again.push(d); d.ack(); });
    await until(() => again.length === 4, 3000, 'resume at 6: 6,7,8,9');
    assert.deepEqual(again.map((d) => d.offset), [6, 7, 8, 9]);
  } finally { await c.close(); }
});

test('start positions: latest skips history, earliest reads it, {offset} and {timestamp} replay', async () => {
  const clock = new FakeClock();
  const c = await Cluster.start({ shards: 2, now: clock.now });
  try {
    await c.client(0).createTopic('h', 1);
    for (let i = 0; i < 5; i++) { await c.client(0).publish('h', ev(`old${i}`)); clock.advance(1000); }
    const t3 = clock.now() - 2000; // timestamp of old3
    const seen: Record<string, number[]> = { latest: [], earliest: [], off: [], ts: [] };
    const subscribe = (group: string, from: any, key: string, replay = false) =>
      c.client(1).subscribe({ topic: 'h', group, from, replay }, (d) => { seen[key]!.push(d.offset); d.ack(); });
    await subscribe('gl', 'latest', 'latest');
    await subscribe('ge', 'earliest', 'earliest');
    await subscribe('go', { offset: 2 }, 'off');
    await subscribe('gt', { timestamp: t3 }, 'ts');
    await c.client(0).publish('h', ev('new'));
    await until(() => seen.latest!.length === 1 && seen.earliest!.length === 6 && seen.off!.length === 4 && seen.ts!.length === 3, 3000, 'all groups');
    assert.deepEqual(seen.latest, [5]);
    assert.deepEqual(seen.earliest, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(seen.off, [2, 3, 4, 5]);
    assert.deepEqual(seen.ts, [3, 4, 5]);
    // Offsets beyond the end clamp to the end.
    const far: number[] = [];
    await c.client(1).subscribe({ topic: 'h', group: 'gfar', from: { offset: 999 } }, (d) => { far.push(d.offset); d.ack(); });
    await c.client(0).publish('h', ev('newer'));
    await until(() => far.length === 1, 3000, 'clamped');
    assert.deepEqual(far, [6]);
  } finally { await c.close(); }
});

test('replay: ignores the committed offset and starts at from', async () => {
  const c = await Cluster.start({ shards: 2 });
  try {
    await c.client(0).createTopic('r', 1);
    await c.client(0).publishBatch('r', Array.from({ length: 5 }, (_, i) => ev(`e${i}`)));
    const first: number[] = [];
    const s = await c.client(0).subscribe({ topic: 'r', group: 'g', from: 'earliest' }, (d) => { first.push(d.offset); d.ack(); });
    await until(() => first.length === 5, 3000, 'first pass');
    await s.close();
    const noReplay: number[] = [];
    const s2 = await c.client(1).subscribe({ topic: 'r', group: 'g', from: 'earliest' }, (d) => { noReplay.push(d.offset); d.ack(); });
    await settle(); await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(noReplay, [], 'committed offset 5 wins over from=earliest');
    await s2.close();
    const replay: number[] = [];
    await c.client(1).subscribe({ topic: 'r', group: 'g', from: { offset: 1 }, replay: true }, (d) => { replay.push(d.offset); d.ack(); });
    await until(() => replay.length === 4, 3000, 'replay from 1');
    assert.deepEqual(replay, [1, 2, 3, 4]);
  } finally { await c.close(); }
});

test('delivery reads from storage in batches when the tail cache does not hold the records', async () => {
  const c = await Cluster.start({ shards: 1, tailCacheRecords: 0, maxBatchEvents: 7, defaultPartitions: 1 });
  try {
    await c.client(0).publishBatch('s', Array.from({ length: 7 }, (_, i) => ev(`a${i}`)));
    await c.client(0).publishBatch('s', Array.from({ length: 7 }, (_, i) => ev(`b${i}`)));
    const got: number[] = [];
    await c.client(1).subscribe({ topic: 's', group: 'g', from: 'earliest' }, (d) => { got.push(d.offset); d.ack(); });
    await until(() => got.length === 14, 3000, '14');
    assert.deepEqual(got, Array.from({ length: 14 }, (_, i) => i));
  } finally { await c.close(); }
});

test('acks given in the same turn as close() reach the owner before the LEAVE (no redelivery)', async () => {
  const c = await Cluster.start({ shards: 2 });
  try {
    const first: Delivery[] = [];
    const sub = await c.client(2).subscribe({ topic: 't', group: 'g', from: 'earliest' }, (d) => first.push(d));
    await c.client(0).publishBatch('t', Array.from({ length: 10 }, (_, i) => ev(`e${i}`)));
    await until(() => first.length === 10, 3000, '10 deliveries');
    for (const d of first) d.ack();
    await sub.close();
    const second: Delivery[] = [];
    await c.client(2).subscribe({ topic: 't', group: 'g', from: 'earliest' }, (d) => { second.push(d); d.ack(); });
    await settle();
    assert.equal(second.length, 0, 'acked events are not delivered to the next member');
  } finally { await c.close(); }
});

test('a group that loses its last member resumes after its acked prefix even while the commit is still being written', async () => {
  const c = await Cluster.start({ shards: 1, defaultPartitions: 1 });
  try {
    // Make the owner's storage commits slow, as a real fsync can be.
    const storage = c.storages[0]!;
    const commit = storage.commitOffset.bind(storage);
    storage.commitOffset = async (...args) => { await new Promise((r) => setTimeout(r, 50)); return commit(...args); };
    await c.client(1).createTopic('t', 1);
    const first: Delivery[] = [];
    const sub = await c.client(1).subscribe({ topic: 't', group: 'g', from: 'earliest' }, (d) => first.push(d));
    await c.client(1).publishBatch('t', Array.from({ length: 6 }, (_, i) => ev(`e${i}`)));
    await until(() => first.length === 6, 3000, '6 deliveries');
    for (const d of first.slice(0, 4)) d.ack();
    const closing = sub.close(); // the next member joins before the LEAVE's commit is written
    const second: Delivery[] = [];
    await c.client(1).subscribe({ topic: 't', group: 'g' }, (d) => { second.push(d); d.ack(); });
    await until(() => second.length >= 2, 3000, 'the 2 unacked events');
    await closing;
    await settle();
    assert.deepEqual(second.map((d) => d.offset), [4, 5]);
  } finally { await c.close(); }
});

test('CLUSTERING locality: an owner delivers to the member on its own shard while it has credit, others get the overflow', async () => {
  const c = await Cluster.start({ shards: 2, defaultPartitions: 4 });
  try {
    const got: Delivery[][] = [[], []];
    for (const node of [0, 1]) {
      await c.client(node).subscribe({ topic: 't', group: 'g', maxInflight: 1000 }, (d) => { got[node]!.push(d); d.ack(); });
    }
    // From the controller, which owns no partition: one call per partition (partitioner.ts).
    for (let k = 0; k < 4; k++) await c.client(2).publishBatch('t', Array.from({ length: 50 }, (_, i) => ev(`e${k}.${i}`)));
    await until(() => got[0]!.length + got[1]!.length === 200, 3000, '200 deliveries');
    for (const node of [0, 1]) {
      assert.ok(got[node]!.length > 0);
      for (const d of got[node]!) assert.equal(ownerOf('t', d.partition, 2), node, `partition ${d.partition} delivered on its owner's shard`);
    }
    // A member without credit left: the other shard's member takes the overflow.
    const held: Delivery[] = [];
    const spill: Delivery[] = [];
    await c.client(0).subscribe({ topic: 'u', group: 'g', maxInflight: 2 }, (d) => held.push(d));
    await c.client(1).subscribe({ topic: 'u', group: 'g', maxInflight: 1000 }, (d) => { spill.push(d); d.ack(); });
    for (let k = 0; k < 4; k++) await c.client(2).publishBatch('u', Array.from({ length: 10 }, (_, i) => ev(`u${k}.${i}`)));
    await until(() => held.length + spill.length === 40, 3000, '40 deliveries');
    assert.ok(spill.some((d) => ownerOf('u', d.partition, 2) === 0), 'shard 0 spilled to the member on shard 1');
  } finally { await c.close(); }
});
