// The CloudEvents Kafka protocol binding, binary mode (src/storage/kafka/cloudevents-binding.ts):
// pure mapping between core codec bytes and Kafka messages; exact round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { decodeEvent, encodeEvent } from '../../src/core/codec.js';
import { partitionKeyOf } from '../../src/core/partitioner.js';
import type { AttrValue, MeshEvent } from '../../src/core/types.js';
import { fromKafka, toKafka, TYPES_HEADER, type Header } from '../../src/storage/kafka/cloudevents-binding.js';
import { rng } from '../helpers/rng.js';

const flat = (headers: Header[] | undefined): [string, string][] =>
  (headers ?? []).flatMap((h) => Object.entries(h).map(([k, v]) => [k, String(v)] as [string, string]));

test('binary mode: ce_ headers in attribute order, content-type, data as the value, key = partition key (binding §3.1, §3.2)', () => {
  const ev: MeshEvent = {
    attributes: { specversion: '1.0', id: 'x1', source: '/s', type: 't', datacontenttype: 'application/json', partitionkey: 'k-7', seq: 42, ok: false },
    data: Buffer.from('{"a":1}'),
  };
  const r = toKafka('orders', encodeEvent(ev));
  assert.equal(r.key, 'k-7');
  assert.equal(r.value!.toString(), '{"a":1}');
  assert.deepEqual(flat(r.headers), [
    ['ce_specversion', '1.0'], ['ce_id', 'x1'], ['ce_source', '/s'], ['ce_type', 't'], ['content-type', 'application/json'],
    ['ce_partitionkey', 'k-7'], ['ce_seq', '42'], ['ce_ok', 'false'], [TYPES_HEADER, 'seq:i,ok:b'],
  ]);
});

test('round trip is byte-exact: typed extensions, absent vs empty data, the subject as key but not the topic name', () => {
  const cases: MeshEvent[] = [
    { attributes: { specversion: '1.0', id: '1', source: '/s', type: 't', n: -5, b: true, s: 'x' }, data: Buffer.from([0, 1, 2, 255]) },
    { attributes: { specversion: '1.0', id: '2', source: '/s', type: 't' } },
    { attributes: { specversion: '1.0', id: '3', source: '/s', type: 't', subject: 'orders' }, data: new Uint8Array(0) },
  ];
  for (const ev of cases) {
    const bytes = encodeEvent(ev);
    const r = toKafka('orders', bytes);
    assert.ok(Buffer.from(fromKafka(r.value, r.headers)).equals(Buffer.from(bytes)), String(ev.attributes.id));
  }
  assert.equal(toKafka('orders', encodeEvent(cases[2]!)).key, null, 'subject = topic name is no key (partitioner.ts)');
  assert.equal(toKafka('other', encodeEvent(cases[2]!)).key, 'orders');
  assert.equal(toKafka('orders', encodeEvent(cases[1]!)).value, null, 'no data → null value');
});

test('values that are not a canonically encoded event are stored raw and read back raw', () => {
  for (const raw of [Buffer.from('hello'), Buffer.alloc(0), Buffer.from([0xce, 0x01, 0x07]), Buffer.from([0xce, 0x01, 0x00, 0x80, 0x00])]) {
    const r = toKafka('t', raw);
    assert.equal(r.headers, undefined);
    assert.equal(r.key, null);
    assert.ok(Buffer.from(fromKafka(r.value, r.headers)).equals(raw));
  }
});

test('a message from another producer: ce_ headers make a CloudEvent, anything else stays raw', () => {
  const got = fromKafka(Buffer.from('payload'), [
    { ce_specversion: Buffer.from('1.0') }, { ce_id: Buffer.from('k1') }, { ce_source: Buffer.from('/kcat') }, { ce_type: Buffer.from('t') },
    { 'content-type': Buffer.from('text/plain') }, { traceparent: Buffer.from('00-abc') }, { 'ce_Bad-Name': Buffer.from('x') },
  ]);
  assert.ok(Buffer.from(got).equals(Buffer.from(encodeEvent({
    attributes: { specversion: '1.0', id: 'k1', source: '/kcat', type: 't', datacontenttype: 'text/plain' }, data: Buffer.from('payload'),
  }))), 'non-ce headers and invalid attribute names are dropped');
  assert.equal(Buffer.from(fromKafka(Buffer.from('plain'), [{ traceparent: Buffer.from('x') }])).toString(), 'plain');
  assert.equal(fromKafka(null, undefined).length, 0);
});

