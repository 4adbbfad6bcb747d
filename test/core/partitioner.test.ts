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

test('Partitioner: partitionkey, else subject, else round robin per topic', () => {
  const p = new Partitioner();
  const ev = (a: Record<string, string | number>) => ({ attributes: { specversion: '1.0', id: 'x', source: 's', type: 't', ...a } });
  assert.equal(p.partitionOf('t', 12, ev({ partitionkey: '21' })), 0);
  assert.equal(p.partitionOf('t', 12, ev({ subject: 'a-little-bit-longer-string' })), 11);
  assert.equal(p.partitionOf('t', 12, ev({ subject: 'x', partitionkey: '21' })), 0);
  assert.deepEqual([0, 1, 2, 3].map(() => p.partitionOf('t', 3, ev({}))), [0, 1, 2, 0]);
  assert.deepEqual([0, 1].map(() => p.partitionOf('u', 3, ev({}))), [0, 1], 'per topic');
});

test('Partitioner: a subject equal to the topic (EventMesh clients, T42) is not a key: round robin', () => {
  const p = new Partitioner();
  const ev = (a: Record<string, string>) => ({ attributes: { specversion: '1.0', id: 'x', source: 's', type: 't', ...a } });
  assert.deepEqual([0, 1, 2, 3].map(() => p.partitionOf('orders', 3, ev({ subject: 'orders' }))), [0, 1, 2, 0]);
  assert.equal(p.partitionOf('orders', 12, ev({ subject: 'a-little-bit-longer-string' })), 11, 'another subject still keys');
});
