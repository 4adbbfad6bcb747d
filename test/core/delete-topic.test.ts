// Topic deletion in core (docs/core.md "Topics", docs/admin.md "Deleting a topic"): the controller's
// deleteTopic with every shard's releaseTopic / releaseTopicStorage run in process (the broker runs
// them through the shard query), on the in-memory cluster harness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, ev, until } from './harness.js';
import type { Delivery } from '../../src/core/types.js';

/** The controller deletes `topic`, running each step on every shard as the admin API does. */
function deleteTopic(c: Cluster, topic: string, beforeStorage?: () => void): Promise<void> {
  return c.cores[c.controller]!.deleteTopic(topic, async (step) => {
    if (step === 'releaseTopicStorage') beforeStorage?.();
    for (let i = 0; i < c.shards; i++) await c.cores[i]![step](topic);
  });
}

const topicsOf = async (c: Cluster, node: number): Promise<string[]> => (await c.storages[node]!.listTopics()).map((t) => t.name);

test('deleteTopic: every node forgets the topic and its records; a publish afterwards recreates it empty', async () => {
  const c = await Cluster.start();
  try {
    await c.client(0).createTopic('gone', 4);
    const first = await c.client(1).publishBatch('gone', Array.from({ length: 12 }, (_, i) => ev(`e${i}`)));
    assert.ok(first.some((r) => r.offset === 2));
    await deleteTopic(c, 'gone');
    for (let n = 0; n <= c.shards; n++) assert.ok(!(await topicsOf(c, n)).includes('gone'), `node ${n}`);
    assert.ok(!(await c.cores[c.controller]!.listTopics()).some((t) => t.name === 'gone'));
    const again = await c.client(0).publishBatch('gone', Array.from({ length: 4 }, (_, i) => ev(`n${i}`)));
    // One call's unkeyed events share one partition (partitioner.ts), which starts empty again.
    assert.deepEqual(again.map((r) => r.offset), [0, 1, 2, 3]);
    await assert.rejects(deleteTopic(c, 'never-was'), { code: 'EVM_UNKNOWN_TOPIC' });
  } finally {
    await c.close();
  }
});

test('deleteTopic refuses (EVM_CONFLICT naming the group) while a shard holds a subscriber; the topic, its records and the subscription stay', async () => {
  const c = await Cluster.start();
  try {
    await c.client(0).createTopic('kept', 4);
    const got: Delivery[] = [];
    const sub = await c.client(1).subscribe({ topic: 'kept', group: 'holders', from: 'earliest' }, (d) => { got.push(d); d.ack(); });
    await c.client(0).publishBatch('kept', Array.from({ length: 4 }, (_, i) => ev(`k${i}`, { partitionkey: 'one' })));
    await assert.rejects(deleteTopic(c, 'kept'), (err: { code: string; message: string }) => err.code === 'EVM_CONFLICT' && /holders/.test(err.message));
    assert.ok((await c.cores[c.controller]!.listTopics()).some((t) => t.name === 'kept'));
    const more = await c.client(0).publishBatch('kept', Array.from({ length: 4 }, (_, i) => ev(`m${i}`, { partitionkey: 'one' })));
    assert.deepEqual(more.map((r) => r.offset), [4, 5, 6, 7], 'offsets continue: nothing was deleted');
    await until(() => got.length === 8, 3000, 'all 8 events delivered');
    assert.deepEqual(got.map((d) => String(d.event.attributes.id)).sort(), ['k0', 'k1', 'k2', 'k3', 'm0', 'm1', 'm2', 'm3']);
    await sub.close();
    await deleteTopic(c, 'kept');
  } finally {
    await c.close();
  }
});

test('a publish during the deletion waits for it, then creates the topic afresh (topics.autoCreate)', async () => {
  const c = await Cluster.start();
  try {
    await c.client(0).createTopic('busy', 2);
    await c.client(0).publishBatch('busy', [ev('a'), ev('b'), ev('c')]);
    let during: Promise<unknown> | undefined;
    let settledEarly = false;
    await deleteTopic(c, 'busy', () => {
      // Every node let go: node 1 asks the controller, which holds the answer until the end.
      during = c.client(1).publish('busy', ev('late'));
      during.then(() => { settledEarly = true; }, () => { settledEarly = true; });
    });
    assert.equal(settledEarly, false);
    const r = await during as { offset: number };
    assert.equal(r.offset, 0);
    assert.equal((await c.cores[c.controller]!.listTopics()).find((t) => t.name === 'busy')?.partitions, 4, 'recreated with the default count');
  } finally {
    await c.close();
  }
});
