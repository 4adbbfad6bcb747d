// The Storage conformance suite (DESIGN §3): every backend (memory, log, later kafka, redis …)
// runs it. Backend-neutral: only the Storage interface, no files, no timing assertions.
//
// `make` returns a new, not yet opened Storage on fresh, empty state; the suite opens and closes
// it. `reopen(old)` (for durable backends) is called after `old.close()` and returns a new, not
// yet opened instance on the same data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Storage, StoredRecord } from '../../src/storage/types.js';

export interface ConformanceOptions {
  readonly reopen?: (old: Storage) => Promise<Storage>;
  /** Longest valid topic name when the backend's namespace is narrower than TOPIC_NAME's 249
   *  (Kafka: 249 less the storage's topic prefix, which isolates each test's topics). */
  readonly maxTopicName?: number;
  /** A second, not yet opened instance on the same live data as `s` (a shard's instance beside
   *  the controller's: the log on one dataDir); backends whose data is per instance omit it. */
  readonly peer?: (s: Storage) => Promise<Storage>;
}

const bytes = (v: Uint8Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const code = (c: string) => ({ code: c });

/** Reads everything from `from` to the end, however many calls the backend needs. */
export async function readAll(s: Storage, topic: string, partition: number, from = 0): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for (let offset = from; ;) {
    const batch = await s.read(topic, partition, offset);
    if (batch.length === 0) return out;
    for (const r of batch) {
      assert.equal(r.offset, offset, 'records come back in order without gaps');
      out.push({ offset: r.offset, timestamp: r.timestamp, value: Buffer.from(r.value) });
      offset++;
    }
  }
}

function assertValues(records: readonly StoredRecord[], expected: readonly Uint8Array[], firstOffset = 0): void {
  assert.equal(records.length, expected.length);
  records.forEach((r, i) => {
    assert.equal(r.offset, firstOffset + i);
    assert.ok(bytes(r.value).equals(bytes(expected[i]!)), `value at offset ${r.offset} differs`);
  });
}