/** The mapping by way of decodeEvent (what toKafka did before it scanned the bytes). */
function viaDecode(topic: string, bytes: Uint8Array): [string, string][] {
  const ev = decodeEvent(bytes);
  const out: [string, string][] = [];
  const types: string[] = [];
  for (const [name, v] of Object.entries(ev.attributes)) {
    if (name === 'datacontenttype' && typeof v === 'string') { out.push(['content-type', v]); continue; }
    if (typeof v !== 'string') types.push(`${name}:${typeof v === 'boolean' ? 'b' : Number.isInteger(v) ? 'i' : 'f'}`);
    out.push([`ce_${name}`, String(v)]);
  }
  if (types.length > 0) out.push([TYPES_HEADER, types.join(',')]);
  assert.equal(toKafka(topic, bytes).key, partitionKeyOf(ev, topic) ?? null);
  return out;
}

test('exactness over random events and random corruptions of them: fromKafka(toKafka(v)) is v, byte for byte; canonical events map as decodeEvent reads them', () => {
  const rand = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const names = ['specversion', 'id', 'source', 'type', 'datacontenttype', 'subject', 'partitionkey', 'seq', 'ok', 'x9', '0', '7', '42', '0123', 'data'];
  const values: AttrValue[] = ['', 'a', '1.0', 'orders', 'héllo ✓', '\u{1f600}', 'x'.repeat(300), 0, -5, 2 ** 51, -(2 ** 51), 0.5, -1.25, 1e300, 2 ** 53, true, false];
  let canonical = 0;
  for (let i = 0; i < 600; i++) {
    const attributes: Record<string, AttrValue> = rand() < 0.9 ? { specversion: '1.0' } : {};
    for (let k = Math.floor(rand() * 7); k > 0; k--) attributes[pick(names)] = pick(values);
    const r = rand();
    const ev: MeshEvent = r < 0.3 ? { attributes } : { attributes, data: r < 0.4 ? new Uint8Array(0) : Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 256))) };
    const bytes = encodeEvent(ev);
    const rec = toKafka('orders', bytes);
    assert.ok(Buffer.from(fromKafka(rec.value, rec.headers)).equals(Buffer.from(bytes)), `event ${i}`);
    if (!('data' in attributes) && 'specversion' in attributes) {
      canonical++;
      assert.deepEqual(flat(rec.headers), viaDecode('orders', bytes), `event ${i}: headers`);
    } else {
      assert.equal(rec.headers, undefined, `event ${i}: no specversion, or an attribute named data: not readable back from headers`);
    }
    for (let m = 0; m < 8; m++) {
      const bad = Buffer.from(bytes);
      const at = Math.floor(rand() * bad.length);
      const mutated = m % 3 === 0 ? bad.subarray(0, at) : m % 3 === 1 ? Buffer.concat([bad.subarray(0, at), Buffer.from([Math.floor(rand() * 256)]), bad.subarray(at)]) : (bad[at] = Math.floor(rand() * 256), bad);
      const mr = toKafka('orders', mutated);
      assert.ok(Buffer.from(fromKafka(mr.value, mr.headers)).equals(mutated), `event ${i} mutation ${m}`);
    }
  }
  assert.ok(canonical > 300, 'most random events are canonical');
});

test('not canonical, so stored raw: no specversion, overlong varints, a float-tagged integer, -0, NaN, invalid UTF-8, a duplicate name, index names out of order', () => {
  const ev = (attrs: [string, number, number[]][], tail: number[] = []) => Buffer.from([0xce, 0x01, 0x00, attrs.length,
    ...attrs.flatMap(([name, tag, v]) => [name.length, ...Buffer.from(name), tag, ...v]), ...tail]);
  const f64 = (x: number) => { const b = Buffer.alloc(8); b.writeDoubleLE(x); return [...b]; };
  const sv: [string, number, number[]] = ['specversion', 1, [3, ...Buffer.from('1.0')]];
  const base = ev([sv, ['id', 1, [1, 0x61]]]);
  assert.notEqual(toKafka('t', base).headers, undefined, 'the well-formed control case is scanned');
  for (const [what, bytes] of [
    ['no specversion', ev([['id', 1, [1, 0x61]]])],
    ['overlong string length', ev([sv, ['id', 1, [0x81, 0x00, 0x61]]])],
    ['float-tagged integer', ev([sv, ['n', 3, f64(3)]])],
    ['-0', ev([sv, ['n', 3, f64(-0)]])],
    ['NaN', ev([sv, ['n', 3, f64(NaN)]])],
    ['invalid UTF-8', ev([sv, ['s', 1, [3, 0xf0, 0x90, 0x80]]])],
    ['duplicate name', ev([sv, ['id', 1, [1, 0x61]], ['id', 1, [1, 0x62]]])],
    ['index names out of order', ev([sv, ['id', 1, [1, 0x61]], ['7', 1, [1, 0x62]]])],
    ['trailing bytes', ev([sv, ['id', 1, [1, 0x61]]], [0])],
  ] as const) {
    const r = toKafka('t', bytes);
    assert.equal(r.headers, undefined, what);
    assert.ok(Buffer.from(fromKafka(r.value, r.headers)).equals(bytes), what);
  }
});
