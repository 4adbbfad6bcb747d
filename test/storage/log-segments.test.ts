// Segments and the sparse index of the embedded log (docs/storage.md "On-disk layout").
import assert from 'node:assert/strict';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { LogStorage } from '../../src/storage/log/log-storage.js';
import { INDEX_ENTRY_SIZE } from '../../src/storage/log/index-file.js';
import { BATCH_HEADER_SIZE } from '../../src/storage/log/record-batch.js';
import { readAll } from './conformance.js';
import { openLog, partitionDir, segmentBases, segmentPath, str, tempDir, text } from './log-helpers.js';

const T = Date.now();
const value = (i: number): Uint8Array => text(`value-${i}-`.padEnd(80, String.fromCharCode(97 + (i % 26))));

/** 100 batches of 3 records (≈ 300 bytes each) into 2 KiB segments, index entry every 256 bytes. */
async function fill(dataDir: string) {
  const s = await openLog({ dataDir, fsync: 'never', segmentBytes: 2048, indexIntervalBytes: 256 });
  await s.createTopic('t', 1);
  for (let b = 0; b < 100; b++) await s.append('t', 0, [value(3 * b), value(3 * b + 1), value(3 * b + 2)], T + b);
  return s;
}

describe('log segments', () => {
  it('rolls at segmentBytes into files named by their base offset and reads across them', async () => {
    const dataDir = await tempDir('seg');
    const s = await fill(dataDir);
    const dir = partitionDir(dataDir, 't', 0);
    const bases = await segmentBases(dir);
    assert.ok(bases.length >= 10, `${bases.length} segments`);
    assert.equal(bases[0], 0);
    for (const b of bases.slice(0, -1)) assert.ok((await stat(segmentPath(dir, b, '.log'))).size <= 2048);
    const all = await readAll(s, 't', 0);
    assert.equal(all.length, 300);
    all.forEach((r, i) => assert.equal(str(r.value), str(value(i))));
    // A read starting at the last record of a segment still returns it (and never crosses the file).
    for (const b of bases.slice(1)) {
      const got = await s.read('t', 0, b - 1);
      assert.equal(got[0]!.offset, b - 1);
      assert.ok(got.every((r) => r.offset < b));
    }
    // Each base offset is the first offset of a batch: segments hold whole batches.
    for (const b of bases) assert.equal(b % 3, 0);
    // offsetForTimestamp across segments.
    for (const b of [0, 17, 50, 99]) assert.equal(await s.offsetForTimestamp('t', 0, T + b), 3 * b);
    assert.equal(await s.offsetForTimestamp('t', 0, T + 100), 300);
    await s.close();
  });

  it('writes a sparse index for sealed segments and uses it to skip to an offset', async () => {
    const dataDir = await tempDir('idx');
    const s = await fill(dataDir);
    const dir = partitionDir(dataDir, 't', 0);
    const [first, second] = await segmentBases(dir);
    const index = await readFile(segmentPath(dir, first!, '.index'));
    assert.ok(index.length >= 2 * INDEX_ENTRY_SIZE && index.length % INDEX_ENTRY_SIZE === 0);
    const entry1Offset = index.readUInt32BE(INDEX_ENTRY_SIZE); // second entry: relative offset
    assert.ok(entry1Offset > 0 && entry1Offset < second!);
    await s.close();

    // Corrupt the first batch of the sealed segment: reads that the index lets skip it still work,
    // reads that need it report EVM_CORRUPT (never silently skip).
    const fh = await open(segmentPath(dir, first!, '.log'), 'r+');
    await fh.write(Buffer.from([0xff]), 0, 1, BATCH_HEADER_SIZE + 20);
    await fh.close();
    const s2 = await openLog({ dataDir, fsync: 'never', segmentBytes: 2048, indexIntervalBytes: 256 });
    const got = await s2.read('t', 0, entry1Offset);
    assert.equal(got[0]!.offset, entry1Offset);
    assert.equal(str(got[0]!.value), str(value(entry1Offset)));
    await assert.rejects(s2.read('t', 0, 0), { code: 'EVM_CORRUPT' });
    await assert.rejects(s2.read('t', 0, 1), { code: 'EVM_CORRUPT' });
    assert.equal((await readAll(s2, 't', 0, second!)).length, 300 - second!);
    await s2.close();
  });

  it('rebuilds a missing or stale index of a sealed segment', async () => {
    const dataDir = await tempDir('idx-rebuild');
    const s = await fill(dataDir);
    await s.close();
    const dir = partitionDir(dataDir, 't', 0);
    const [first, second] = await segmentBases(dir);
    const good = await readFile(segmentPath(dir, first!, '.index'));
    await rm(segmentPath(dir, first!, '.index'));
    await writeFile(segmentPath(dir, second!, '.index'), Buffer.from('stale garbage!!'));
    const s2 = await openLog({ dataDir, fsync: 'never', segmentBytes: 2048, indexIntervalBytes: 256 });
    const all = await readAll(s2, 't', 0);
    assert.equal(all.length, 300);
    all.forEach((r, i) => assert.equal(str(r.value), str(value(i))));
    assert.deepEqual(await readFile(segmentPath(dir, first!, '.index')), good, 'rebuilt identically');
    assert.equal((await readFile(segmentPath(dir, second!, '.index'))).length % INDEX_ENTRY_SIZE, 0);
    await s2.close();
  });

  it('puts a batch larger than segmentBytes in a segment of its own', async () => {
    const dataDir = await tempDir('bigbatch');
    const s = await openLog({ dataDir, fsync: 'always', segmentBytes: 1000 });
    await s.createTopic('t', 1);
    await s.append('t', 0, [text('small')], T);
    const big = Buffer.alloc(5000, 1);
    await s.append('t', 0, [big, big], T);
    await s.append('t', 0, [text('after')], T);
    assert.deepEqual(await segmentBases(partitionDir(dataDir, 't', 0)), [0, 1, 3]);
    const all = await readAll(s, 't', 0);
    assert.deepEqual(all.map((r) => r.value.length), [5, 5000, 5000, 5]);
    await s.close();
  });

  it('rejects a batch over maxBatchBytes with EVM_TOO_LARGE and stays usable', async () => {
    const dataDir = await tempDir('toolarge');
    const s = await openLog({ dataDir, maxBatchBytes: 4096 });
    await s.createTopic('t', 1);
    await assert.rejects(s.append('t', 0, [Buffer.alloc(5000)]), { code: 'EVM_TOO_LARGE' });
    assert.deepEqual(await s.append('t', 0, [Buffer.alloc(100)]), { baseOffset: 0, count: 1 });
    await s.close();
  });

  it('rejects invalid options with EVM_BAD_CONFIG', () => {
    for (const bad of [{ fsync: 'sometimes' }, { segmentBytes: 0 }, { fsyncIntervalMs: 0 }, { retentionBytes: -2 }, { indexIntervalBytes: 1.5 }]) {
      assert.throws(() => new LogStorage({ dataDir: '/nonexistent', ...bad } as never), { code: 'EVM_BAD_CONFIG' }, JSON.stringify(bad));
    }
  });
});
