// KafkaStorage against the real single-node Apache Kafka broker (scripts/kafka/, issue 7 item 1):
// the same conformance suite as log and memory. Each storage instance gets its own topic/group
// prefix, so tests never see each other's topics on the shared broker.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { KafkaStorage } from '../../src/storage/kafka/kafka-storage.js';
import { deleteKafkaTopics, kafkaUp, uniquePrefix } from '../helpers/kafka.js';
import { runStorageConformance } from './conformance.js';

const brokers = kafkaUp();
const prefixes: string[] = [];
const PREFIX_LENGTH = uniquePrefix('conf').length;

function make(prefix = uniquePrefix('conf')): KafkaStorage {
  prefixes.push(prefix);
  return new KafkaStorage({ brokers, prefix, lingerMs: 1, requestTimeoutMs: 15_000 });
}

runStorageConformance('kafka', async () => make(), {
  reopen: async (old) => make((old as KafkaStorage).prefix),
  maxTopicName: 249 - PREFIX_LENGTH,
});

after(() => deleteKafkaTopics(brokers, prefixes));

describe('KafkaStorage specifics', () => {
  it('bounds the produced-but-unreported messages (kafka.maxInFlight): appends beyond it wait, in order, and all complete', async () => {
    const s = new KafkaStorage({ brokers, prefix: uniquePrefix('inflight'), lingerMs: 1, maxInFlight: 4 });
    prefixes.push(s.prefix);
    await s.open();
    try {
      await s.createTopic('t', 1);
      const sizes = [3, 3, 6, 1, 2, 4, 3];
      const results = await Promise.all(sizes.map((n, b) => s.append('t', 0, Array.from({ length: n }, (_, i) => Buffer.from(`b${b}i${i}`)))));
      let next = 0;
      results.forEach((r, b) => { assert.deepEqual(r, { baseOffset: next, count: sizes[b] }, `batch ${b}`); next += sizes[b]!; });
    } finally {
      await s.close();
    }
  });

  it('appends reach Kafka in call order (appendsInFlight), also while a topic created by another node is looked up first', async () => {
    const prefix = uniquePrefix('order');
    prefixes.push(prefix);
    const [a, b] = [new KafkaStorage({ brokers, prefix, lingerMs: 1 }), new KafkaStorage({ brokers, prefix, lingerMs: 1 })];
    await Promise.all([a.open(), b.open()]);
    try {
      assert.ok(a.appendsInFlight > 1);
      await a.createTopic('t', 1); // b's catalog does not know 't': its first append adopts it
      const calls = Array.from({ length: 6 }, (_, i) => b.append('t', 0, [Buffer.from(`v${i}`)]));
      assert.deepEqual((await Promise.all(calls)).map((r) => r.baseOffset), [0, 1, 2, 3, 4, 5]);
      const read = await a.read('t', 0, 0);
      assert.deepEqual(read.map((r) => Buffer.from(r.value).toString()), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a message over kafka.maxMessageBytes fails its append with EVM_TOO_LARGE; the partition stays usable', async () => {
    const s = new KafkaStorage({ brokers, prefix: uniquePrefix('size'), lingerMs: 1, maxMessageBytes: 4096 });
    prefixes.push(s.prefix);
    await s.open();
    try {
      await s.createTopic('t', 1);
      await assert.rejects(s.append('t', 0, [Buffer.alloc(8192)]), { code: 'EVM_TOO_LARGE' });
      assert.deepEqual(await s.append('t', 0, [Buffer.from('small')]), { baseOffset: 0, count: 1 });
    } finally {
      await s.close();
    }
  });

  it('open() fails with EVM_UNAVAILABLE when no broker answers', async () => {
    const s = new KafkaStorage({ brokers: '127.0.0.1:1', requestTimeoutMs: 1000 });
    await assert.rejects(s.open(), { code: 'EVM_UNAVAILABLE' });
  });

  it('rejects a prefix Kafka cannot name topics with (EVM_BAD_CONFIG)', () => {
    assert.throws(() => new KafkaStorage({ brokers, prefix: 'a/b' }), { code: 'EVM_BAD_CONFIG' });
  });
});
