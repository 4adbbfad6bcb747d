// Recovery of the embedded log on open (docs/storage.md "Recovery").
import assert from 'node:assert/strict';
import { appendFile, open, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodeCommit } from '../../src/storage/log/offsets-log.js';
import { LogStorage } from '../../src/storage/log/log-storage.js';
import { readAll } from './conformance.js';
import { openLog, partitionDir, segmentPath, str, tempDir, text } from './log-helpers.js';

const T = Date.now();

/** 10 batches of 2 records into partition 0; returns the dir and each batch's end position. */
async function tenBatches(tag: string) {
  const dataDir = await tempDir(tag);
  const s = await openLog({ dataDir, fsync: 'always' });
  await s.createTopic('t', 1);
  const log = segmentPath(partitionDir(dataDir, 't', 0), 0, '.log');
  const ends: number[] = [];
  for (let b = 0; b < 10; b++) {
    await s.append('t', 0, [text(`b${b}-first`), text(`b${b}-second`.repeat(b + 1))], T + b);
    ends.push((await stat(log)).size);
  }
  await s.close();
  return { dataDir, log, ends };
}

async function expectBatches(dataDir: string, batches: number) {
  const s = await openLog({ dataDir, fsync: 'always' });
  assert.deepEqual(await s.bounds('t', 0), { start: 0, end: 2 * batches });
  const all = await readAll(s, 't', 0);
  assert.deepEqual(all.map((r) => str(r.value)), Array.from({ length: batches }, (_, b) => [`b${b}-first`, `b${b}-second`.repeat(b + 1)]).flat());
  // Appends continue right after the valid prefix, with no gap and no duplicate.
  assert.deepEqual(await s.append('t', 0, [text('new')], T + 100), { baseOffset: 2 * batches, count: 1 });
  assert.equal(str((await s.read('t', 0, 2 * batches))[0]!.value), 'new');
  await s.close();
}

