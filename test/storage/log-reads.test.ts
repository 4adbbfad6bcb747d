// Small consecutive reads of the embedded log (a consumer held back by credit) reuse the last
// fetch (src/storage/log/partition.ts read()): the results must equal one big read's.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { it } from 'node:test';
import { openLog, str, tempDir, text } from './log-helpers.js';

const T = Date.now();

it('many 8-record reads return exactly what one big read returns, while appends continue', async () => {
  const dataDir = await tempDir('small-reads');
  const s = await openLog({ dataDir, fsync: 'never' });
  try {
    await s.createTopic('t', 1);
    const value = (i: number) => text(`v${i}-`.padEnd(200 + (i % 7) * 50, 'x'));
    let next = 0;
    const appendBatch = (n: number) => s.append('t', 0, Array.from({ length: n }, () => value(next++)), T);
    for (let b = 0; b < 8; b++) await appendBatch(250); // big batches: many reads fall inside one
    const got: string[] = [];
    for (let offset = 0; offset < next;) {
      const recs = await s.read('t', 0, offset, { maxRecords: 8 });
      assert.ok(recs.length > 0 && recs.length <= 8, `read at ${offset} returned ${recs.length}`);
      recs.forEach((r, k) => assert.equal(r.offset, offset + k));
      got.push(...recs.map((r) => str(r.value)));
      offset += recs.length;
      if (offset % 400 === 0) await appendBatch(250); // the readable end moves under the reader
    }
    assert.equal(got.length, next);
    got.forEach((v, i) => assert.ok(v.startsWith(`v${i}-`), `offset ${i}`));
    const whole = await s.read('t', 0, 0, { maxRecords: next });
    assert.deepEqual(whole.slice(0, 50).map((r) => str(r.value)), got.slice(0, 50));
  } finally {
    await s.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
