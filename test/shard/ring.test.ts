import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EvmeshError } from '../../src/errors.js';
import { Ring, RING_CONTROL_BYTES, RING_HEAD, RING_TAIL } from '../../src/shard/ring.js';
import { spawnWorker } from '../../src/shard/spawn.js';
import { rng } from '../helpers/rng.js';

/** A message of `len` bytes whose content is derived from `seq` (checkable on the other side). */
function message(seq: number, len: number): Uint8Array {
  const m = new Uint8Array(len);
  for (let i = 0; i < len; i++) m[i] = (seq * 31 + i * 7) & 0xff;
  return m;
}

function check(seq: number, m: Uint8Array, len: number): void {
  assert.equal(m.length, len, `length of message ${seq}`);
  for (let i = 0; i < len; i++) if (m[i] !== ((seq * 31 + i * 7) & 0xff)) assert.fail(`byte ${i} of message ${seq}`);
}

test('ring: write, drain, order and contiguous views', () => {
  const ring = Ring.create(1024);
  assert.equal(ring.maxMessageBytes, 508);
  for (let i = 0; i < 5; i++) assert.ok(ring.tryWrite(message(i, i * 3)));
  const got: Uint8Array[] = [];
  assert.equal(ring.drain((m) => got.push(m.slice())), 5);
  got.forEach((m, i) => check(i, m, i * 3));
  assert.equal(ring.drain(() => assert.fail('empty ring delivered')), 0);
  assert.equal(ring.usedBytes(), 0);
});

test('ring: capacity validation and EVM_TOO_LARGE', () => {
  assert.throws(() => Ring.create(1000), (e: unknown) => e instanceof EvmeshError && e.code === 'EVM_BAD_CONFIG');
  assert.throws(() => Ring.create(32), (e: unknown) => e instanceof EvmeshError && e.code === 'EVM_BAD_CONFIG');
  const ring = Ring.create(256);
  assert.throws(() => ring.tryWrite(new Uint8Array(ring.maxMessageBytes + 1)), (e: unknown) => e instanceof EvmeshError && e.code === 'EVM_TOO_LARGE');
  assert.equal(ring.usedBytes(), 0, 'nothing written on rejection');
});

test('ring: full ring refuses without partial writes, then accepts after drain', () => {
  const ring = Ring.create(256);
  let n = 0;
  while (ring.tryWrite(message(n, 20))) n++;
  assert.equal(n, Math.floor(256 / 24));
  const used = ring.usedBytes();
  assert.equal(ring.tryWrite(message(99, 20)), false);
  assert.equal(ring.usedBytes(), used);
  let seq = 0;
  ring.drain((m) => check(seq++, m, 20));
  assert.equal(seq, n);
  assert.ok(ring.tryWrite(message(n, 20)));
});

test('ring: a max-size message always fits an empty ring, wherever the positions are', () => {
  const ring = Ring.create(256);
  for (let shift = 0; shift < 256; shift += 4) {
    // Move both positions by `shift` bytes with header-only (empty) records.
    for (let i = 0; i < shift / 4; i++) assert.ok(ring.stage(new Uint8Array(0)));
    ring.publish();
    ring.drain(() => {});
    assert.ok(ring.tryWrite(message(shift, ring.maxMessageBytes)), `at offset shift ${shift}`);
    ring.drain((m) => check(shift, m, ring.maxMessageBytes));
  }
});

test('ring: wraparound with a skip marker keeps each message contiguous', () => {
  const ring = Ring.create(512);
  for (let i = 0; i < 2; i++) {
    assert.ok(ring.tryWrite(message(0, 200)));
    ring.drain(() => {});
  }
  // 104 bytes left before the end: a 120-byte message must go to offset 0.
  assert.ok(ring.tryWrite(message(1, 120)));
  ring.drain((m) => {
    check(1, m, 120);
    assert.equal(m.byteOffset, RING_CONTROL_BYTES + 4, 'record wrapped to the start of the data area');
  });
});