export function runStorageConformance(name: string, make: () => Promise<Storage>, opts: ConformanceOptions = {}): void {
  async function withStorage(fn: (s: Storage) => Promise<void>): Promise<void> {
    const s = await make();
    await s.open();
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  }
  const T = Date.now(); // realistic timestamps: backends may apply age-based retention

  describe(`Storage conformance: ${name}`, () => {
    describe('topics', () => {
      it('createTopic returns the meta and is idempotent with the same partition count', () => withStorage(async (s) => {
        const m1 = await s.createTopic('orders', 3);
        assert.equal(m1.name, 'orders');
        assert.equal(m1.partitions, 3);
        assert.equal(typeof m1.createdAt, 'number');
        const m2 = await s.createTopic('orders', 3);
        assert.deepEqual({ ...m2 }, { ...m1 });
        const all = await s.listTopics();
        assert.deepEqual(all.map((t) => t.name), ['orders']);
      }));

      it('concurrent createTopic calls with the same arguments agree', () => withStorage(async (s) => {
        const metas = await Promise.all([1, 2, 3, 4].map(() => s.createTopic('race', 2)));
        for (const m of metas) assert.deepEqual({ ...m }, { ...metas[0]! });
        assert.equal((await s.listTopics()).length, 1);
      }));

      it('createTopic with another partition count fails with EVM_TOPIC_EXISTS', () => withStorage(async (s) => {
        await s.createTopic('t', 2);
        await assert.rejects(s.createTopic('t', 3), code('EVM_TOPIC_EXISTS'));
        assert.equal((await s.listTopics())[0]!.partitions, 2);
      }));

      it('rejects bad topic names with EVM_BAD_TOPIC and accepts the edge of the valid ones', () => withStorage(async (s) => {
        const max = opts.maxTopicName ?? 249;
        for (const bad of ['', '.', '..', 'a/b', 'a b', 'a\\b', 'é', 'x'.repeat(max + 1), 'a\0b']) {
          await assert.rejects(s.createTopic(bad, 1), code('EVM_BAD_TOPIC'), JSON.stringify(bad));
        }
        for (const good of ['x'.repeat(max), '...', '.hidden', 'A.b-c_D9']) await s.createTopic(good, 1);
        assert.equal((await s.listTopics()).length, 4);
      }));

      it('rejects partition counts that are not integers >= 1 with EVM_BAD_REQUEST', () => withStorage(async (s) => {
        for (const bad of [0, -1, 1.5, Number.NaN]) await assert.rejects(s.createTopic('t', bad), code('EVM_BAD_REQUEST'), String(bad));
        assert.deepEqual(await s.listTopics(), []);
      }));

      it('listTopics lists every topic once', () => withStorage(async (s) => {
        await s.createTopic('b', 1);
        await s.createTopic('a', 4);
        const all = (await s.listTopics()).map((t) => [t.name, t.partitions]).sort();
        assert.deepEqual(all, [['a', 4], ['b', 1]]);
      }));

      it('deleteTopic removes the topic, its records and its offsets', () => withStorage(async (s) => {
        await s.createTopic('gone', 2);
        await s.append('gone', 0, [text('a'), text('b')], T);
        await s.commitOffset('g', 'gone', 0, 2);
        assert.equal(await s.deleteTopic('gone'), true);
        assert.equal(await s.deleteTopic('gone'), false);
        assert.deepEqual(await s.listTopics(), []);
        await assert.rejects(s.append('gone', 0, [text('c')], T), code('EVM_UNKNOWN_TOPIC'));
        await assert.rejects(s.read('gone', 0, 0), code('EVM_UNKNOWN_TOPIC'));
        await s.createTopic('gone', 3); // a new topic with the same name starts empty
        assert.deepEqual(await s.bounds('gone', 0), { start: 0, end: 0 });
        assert.equal(await s.fetchOffset('g', 'gone', 0), undefined);
        assert.deepEqual(await s.read('gone', 0, 0), []);
        assert.equal(await s.deleteTopic('never-existed'), false);
      }));

      it('releaseTopic keeps the instance usable: the topic can then be deleted and created afresh', () => withStorage(async (s) => {
        await s.createTopic('let-go', 2);
        await s.append('let-go', 1, [text('a')], T);
        await s.commitOffset('g', 'let-go', 1, 1);
        await s.releaseTopic('let-go');
        await s.releaseTopic('never-existed');
        await s.deleteTopic('let-go');
        await s.createTopic('let-go', 1);
        assert.deepEqual(await s.bounds('let-go', 0), { start: 0, end: 0 });
        assert.equal(await s.fetchOffset('g', 'let-go', 0), undefined);
      }));

      const peer = opts.peer;
      if (peer) {
        it('releaseTopic leaves nothing stale when a peer instance deletes and recreates the topic', () => withStorage(async (s) => {
          const other = await peer(s);
          await other.open();
          try {
            await s.createTopic('shared', 2);
            await s.append('shared', 1, [text('old')], T);
            await s.commitOffset('g', 'shared', 1, 1);
            await s.releaseTopic('shared');
            assert.equal(await other.deleteTopic('shared'), true);
            await other.createTopic('shared', 1);
            // The new topic: one partition, empty, no offsets; appends here land in it.
            await assert.rejects(s.bounds('shared', 1), code('EVM_BAD_REQUEST'));
            assert.deepEqual(await s.bounds('shared', 0), { start: 0, end: 0 });
            assert.equal(await s.fetchOffset('g', 'shared', 0), undefined);
            await s.append('shared', 0, [text('new')], T);
            assertValues(await readAll(other, 'shared', 0), [text('new')]);
          } finally {
            await other.close();
          }
        }));
      }

      it('unknown topics fail with EVM_UNKNOWN_TOPIC everywhere', () => withStorage(async (s) => {
        await assert.rejects(s.append('nope', 0, [text('x')]), code('EVM_UNKNOWN_TOPIC'));
        await assert.rejects(s.read('nope', 0, 0), code('EVM_UNKNOWN_TOPIC'));
        await assert.rejects(s.bounds('nope', 0), code('EVM_UNKNOWN_TOPIC'));
        await assert.rejects(s.offsetForTimestamp('nope', 0, T), code('EVM_UNKNOWN_TOPIC'));
        await assert.rejects(s.commitOffset('g', 'nope', 0, 1), code('EVM_UNKNOWN_TOPIC'));
        await assert.rejects(s.fetchOffset('g', 'nope', 0), code('EVM_UNKNOWN_TOPIC'));
      }));

      it('partitions outside [0, partitions) fail with EVM_BAD_REQUEST everywhere', () => withStorage(async (s) => {
        await s.createTopic('t', 2);
        for (const p of [-1, 2, 1.5]) {
          await assert.rejects(s.append('t', p, [text('x')]), code('EVM_BAD_REQUEST'), `append ${p}`);
          await assert.rejects(s.read('t', p, 0), code('EVM_BAD_REQUEST'), `read ${p}`);
          await assert.rejects(s.bounds('t', p), code('EVM_BAD_REQUEST'), `bounds ${p}`);
          await assert.rejects(s.offsetForTimestamp('t', p, T), code('EVM_BAD_REQUEST'), `offsetForTimestamp ${p}`);
          await assert.rejects(s.commitOffset('g', 't', p, 0), code('EVM_BAD_REQUEST'), `commitOffset ${p}`);
          await assert.rejects(s.fetchOffset('g', 't', p), code('EVM_BAD_REQUEST'), `fetchOffset ${p}`);
        }
      }));
    });

    describe('append and read', () => {
      it('round-trips exact bytes, offsets and timestamps', () => withStorage(async (s) => {
        await s.createTopic('t', 1);
        const all256 = Uint8Array.from({ length: 256 }, (_, i) => i);
        const values = [text('hello'), new Uint8Array(0), all256, text('ünïcödé ✓'), all256.subarray(10, 20)];
        const r = await s.append('t', 0, values, T);
        assert.deepEqual(r, { baseOffset: 0, count: 5 });
        const got = await s.read('t', 0, 0);
        assertValues(got, values);
        for (const rec of got) assert.equal(rec.timestamp, T);
      }));

      it('assigns contiguous offsets across batches, in call order for concurrent appends', () => withStorage(async (s) => {
        await s.createTopic('t', 1);
        const sizes = [3, 1, 5, 2, 4, 1, 1, 7];
        const results = await Promise.all(sizes.map((n, b) =>
          s.append('t', 0, Array.from({ length: n }, (_, i) => text(`b${b}r${i}`)), T + b)));
        let next = 0;
        results.forEach((r, b) => {
          assert.deepEqual(r, { baseOffset: next, count: sizes[b] });
          next += sizes[b]!;
        });
        const r = await s.append('t', 0, [text('last')], T + 9);
        assert.equal(r.baseOffset, next);
        const got = await readAll(s, 't', 0);
        assert.equal(got.length, next + 1);
        assert.equal(Buffer.from(got[3]!.value).toString(), 'b1r0');
        assert.equal(got[3]!.timestamp, T + 1);
        assert.deepEqual(await s.bounds('t', 0), { start: 0, end: next + 1 });
      }));

      it('keeps the bytes as appended when the caller reuses its buffers afterwards', () => withStorage(async (s) => {
        await s.createTopic('t', 1);
        const buf = Buffer.from('original');
        await s.append('t', 0, [buf, buf.subarray(0, 4)], T);
        buf.fill(0x21);
        const got = await s.read('t', 0, 0);
        assert.deepEqual(got.map((r) => Buffer.from(r.value).toString()), ['original', 'orig']);
      }));

      it('an empty batch is a no-op that returns the current end and count 0', () => withStorage(async (s) => {
        await s.createTopic('t', 1);
        assert.deepEqual(await s.append('t', 0, [], T), { baseOffset: 0, count: 0 });
        await s.append('t', 0, [text('a'), text('b')], T);
        assert.deepEqual(await s.append('t', 0, [], T), { baseOffset: 2, count: 0 });
        assert.deepEqual(await s.bounds('t', 0), { start: 0, end: 2 });
        assert.equal((await s.read('t', 0, 0)).length, 2);
      }));

      it('rejects malformed appends with EVM_BAD_REQUEST', () => withStorage(async (s) => {
        await s.createTopic('t', 1);
        for (const ts of [-1, 1.5, Number.NaN, Infinity]) await assert.rejects(s.append('t', 0, [text('x')], ts), code('EVM_BAD_REQUEST'), String(ts));
        await assert.rejects(s.append('t', 0, ['str' as unknown as Uint8Array]), code('EVM_BAD_REQUEST'));
        assert.deepEqual(await s.bounds('t', 0), { start: 0, end: 0 });
      }));

      it('timestamp defaults to now', () => withStorage(async (s) => {
        await s.createTopic('t', 1);
        const before = Date.now();
        await s.append('t', 0, [text('x')]);
        const after = Date.now();
        const [rec] = await s.read('t', 0, 0);
        assert.ok(rec!.timestamp >= before && rec!.timestamp <= after);
      }));

      it('reads from the middle of a batch', () => withStorage(async (s) => {
        await s.createTopic('t', 1);
        const values = Array.from({ length: 10 }, (_, i) => text(`v${i}`));
        await s.append('t', 0, values.slice(0, 6), T);
        await s.append('t', 0, values.slice(6), T);
        assertValues(await s.read('t', 0, 4), values.slice(4), 4);
        assertValues(await s.read('t', 0, 7), values.slice(7), 7);
      }));

      it('honours maxRecords and maxBytes (soft: at least one record)', () => withStorage(async (s) => {
        await s.createTopic('t', 1);
        const values = Array.from({ length: 20 }, (_, i) => new Uint8Array(100).fill(i));
        await s.append('t', 0, values.slice(0, 10), T);
        await s.append('t', 0, values.slice(10), T);
        assertValues(await s.read('t', 0, 0, { maxRecords: 3 }), values.slice(0, 3));
        assertValues(await s.read('t', 0, 8, { maxRecords: 5 }), values.slice(8, 13), 8);
        assertValues(await s.read('t', 0, 0, { maxBytes: 250 }), values.slice(0, 2));
        assertValues(await s.read('t', 0, 5, { maxBytes: 1 }), values.slice(5, 6), 5);
        assertValues(await s.read('t', 0, 9, { maxBytes: 300, maxRecords: 2 }), values.slice(9, 11), 9);
        assert.equal((await s.read('t', 0, 0)).length, 20);
      }));

      it('rejects malformed read options with EVM_BAD_REQUEST', () => withStorage(async (s) => {
        await s.createTopic('t', 1);
        await s.append('t', 0, [text('x')], T);
        await assert.rejects(s.read('t', 0, 0, { maxRecords: 0 }), code('EVM_BAD_REQUEST'));
        await assert.rejects(s.read('t', 0, 0, { maxRecords: 1.5 }), code('EVM_BAD_REQUEST'));
        await assert.rejects(s.read('t', 0, 0, { maxBytes: 0 }), code('EVM_BAD_REQUEST'));
      }));

      it('reading at or past the end returns []; below the start fails with EVM_BAD_OFFSET', () => withStorage(async (s) => {
        await s.createTopic('t', 1);
        assert.deepEqual(await s.read('t', 0, 0), []);
        await s.append('t', 0, [text('a'), text('b')], T);
        assert.deepEqual(await s.read('t', 0, 2), []);
        assert.deepEqual(await s.read('t', 0, 1000), []);
        await assert.rejects(s.read('t', 0, -1), code('EVM_BAD_OFFSET'));
        await assert.rejects(s.read('t', 0, 0.5), code('EVM_BAD_OFFSET'));
      }));

      it('bounds of an empty and a written partition', () => withStorage(async (s) => {
        await s.createTopic('t', 2);
        assert.deepEqual(await s.bounds('t', 1), { start: 0, end: 0 });
        await s.append('t', 1, [text('a'), text('b'), text('c')], T);
        assert.deepEqual(await s.bounds('t', 1), { start: 0, end: 3 });
        assert.deepEqual(await s.bounds('t', 0), { start: 0, end: 0 });
      }));

      it('keeps partitions independent (many partitions, concurrent appends)', () => withStorage(async (s) => {
        const P = 16;
        await s.createTopic('wide', P);
        await Promise.all(Array.from({ length: P }, async (_, p) => {
          for (let b = 0; b < 3; b++) {
            const r = await s.append('wide', p, Array.from({ length: p + 1 }, (_, i) => text(`p${p}b${b}i${i}`)), T);
            assert.equal(r.baseOffset, b * (p + 1));
          }
        }));
        for (let p = 0; p < P; p++) {
          const got = await readAll(s, 'wide', p);
          assert.equal(got.length, 3 * (p + 1));
          assert.equal(Buffer.from(got.at(-1)!.value).toString(), `p${p}b2i${p}`);
        }
      }));

      it('stores and reads large values (1 MiB) byte-exact', () => withStorage(async (s) => {
        await s.createTopic('big', 1);
        const big = Array.from({ length: 3 }, (_, i) => {
          const v = new Uint8Array(1 << 20);
          for (let j = 0; j < v.length; j += 97) v[j] = (i * 31 + j) & 0xff;
          return v;
        });
        await s.append('big', 0, [text('small'), big[0]!], T);
        await s.append('big', 0, [big[1]!, big[2]!], T);
        assertValues(await readAll(s, 'big', 0), [text('small'), ...big]);
        assertValues(await s.read('big', 0, 2, { maxBytes: 1 }), [big[1]!], 2);
      }));
    });

    describe('offsetForTimestamp', () => {
      it('finds the first offset at or after a timestamp; end when none', () => withStorage(async (s) => {
        await s.createTopic('t', 1);
        assert.equal(await s.offsetForTimestamp('t', 0, T), 0);
        await s.append('t', 0, [text('a'), text('b')], T);
        await s.append('t', 0, [text('c'), text('d')], T + 10);
        await s.append('t', 0, [text('e'), text('f')], T + 20);
        assert.equal(await s.offsetForTimestamp('t', 0, 0), 0);
        assert.equal(await s.offsetForTimestamp('t', 0, T - 1), 0);
        assert.equal(await s.offsetForTimestamp('t', 0, T), 0);
        assert.equal(await s.offsetForTimestamp('t', 0, T + 1), 2);
        assert.equal(await s.offsetForTimestamp('t', 0, T + 10), 2);
        assert.equal(await s.offsetForTimestamp('t', 0, T + 15), 4);
        assert.equal(await s.offsetForTimestamp('t', 0, T + 20), 4);
        assert.equal(await s.offsetForTimestamp('t', 0, T + 21), 6);
        assert.equal(await s.offsetForTimestamp('t', 0, Number.MAX_SAFE_INTEGER), 6);
      }));
    });

    describe('consumer offsets', () => {
      it('commits and fetches per group, topic and partition', () => withStorage(async (s) => {
        await s.createTopic('t', 2);
        await s.createTopic('u', 1);
        assert.equal(await s.fetchOffset('g1', 't', 0), undefined);
        await s.commitOffset('g1', 't', 0, 5);
        await s.commitOffset('g2', 't', 0, 7);
        await s.commitOffset('g1', 't', 1, 9);
        await s.commitOffset('g1', 'u', 0, 11);
        assert.equal(await s.fetchOffset('g1', 't', 0), 5);
        assert.equal(await s.fetchOffset('g2', 't', 0), 7);
        assert.equal(await s.fetchOffset('g1', 't', 1), 9);
        assert.equal(await s.fetchOffset('g2', 't', 1), undefined);
        assert.equal(await s.fetchOffset('g1', 'u', 0), 11);
        await s.commitOffset('g1', 't', 0, 3); // rewinding is allowed
        assert.equal(await s.fetchOffset('g1', 't', 0), 3);
        await Promise.all([1, 2, 3, 4, 5].map((o) => s.commitOffset('g3', 't', 0, o)));
        assert.equal(await s.fetchOffset('g3', 't', 0), 5, 'the last of concurrent commits wins');
        await s.commitOffset('grüppe/ä b', 't', 0, 0);
        assert.equal(await s.fetchOffset('grüppe/ä b', 't', 0), 0);
      }));

      it('rejects malformed commits with EVM_BAD_REQUEST', () => withStorage(async (s) => {
        await s.createTopic('t', 1);
        await assert.rejects(s.commitOffset('', 't', 0, 1), code('EVM_BAD_REQUEST'));
        for (const o of [-1, 1.5, Number.NaN]) await assert.rejects(s.commitOffset('g', 't', 0, o), code('EVM_BAD_REQUEST'), String(o));
        assert.equal(await s.fetchOffset('g', 't', 0), undefined);
      }));
    });

    describe('lifecycle', () => {
      it('flush resolves; after close every call fails with EVM_UNAVAILABLE', async () => {
        const s = await make();
        await s.open();
        await s.createTopic('t', 1);
        await s.append('t', 0, [text('x')], T);
        await s.flush();
        await s.close();
        await assert.rejects(s.append('t', 0, [text('y')], T), code('EVM_UNAVAILABLE'));
        await assert.rejects(s.read('t', 0, 0), code('EVM_UNAVAILABLE'));
        await assert.rejects(s.createTopic('u', 1), code('EVM_UNAVAILABLE'));
        await assert.rejects(s.commitOffset('g', 't', 0, 1), code('EVM_UNAVAILABLE'));
      });

      const reopen = opts.reopen;
      if (reopen) {
        it('persists topics, records and offsets across close and reopen', async () => {
          const s1 = await make();
          await s1.open();
          const meta = await s1.createTopic('keep', 3);
          await s1.createTopic('other', 1);
          const values = Array.from({ length: 50 }, (_, i) => text(`record ${i} `.repeat(i % 7)));
          for (let i = 0; i < 50; i += 10) await s1.append('keep', 1, values.slice(i, i + 10), T + i);
          await s1.append('keep', 2, [new Uint8Array(1 << 20).fill(7)], T);
          await s1.commitOffset('g', 'keep', 1, 42);
          await s1.commitOffset('g', 'keep', 1, 43);
          await s1.commitOffset('h', 'keep', 2, 1);
          await s1.deleteTopic('other');
          await s1.close();

          const s2 = await reopen(s1);
          await s2.open();
          try {
            assert.deepEqual((await s2.listTopics()).map((m) => ({ ...m })), [{ ...meta }]);
            assert.deepEqual(await s2.createTopic('keep', 3), meta);
            assert.deepEqual(await s2.bounds('keep', 1), { start: 0, end: 50 });
            assert.deepEqual(await s2.bounds('keep', 0), { start: 0, end: 0 });
            const got = await readAll(s2, 'keep', 1);
            assertValues(got, values);
            assert.equal(got[25]!.timestamp, T + 20);
            assert.equal(await s2.offsetForTimestamp('keep', 1, T + 25), 30);
            assert.equal((await s2.read('keep', 2, 0))[0]!.value.length, 1 << 20);
            assert.equal(await s2.fetchOffset('g', 'keep', 1), 43);
            assert.equal(await s2.fetchOffset('h', 'keep', 2), 1);
            assert.deepEqual(await s2.append('keep', 1, [text('after')], T + 60), { baseOffset: 50, count: 1 });
            await assert.rejects(s2.read('other', 0, 0), code('EVM_UNKNOWN_TOPIC'));
          } finally {
            await s2.close();
          }
          const s3 = await reopen(s2);
          await s3.open();
          try {
            assert.deepEqual(await s3.bounds('keep', 1), { start: 0, end: 51 });
          } finally {
            await s3.close();
          }
        });
      }
    });
  });
}
