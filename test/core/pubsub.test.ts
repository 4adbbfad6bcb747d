import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cluster, ev, text, until } from './harness.js';
import type { Delivery } from '../../src/core/types.js';

test('publish on every node is delivered to a subscriber on another node, across shards', async () => {
  const c = await Cluster.start({ shards: 3 });
  try {
    const got: Delivery[] = [];
    await c.client(1).subscribe({ topic: 'orders', group: 'g1' }, (d) => { got.push(d); d.ack(); });
    const results = [];
    for (let i = 0; i < 40; i++) results.push(await c.client(i % 4).publish('orders', ev(`e${i}`, {}, `payload ${i}`)));
    assert.equal(new Set(results.map((r) => r.partition)).size, 4, 'round robin spreads over the 4 partitions');
    await until(() => got.length === 40, 3000, '40 deliveries');
    const ids = got.map((d) => d.event.attributes.id).sort();
    assert.deepEqual(ids, Array.from({ length: 40 }, (_, i) => `e${i}`).sort());
    for (const d of got) {
      assert.equal(d.attempt, 1);
      const r = results.find((x) => x.partition === d.partition && x.offset === d.offset)!;
      assert.ok(r, 'delivery coordinates match a publish result');
      assert.equal(text(d), `payload ${d.event.attributes.id!.toString().slice(1)}`);
    }
    // Every partition's events were appended by its owner only.
    const appended = c.cores.map((core) => core.stats().appended);
    assert.equal(appended.reduce((a, b) => a + b, 0), 40);
    assert.equal(appended[3], 0, 'the controller owns no partition');
    await until(() => c.cores.every((core) => core.stats().inflight === 0), 3000, 'acks');
  } finally {
    await c.close();
  }
});