test('ring: batch publish — nothing is visible until publish, then the whole batch', () => {
  const ring = Ring.create(4096);
  for (let i = 0; i < 10; i++) assert.ok(ring.stage(message(i, 50)));
  assert.ok(ring.hasStaged());
  assert.equal(ring.hasData(), false);
  assert.equal(ring.drain(() => assert.fail('staged record visible')), 0);
  ring.publish();
  let seq = 0;
  assert.equal(ring.drain((m) => check(seq++, m, 50)), 10);
  const batch = Array.from({ length: 200 }, (_, i) => message(i, 40));
  const written = ring.writeMany(batch);
  assert.ok(written > 80 && written < 100, `${written} records of 44 bytes in 4096`);
  assert.equal(ring.stage(batch[written]!), false, 'writeMany stopped at the first record that did not fit');
  seq = 0;
  assert.equal(ring.drain((m) => check(seq++, m, 40)), written);
  const rest = ring.writeMany(batch, written);
  assert.ok(rest > 80);
  assert.equal(ring.drain((m) => check(seq++, m, 40)), rest);
});

test('ring: drainCopy hands out private copies and frees the space first', () => {
  const ring = Ring.create(256);
  const kept: Uint8Array[] = [];
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 3; i++) assert.ok(ring.tryWrite(message(round * 3 + i, 30 + i * 11)));
    ring.drainCopy((m) => {
      assert.ok(!(m.buffer instanceof SharedArrayBuffer));
      assert.equal(ring.usedBytes(), 0, 'space released before delivery');
      kept.push(m);
    });
  }
  kept.forEach((m, i) => check(i, m, 30 + (i % 3) * 11));
});

test('ring: exact over 3 million random-size messages, 32-bit position wrap included', () => {
  for (const copy of [false, true]) {
    const ring = Ring.create(1 << 16);
    // Start both positions just below 2^32 so the free-running counters wrap during the run.
    const ctl = new Int32Array(ring.buffer, 0, RING_CONTROL_BYTES / 4);
    ctl[RING_HEAD] = -4096;
    ctl[RING_TAIL] = -4096;
    const r = new Ring(ring.buffer);
    const random = rng(copy ? 7 : 42);
    const total = 1_500_000;
    const lens: number[] = [];
    let written = 0;
    let read = 0;
    const onMsg = (m: Uint8Array) => {
      const len = lens[read]!;
      assert.equal(m.length, len);
      // Spot-check content cheaply: first, last, middle byte.
      if (len > 0) {
        const s = read;
        if (m[0] !== ((s * 31) & 0xff) || m[len - 1] !== ((s * 31 + (len - 1) * 7) & 0xff) || m[len >> 1] !== ((s * 31 + (len >> 1) * 7) & 0xff)) assert.fail(`content of message ${s}`);
      }
      read++;
    };
    while (read < total) {
      const burst = 1 + Math.floor(random() * 64);
      for (let i = 0; i < burst && written < total; i++) {
        const len = random() < 0.01 ? Math.floor(random() * r.maxMessageBytes) : Math.floor(random() * 300);
        if (!r.stage(message(written, len))) break;
        lens.push(len);
        written++;
      }
      r.publish();
      if (random() < 0.7 || written === total) (copy ? r.drainCopy(onMsg) : r.drain(onMsg));
    }
    assert.equal(read, total);
    assert.equal(r.usedBytes(), 0);
    assert.ok(((ctl[RING_TAIL]! >>> 0) < 0x80000000), 'tail position wrapped past 2^32');
  }
});

test('ring: two threads — worker produces 1M messages, main consumes, sequence + checksum', async () => {
  const ring = Ring.create(1 << 16);
  const total = 1_000_000;
  const w = spawnWorker(new URL('./fixtures/ring-producer.ts', import.meta.url), { workerData: { buffer: ring.buffer, total } });
  const exited = new Promise<number>((resolve, reject) => { w.once('exit', resolve); w.once('error', reject); });
  let expected = 0;
  let checksum = 0;
  let wantChecksum = 0;
  while (expected < total) {
    ring.drain((m) => {
      const seq = m[0]! | (m[1]! << 8) | (m[2]! << 16) | (m[3]! << 24);
      if (seq !== expected) assert.fail(`expected message ${expected}, got ${seq}`);
      if (m.length !== 4 + (seq % 61)) assert.fail(`length of message ${seq}`);
      for (let i = 4; i < m.length; i++) {
        checksum = (checksum + m[i]!) | 0;
        wantChecksum = (wantChecksum + ((seq + i) & 0xff)) | 0;
      }
      expected++;
    });
    if (expected < total) await new Promise((r) => setImmediate(r));
  }
  assert.equal(checksum, wantChecksum);
  assert.equal(await exited, 0);
});
