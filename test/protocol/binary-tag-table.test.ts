// TagTable (src/protocol/binary/tag-table.ts): the unacked deliveries of a binary connection by
// tag — acks in any order, ranges with bogus bounds, dropping a closed subscription's tags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TagTable } from '../../src/protocol/binary/tag-table.js';

test('tags are handed out in order; take() returns each entry once, in any order', () => {
  const t = new TagTable<string, number>();
  for (let i = 0; i < 5; i++) assert.equal(t.add(`d${i}`, 1), i);
  assert.equal(t.take(3), 'd3');
  assert.equal(t.take(3), undefined, 'taken already');
  assert.equal(t.take(0), 'd0');
  assert.equal(t.get(1), 'd1');
  assert.equal(t.size, 3);
  for (const tag of [-1, 1.5, 5, 2 ** 60]) assert.equal(t.take(tag), undefined, `tag ${tag} was never handed out`);
  assert.equal(t.take(1), 'd1');
  assert.equal(t.take(2), 'd2');
  assert.equal(t.take(4), 'd4');
  assert.equal(t.size, 0);
  assert.equal(t.add('d5', 1), 5, 'tags keep counting after the table emptied');
  assert.equal(t.get(5), 'd5');
});

test('takeRange: only held tags inside the range, bounded however large the count (ACK from a client)', () => {
  const t = new TagTable<number, string>();
  for (let i = 0; i < 3000; i++) t.add(i, 'a');
  t.take(10);
  const got: number[] = [];
  t.takeRange(5, 10, (d) => got.push(d));
  assert.deepEqual(got, [5, 6, 7, 8, 9, 11, 12, 13, 14]);
  const rest: number[] = [];
  t.takeRange(0, Number.MAX_SAFE_INTEGER, (d) => rest.push(d));
  assert.equal(rest.length, 3000 - 10);
  assert.equal(rest[0], 0);
  assert.equal(rest.at(-1), 2999);
  assert.equal(t.size, 0);
});

test('dropOwner forgets one subscription\'s tags and keeps the others; clear() forgets all', () => {
  const t = new TagTable<string, string>();
  for (let i = 0; i < 2100; i++) t.add(`d${i}`, i % 2 === 0 ? 'even' : 'odd');
  for (let i = 0; i < 1500; i++) t.take(i); // pushes the start past the compaction point
  t.dropOwner('even');
  assert.equal(t.size, 300);
  assert.equal(t.get(1501), 'd1501');
  assert.equal(t.get(1502), undefined);
  t.clear();
  assert.equal(t.size, 0);
  assert.equal(t.get(1501), undefined);
  assert.equal(t.add('x', 'odd'), 2100);
});

test('a tag never acked does not pin the array: older held entries move aside and stay usable', () => {
  const t = new TagTable<number, string>(16);
  t.add(-1, 'stuck'); // tag 0, never acked
  for (let i = 1; i <= 1000; i++) { const tag = t.add(i, i % 7 === 0 ? 'keep' : 'a'); if (i % 7 !== 0) assert.equal(t.take(tag), i); }
  assert.equal(t.size, 1 + Math.floor(1000 / 7));
  assert.equal(t.get(0), -1);
  assert.equal(t.get(7), 7);
  const got: number[] = [];
  t.takeRange(0, 50, (d) => got.push(d));
  assert.deepEqual(got, [-1, 7, 14, 21, 28, 35, 42, 49], 'tag order across moved and array entries');
  t.dropOwner('keep');
  assert.equal(t.size, 0);
  assert.equal(t.add(5, 'a'), 1001);
  assert.equal(t.take(1001), 5);
});
