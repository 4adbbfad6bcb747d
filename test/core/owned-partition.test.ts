// OwnedPartition's append queue (src/core/owned-partition.ts): one append in flight per partition
// by default, batches queued meanwhile merged into the next; up to storage.appendsInFlight when
// the storage keeps call order (Kafka), and then appends still settle in call order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Buffer } from 'node:buffer';
import { OwnedPartition } from '../../src/core/owned-partition.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import type { AppendResult } from '../../src/storage/types.js';

/** MemoryStorage (offsets assigned at call time, in call order) whose append results are held
 *  until release(), which hands them out last call first. */
class HeldStorage extends MemoryStorage {
  readonly calls: number[] = [];
  private held: (() => void)[] = [];
  constructor(readonly appendsInFlight?: number) { super(); }

  override async append(topic: string, partition: number, values: readonly Uint8Array[], timestamp?: number): Promise<AppendResult> {
    this.calls.push(values.length);
    const r = await super.append(topic, partition, values, timestamp);
    await new Promise<void>((resolve) => this.held.push(resolve));
    return r;
  }

  release(): void {
    const h = this.held.reverse();
    this.held = [];
    for (const r of h) r();
  }
}

const batch = (n: number, tag: string) => Array.from({ length: n }, (_, i) => Buffer.from(`${tag}${i}`));
const turn = () => new Promise((r) => setImmediate(r));

async function partition(storage: HeldStorage): Promise<{ part: OwnedPartition; appended: number[] }> {
  await storage.createTopic('t', 1);
  const appended: number[] = [];
  const part = new OwnedPartition('t', 0, 1, storage, 100, Date.now, (p) => appended.push(p.end));
  await part.ready;
  return { part, appended };
}

test('default: one append in flight; batches queued meanwhile are merged into the next', async () => {
  const storage = new HeldStorage();
  const { part } = await partition(storage);
  const results = [part.append(batch(2, 'a')), part.append(batch(3, 'b')), part.append(batch(1, 'c'))];
  await turn();
  assert.deepEqual(storage.calls, [2], 'the second and third wait for the first');
  storage.release();
  await results[0];
  await turn();
  assert.deepEqual(storage.calls, [2, 4], 'b and c merged into one append');
  storage.release();
  assert.deepEqual(await Promise.all(results), [0, 2, 5]);
  assert.equal(part.busy, false);
});

test('storage.appendsInFlight: appends are pipelined up to the limit and settle in call order, whatever order storage answers in', async () => {
  const storage = new HeldStorage(2);
  const { part, appended } = await partition(storage);
  const settled: string[] = [];
  const results = ['a', 'b', 'c'].map((tag, i) => part.append(batch(i + 1, tag)).then((base) => { settled.push(tag); return base; }));
  await turn();
  assert.deepEqual(storage.calls, [1, 2], 'two in flight, the third queued');
  storage.release(); // b's result comes before a's
  await results[1];
  assert.deepEqual(settled, ['a', 'b']);
  await turn();
  assert.deepEqual(storage.calls, [1, 2, 3]);
  storage.release();
  assert.deepEqual(await Promise.all(results), [0, 1, 3]);
  assert.deepEqual(settled, ['a', 'b', 'c']);
  assert.deepEqual(appended, [1, 3, 6], 'the high watermark moves forward once per append, in order');
  assert.equal(part.busy, false);
  await part.idle();
});