describe('log recovery', () => {
  it('truncates a torn tail (file cut in the middle of the last batch)', async () => {
    const { dataDir, log, ends } = await tenBatches('torn');
    await truncate(log, ends[9]! - 7);
    const s = await openLog({ dataDir });
    await s.bounds('t', 0); // partitions open (and recover) lazily
    await s.close();
    assert.equal((await stat(log)).size, ends[8]!, 'cut back to the end of the last valid batch');
    await expectBatches(dataDir, 9);
  });

  it('truncates a tail cut inside a batch header', async () => {
    const { dataDir, log, ends } = await tenBatches('torn-header');
    await truncate(log, ends[8]! + 10);
    const s = await openLog({ dataDir });
    assert.deepEqual(await s.bounds('t', 0), { start: 0, end: 18 });
    await s.close();
    assert.equal((await stat(log)).size, ends[8]!);
  });

  it('truncates a last batch whose CRC fails (flipped byte)', async () => {
    const { dataDir, log, ends } = await tenBatches('crc');
    const fh = await open(log, 'r+');
    await fh.write(Buffer.from([0x5a]), 0, 1, ends[9]! - 3);
    await fh.close();
    await expectBatches(dataDir, 9);
  });

  it('truncates zero-filled garbage after the last batch (a preallocated or half-written tail)', async () => {
    const { dataDir, log } = await tenBatches('zeros');
    await appendFile(log, Buffer.alloc(4096));
    await expectBatches(dataDir, 10);
  });

  it('in the active segment, a corrupt batch ends the log there', async () => {
    const { dataDir, log, ends } = await tenBatches('middle');
    const fh = await open(log, 'r+');
    await fh.write(Buffer.from([0x5a]), 0, 1, ends[4]! + 25); // inside batch 5
    await fh.close();
    await expectBatches(dataDir, 5);
  });

  it('recovers with the active index file missing or garbage', async () => {
    const { dataDir, log } = await tenBatches('noindex');
    const index = log.replace(/\.log$/, '.index');
    await rm(index, { force: true });
    await expectBatches(dataDir, 10);
    await writeFile(index, Buffer.from('garbage'));
    const s = await openLog({ dataDir });
    assert.equal((await readAll(s, 't', 0)).length, 21);
    await s.close();
  });

  it('removes leftover temp files', async () => {
    const { dataDir } = await tenBatches('tmp');
    const dir = partitionDir(dataDir, 't', 0);
    await writeFile(join(dir, '00000000000000000000.index.123.tmp'), 'x');
    await expectBatches(dataDir, 10);
    await assert.rejects(stat(join(dir, '00000000000000000000.index.123.tmp')), { code: 'ENOENT' });
  });

  it('a crash mid-deleteTopic (renamed into trash/, not yet removed): the topic stays gone and trash/ is emptied at open', async () => {
    const { dataDir } = await tenBatches('trash');
    // What deleteTopic's rename leaves when the process dies before its rm.
    await rename(join(dataDir, 'topics', 't'), join(dataDir, 'trash', 't.1.abc'));
    const s = await openLog({ dataDir, fsync: 'always' });
    assert.deepEqual(await s.listTopics(), []);
    assert.deepEqual(await readdir(join(dataDir, 'trash')), []);
    await s.createTopic('t', 1);
    assert.deepEqual(await s.bounds('t', 0), { start: 0, end: 0 });
    await s.close();
  });

  it('offsets.log: a torn last commit is dropped and the file compacted', async () => {
    const dataDir = await tempDir('offsets');
    const s = await openLog({ dataDir, fsync: 'always' });
    await s.createTopic('t', 1);
    for (let i = 1; i <= 5; i++) await s.commitOffset('g', 't', 0, i);
    await s.commitOffset('h', 't', 0, 100);
    await s.close();
    const path = join(partitionDir(dataDir, 't', 0), 'offsets.log');
    await appendFile(path, encodeCommit('g', 999).subarray(0, 10)); // torn
    const s2 = await openLog({ dataDir });
    assert.equal(await s2.fetchOffset('g', 't', 0), 5);
    assert.equal(await s2.fetchOffset('h', 't', 0), 100);
    await s2.close();
    assert.deepEqual(await readFile(path), Buffer.concat([encodeCommit('g', 5), encodeCommit('h', 100)]));
  });

  it('offsets.log: an empty file left by a crash right after its creation is reused', async () => {
    const dataDir = await tempDir('offsets-empty');
    const s = await openLog({ dataDir, fsync: 'always' });
    await s.createTopic('t', 1);
    await s.append('t', 0, [Buffer.from('x')]);
    await s.close();
    await writeFile(join(partitionDir(dataDir, 't', 0), 'offsets.log'), '');
    const s2 = await openLog({ dataDir, fsync: 'always' });
    assert.equal(await s2.fetchOffset('g', 't', 0), undefined);
    await s2.commitOffset('g', 't', 0, 1);
    await s2.close();
    const s3 = await openLog({ dataDir });
    assert.equal(await s3.fetchOffset('g', 't', 0), 1);
    await s3.close();
  });

  it('offsets.log compacts itself when it grows', async () => {
    const dataDir = await tempDir('offsets-compact');
    const s = await openLog({ dataDir, fsync: 'never' });
    await s.createTopic('t', 1);
    for (let i = 0; i < 5000; i++) await s.commitOffset('group', 't', 0, i);
    await s.close();
    const size = (await stat(join(partitionDir(dataDir, 't', 0), 'offsets.log'))).size;
    assert.ok(size < 64 * 1024 + 100, `offsets.log is ${size} bytes`);
    const s2 = await openLog({ dataDir });
    assert.equal(await s2.fetchOffset('group', 't', 0), 4999);
    await s2.close();
  });

  it('two instances on one dataDir creating the same topic concurrently agree on one meta', async () => {
    const dataDir = await tempDir('two');
    const [a, b] = await Promise.all([openLog({ dataDir }), openLog({ dataDir })]);
    const metas = await Promise.all([a.createTopic('shared', 4), b.createTopic('shared', 4), a.createTopic('shared', 4), b.createTopic('shared', 4)]);
    for (const m of metas) assert.deepEqual(m, metas[0]);
    await assert.rejects(b.createTopic('shared', 5), { code: 'EVM_TOPIC_EXISTS' });
    // b sees a topic created by a later call on a, and each owns its own partitions.
    await a.createTopic('later', 2);
    await b.append('later', 1, [text('from b')], T);
    await a.append('later', 0, [text('from a')], T);
    await a.close();
    await b.close();
    const c = new LogStorage({ dataDir });
    await c.open();
    assert.deepEqual((await c.listTopics()).map((m) => m.name), ['later', 'shared']);
    assert.equal(str((await c.read('later', 1, 0))[0]!.value), 'from b');
    await c.close();
  });
});
