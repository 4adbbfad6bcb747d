// Retention of the embedded log: whole old segments, by bytes and by age (injected clock).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readAll } from './conformance.js';
import { openLog, partitionDir, segmentBases, str, tempDir, text } from './log-helpers.js';

const T = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;
const rec = (i: number): Uint8Array => text(`r${i}`.padEnd(100, '.'));

describe('log retention', () => {
  it('by bytes: deletes the oldest whole segments, never the active one, and moves start', async () => {
    const dataDir = await tempDir('ret-bytes');
    const options = { dataDir, fsync: 'never' as const, segmentBytes: 1000, retentionBytes: 3000, retentionMs: -1 };
    const s = await openLog(options);
    await s.createTopic('t', 1);
    for (let i = 0; i < 100; i++) await s.append('t', 0, [rec(i)], T);
    await s.enforceRetention();
    const dir = partitionDir(dataDir, 't', 0);
    const bases = await segmentBases(dir);
    const { start, end } = await s.bounds('t', 0);
    assert.equal(end, 100);
    assert.equal(start, bases[0]);
    assert.ok(start > 0 && bases.length <= 4, `start ${start}, ${bases.length} segments`);
    await assert.rejects(s.read('t', 0, start - 1), { code: 'EVM_BAD_OFFSET' });
    await assert.rejects(s.read('t', 0, 0), { code: 'EVM_BAD_OFFSET' });
    const kept = await readAll(s, 't', 0, start);
    assert.equal(kept.length, 100 - start);
    assert.equal(str(kept[0]!.value), str(rec(start)));
    assert.equal(await s.offsetForTimestamp('t', 0, 0), start);
    await s.close();
    const s2 = await openLog(options);
    assert.deepEqual(await s2.bounds('t', 0), { start, end: 100 });
    await s2.close();
  });

  it('by age: deletes segments whose newest record is older than retentionMs (injected clock)', async () => {
    const dataDir = await tempDir('ret-age');
    let now = T;
    const options = { dataDir, fsync: 'never' as const, segmentBytes: 1000, retentionMs: 10 * HOUR, now: () => now };
    const s = await openLog(options);
    await s.createTopic('t', 1);
    for (let i = 0; i < 30; i++) await s.append('t', 0, [rec(i)], T + i * HOUR); // one record per hour
    await s.enforceRetention();
    assert.equal((await s.bounds('t', 0)).start, 0, 'nothing is old yet');
    now = T + 40 * HOUR; // records older than T + 30h expire: everything but the active segment
    await s.enforceRetention();
    const bases = await segmentBases(partitionDir(dataDir, 't', 0));
    assert.equal(bases.length, 1, 'only the active segment is left');
    assert.deepEqual(await s.bounds('t', 0), { start: bases[0], end: 30 });
    await s.close();
  });

  it('by age after a restart: uses the next segment\'s first timestamp as the bound', async () => {
    const dataDir = await tempDir('ret-age-reopen');
    let now = T;
    const options = { dataDir, fsync: 'never' as const, segmentBytes: 1000, retentionMs: 10 * HOUR, now: () => now };
    const s = await openLog(options);
    await s.createTopic('t', 1);
    for (let i = 0; i < 30; i++) await s.append('t', 0, [rec(i)], T + i * HOUR);
    await s.close();
    const before = await segmentBases(partitionDir(dataDir, 't', 0));
    now = T + 25 * HOUR; // cutoff T + 15h
    const s2 = await openLog(options);
    await s2.enforceRetention(); // nothing opened yet: nothing to do
    const { start } = await s2.bounds('t', 0); // opens the partition
    assert.equal(start, 0);
    await s2.enforceRetention();
    const after = await segmentBases(partitionDir(dataDir, 't', 0));
    const newStart = (await s2.bounds('t', 0)).start;
    assert.ok(after.length < before.length && after.length >= 2);
    assert.equal(newStart, after[0]);
    // Every deleted segment ended before the cutoff; the kept ones include every newer record.
    assert.ok(newStart <= 16, `start ${newStart}`);
    const rest = await readAll(s2, 't', 0, newStart);
    assert.ok(rest.every((r) => r.timestamp >= T + newStart * HOUR));
    await s2.close();
  });

  it('unlimited retention (-1) keeps everything', async () => {
    const dataDir = await tempDir('ret-none');
    const s = await openLog({ dataDir, segmentBytes: 500, retentionBytes: -1, retentionMs: -1, now: () => T + 1e12 });
    await s.createTopic('t', 1);
    for (let i = 0; i < 50; i++) await s.append('t', 0, [rec(i)], T);
    await s.enforceRetention();
    assert.deepEqual(await s.bounds('t', 0), { start: 0, end: 50 });
    await s.close();
  });
});
