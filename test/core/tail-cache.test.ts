// The owner's tail cache (src/core/owned-partition.ts): the last `tailCacheRecords` appended
// records, and always the whole latest append, are read by live cursors without storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupPartition } from '../../src/core/group.js';
import { OwnedPartition } from '../../src/core/owned-partition.js';
import { MemoryStorage } from '../../src/storage/memory.js';

function cursor(next: number): { next: number; got: number[]; addRecord(offset: number, value: Uint8Array): void } {
  return { next, got: [], addRecord(offset, value) { this.got.push(value[0]!); this.next = offset + 1; } };
}

const values = (from: number, n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => Uint8Array.of(from + i));

test('an append larger than tailCacheRecords stays whole; later appends trim to the last tailCacheRecords', async () => {
  const storage = new MemoryStorage();
  await storage.createTopic('t', 1);
  const part = new OwnedPartition('t', 0, 1, storage, 4, Date.now, () => {});
  await part.ready;
  part.groups.set('g', new GroupPartition(part, 'g', 'CLUSTERING'));
  assert.equal(await part.append(values(0, 10)), 0);
  const whole = cursor(0);
  assert.equal(part.readTail(whole, 100), true, 'the first record of the 10-record append is cached');
  assert.deepEqual(whole.got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(await part.append(values(10, 1)), 10);
  assert.equal(part.readTail(cursor(0), 100), false, 'trimmed: storage has to serve offset 0');
  const last = cursor(7);
  assert.equal(part.readTail(last, 100), true);
  assert.deepEqual(last.got, [7, 8, 9, 10], 'the last 4 records');
});

test('a partition no group reads keeps no tail; the first append after a group joined is cached', async () => {
  const storage = new MemoryStorage();
  await storage.createTopic('t', 1);
  const part = new OwnedPartition('t', 0, 1, storage, 4, Date.now, () => {});
  await part.ready;
  assert.equal(await part.append(values(0, 3)), 0);
  assert.equal(part.readTail(cursor(0), 100), false, 'no reader: storage serves offset 0');
  part.groups.set('g', new GroupPartition(part, 'g', 'CLUSTERING'));
  assert.equal(part.readTail(cursor(0), 100), false);
  assert.equal(await part.append(values(3, 2)), 3);
  const c = cursor(3);
  assert.equal(part.readTail(c, 100), true);
  assert.deepEqual(c.got, [3, 4]);
  part.groups.delete('g');
  assert.equal(await part.append(values(5, 1)), 5);
  assert.equal(part.readTail(cursor(3), 100), false, 'the last group left: the tail is let go');
});
