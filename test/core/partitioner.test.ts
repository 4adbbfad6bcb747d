import assert from 'node:assert/strict';
import { test } from 'node:test';
import { murmur2, ownerOf, partitionForKey, Partitioner, positiveHash } from '../../src/core/partitioner.js';

// Expected values were produced by an independent Java transcription of Kafka's
// Utils.murmur2 (/tmp/mm/Check.java, run with Java 17 while writing this test); the first six
// also match the vectors in Kafka's own UtilsTest.
const VECTORS: [string, number][] = [
  ['', 275646681],
  ['a', -1563381124],
  ['ab', 316155434],
  ['abc', 479470107],
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['order-42', 501153024],
  ['héllo wörld', 439213890],
  ['日本語キー', 1445825182],
];

test('murmur2 equals Kafka\'s on known vectors (UTF-8 bytes, all tail lengths)', () => {
  for (const [key, h] of VECTORS) assert.equal(murmur2(new TextEncoder().encode(key)), h, key);
});

test('partitionForKey = (murmur2 & 0x7fffffff) % partitions, like Kafka\'s default partitioner', () => {
  // Cross-checked with the Java program: "a-little-bit-longer-string" → 661178819 % 12 = 11.
  assert.equal(positiveHash('a-little-bit-longer-string'), 661178819);
  assert.equal(partitionForKey('a-little-bit-longer-string', 12), 11);
  assert.equal(partitionForKey('21', 12), 0);
  assert.equal(partitionForKey('日本語キー', 12), 10);
  for (const [key, h] of VECTORS) assert.equal(partitionForKey(key, 7), (h & 0x7fffffff) % 7);
});

test('ownerOf = (positive murmur2(topic) + partition) % shards', () => {
  assert.equal(ownerOf('orders', 0, 4), 1117641372 % 4);
  assert.equal(ownerOf('orders', 3, 4), (1117641372 + 3) % 4);
  const owners = new Set(Array.from({ length: 8 }, (_, p) => ownerOf('orders', p, 4)));
  assert.equal(owners.size, 4, 'consecutive partitions spread over every shard');
});

// One publish call's unkeyed partition, as core.ts unkeyedPartition does it.
const call = (p: Partitioner, topic: string, partitions: number) => {
  let chosen = -1;
  return () => (chosen >= 0 ? chosen : (chosen = p.nextUnkeyed(topic, partitions, positiveHash(topic))));
};

test('Partitioner: partitionkey, else subject, else round robin per topic (one node)', () => {
  const p = new Partitioner();
  const ev = (a: Record<string, string | number>) => ({ attributes: { specversion: '1.0', id: 'x', source: 's', type: 't', ...a } });
  assert.equal(p.partitionOf('t', 12, ev({ partitionkey: '21' }), call(p, 't', 12)), 0);
  assert.equal(p.partitionOf('t', 12, ev({ subject: 'a-little-bit-longer-string' }), call(p, 't', 12)), 11);
  assert.equal(p.partitionOf('t', 12, ev({ subject: 'x', partitionkey: '21' }), call(p, 't', 12)), 0);
  assert.deepEqual([0, 1, 2, 3].map(() => p.partitionOf('t', 3, ev({}), call(p, 't', 3))), [0, 1, 2, 0], 'keyed events do not advance it');
  assert.deepEqual([0, 1].map(() => p.partitionOf('u', 3, ev({}), call(p, 'u', 3))), [0, 1], 'per topic');
});

test('Partitioner: the unkeyed events of one publish call share one partition; keyed ones still hash', () => {
  const p = new Partitioner();
  const ev = (a: Record<string, string>) => ({ attributes: { specversion: '1.0', id: 'x', source: 's', type: 't', ...a } });
  const one = call(p, 't', 12);
  assert.deepEqual(([{}, {}, { partitionkey: '21' }, {}] as Record<string, string>[]).map((a) => p.partitionOf('t', 12, ev(a), one)), [0, 0, 0, 0]);
  const two = call(p, 't', 12);
  assert.deepEqual(([{}, { subject: 'a-little-bit-longer-string' }, {}] as Record<string, string>[]).map((a) => p.partitionOf('t', 12, ev(a), two)), [1, 11, 1]);
});

test('Partitioner: a shard round robins unkeyed calls over exactly the partitions it owns (ownerOf)', () => {
  for (const [shards, partitions] of [[2, 8], [3, 8], [4, 3], [2, 1]] as const) {
    for (const topic of ['orders', 'a', 'topic-with-a-longer-name']) {
      const hash = positiveHash(topic);
      for (let node = 0; node < shards; node++) {
        const owned = [...Array(partitions).keys()].filter((q) => ownerOf(topic, q, shards, hash) === node);
        const p = new Partitioner(node, shards);
        const got = [...Array(2 * partitions).keys()].map(() => p.nextUnkeyed(topic, partitions, hash));
        // A node that owns none (more shards than partitions) spreads over all of them.
        const expected = owned.length > 0 ? owned : [...Array(partitions).keys()];
        assert.deepEqual(got, [...Array(2 * partitions).keys()].map((k) => expected[k % expected.length]), `${topic} ${shards}×${partitions} node ${node}`);
      }
    }
  }
});

test('Partitioner: the controller, and every node when the controller owns all partitions (kafka), round robin over all', () => {
  const all = (p: Partitioner) => [0, 1, 2, 3, 4].map(() => p.nextUnkeyed('t', 4, positiveHash('t')));
  assert.deepEqual(all(new Partitioner(2, 2)), [0, 1, 2, 3, 0], 'controller (node = shards)');
  assert.deepEqual(all(new Partitioner(0, 2, true)), [0, 1, 2, 3, 0], 'partitionsOnController');
});

test('Partitioner: a subject equal to the topic (EventMesh clients, T42) is not a key: round robin', () => {
  const p = new Partitioner();
  const ev = (a: Record<string, string>) => ({ attributes: { specversion: '1.0', id: 'x', source: 's', type: 't', ...a } });
  assert.deepEqual([0, 1, 2, 3].map(() => p.partitionOf('orders', 3, ev({ subject: 'orders' }), call(p, 'orders', 3))), [0, 1, 2, 0]);
  assert.equal(p.partitionOf('orders', 12, ev({ subject: 'a-little-bit-longer-string' }), call(p, 'orders', 12)), 11, 'another subject still keys');
});
