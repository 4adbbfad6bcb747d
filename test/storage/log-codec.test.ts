// Pure codecs of the log: record batch, sparse index, offsets-log commit (docs/storage.md grammar).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32cJs } from '../../src/native.js';
import { INDEX_ENTRY_SIZE, SparseIndex } from '../../src/storage/log/index-file.js';
import { decodeCommits, encodeCommit } from '../../src/storage/log/offsets-log.js';
import { BatchEncoder, batchSize, checkBatch, encodeBatch, peekBatch } from '../../src/storage/log/record-batch.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** An annotated fixture: the first column of each line is hex, the rest is commentary. */
const fixture = (s: string): Buffer => hex(s.split('\n').map((line) => line.trim().split(/\s+/)[0] ?? '').join(''));

// One batch: baseOffset 5, one record "ab" with timestamp 0x0102030405.
const BATCH_FIXTURE = fixture(`
  0000001f                 len = 31 bytes follow
  54e94d10                 crc32c of the 31 - 4 bytes after this field
  00                       attrs
  0000000000000005         baseOffset
  00000001                 count
  00000002                 record 0: valueLen
  0000000102030405         record 0: timestamp
  6162                     record 0: value "ab"
`);

function encode(values: Uint8Array[], base: number, ts: number): Buffer {
  const b = encodeBatch(values, base, ts);
  // The vectored form (large values referenced in place, not copied) has the same bytes.
  for (const copyBelow of [0, 2, 1000, Infinity]) {
    const enc = new BatchEncoder(Buffer.alloc(2 * BatchEncoder.stageBytes(values, copyBelow)), copyBelow);
    enc.add(values, base, ts);
    enc.add(values, base + values.length, ts);
    const iov = enc.finish();
    for (const v of values) if (v.byteLength >= copyBelow) assert.ok(iov.includes(v), 'large values are not copied');
    assert.deepEqual(Buffer.concat(iov), Buffer.concat([b, encodeBatch(values, base + values.length, ts)]), `copyBelow ${copyBelow}`);
  }
  return b;
}

describe('record batch codec', () => {
  it('encodes the annotated fixture exactly', () => {
    assert.equal(BATCH_FIXTURE.length, 35);
    assert.deepEqual(encode([Buffer.from('ab')], 5, 0x0102030405), BATCH_FIXTURE);
    assert.equal(crc32cJs(BATCH_FIXTURE.subarray(8)), BATCH_FIXTURE.readUInt32BE(4), 'CRC covers everything after the crc field');
  });

  it('round-trips through peekBatch/checkBatch, including empty values and large offsets', () => {
    const values = [Buffer.from('x'), Buffer.alloc(0), Buffer.alloc(1000, 9)];
    const b = encode(values, 2 ** 40 + 3, Date.UTC(2030, 0, 1));
    assert.equal(b.length, batchSize(values));
    const h = peekBatch(b, 0, b.length)!;
    assert.deepEqual(h, { size: b.length, baseOffset: 2 ** 40 + 3, count: 3 });
    assert.equal(checkBatch(b, 0, h), undefined);
  });

  it('detects every flipped byte after the length field', () => {
    for (let i = 4; i < BATCH_FIXTURE.length; i++) {
      const b = Buffer.from(BATCH_FIXTURE);
      b[i]! ^= 0x40;
      const h = peekBatch(b, 0, b.length)!;
      assert.notEqual(checkBatch(b, 0, h), undefined, `flip at byte ${i}`);
    }
  });

  it('peekBatch needs a whole header', () => {
    assert.equal(peekBatch(BATCH_FIXTURE, 0, 20), undefined);
    assert.ok(peekBatch(BATCH_FIXTURE, 0, 21));
  });
});

describe('sparse index', () => {
  const idx = new SparseIndex();
  idx.add(0, 0, 100);
  idx.add(10, 4100, 100);
  idx.add(25, 8300, 130);
  idx.add(40, 12500, 200);

  it('finds the last entry at or below an offset', () => {
    assert.equal(idx.positionForOffset(0), 0);
    assert.equal(idx.positionForOffset(9), 0);
    assert.equal(idx.positionForOffset(10), 4100);
    assert.equal(idx.positionForOffset(39), 8300);
    assert.equal(idx.positionForOffset(1000), 12500);
  });

  it('finds the last entry whose max timestamp is below a time', () => {
    assert.equal(idx.positionBeforeTimestamp(50), 0);
    assert.equal(idx.positionBeforeTimestamp(100), 0);
    assert.equal(idx.positionBeforeTimestamp(101), 4100);
    assert.equal(idx.positionBeforeTimestamp(131), 8300);
    assert.equal(idx.positionBeforeTimestamp(1e12), 12500);
  });

  it('round-trips through its file form and refuses stale or malformed files', () => {
    const file = idx.encode();
    assert.equal(file.length, 4 * INDEX_ENTRY_SIZE);
    const back = SparseIndex.decode(file, 20000)!;
    assert.equal(back.length, 4);
    assert.equal(back.positionForOffset(30), 8300);
    assert.equal(SparseIndex.decode(file, 12000), undefined, 'points past the segment end');
    assert.equal(SparseIndex.decode(file.subarray(0, 20), 20000), undefined, 'partial entry');
    assert.equal(SparseIndex.decode(Buffer.concat([file.subarray(16, 32), file.subarray(0, 16)]), 20000), undefined, 'not ascending');
    assert.equal(SparseIndex.decode(Buffer.alloc(0), 100), undefined, 'empty index of a non-empty segment');
    assert.equal(SparseIndex.decode(Buffer.alloc(0), 0)!.length, 0);
  });
});

describe('offsets-log commit codec', () => {
  it('encodes the annotated fixture exactly', () => {
    // len=15 | crc32c | offset=7 | groupLen=1 | "g"
    assert.deepEqual(encodeCommit('g', 7), hex('0000000f 157f61cc 0000000000000007 0001 67'));
  });

  it('keeps the last commit per group and stops at a torn or corrupt record', () => {
    const log = Buffer.concat([encodeCommit('a', 1), encodeCommit('b', 2), encodeCommit('a', 3)]);
    assert.deepEqual([...decodeCommits(log).offsets], [['a', 3], ['b', 2]]);
    const torn = log.subarray(0, log.length - 3);
    const r = decodeCommits(torn);
    assert.deepEqual([...r.offsets], [['a', 1], ['b', 2]]);
    assert.equal(r.validBytes, encodeCommit('a', 1).length * 2);
    const flipped = Buffer.from(log);
    flipped[flipped.length - 1]! ^= 1;
    assert.deepEqual([...decodeCommits(flipped).offsets], [['a', 1], ['b', 2]]);
  });
});
