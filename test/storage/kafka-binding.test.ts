// The CloudEvents Kafka protocol binding, binary mode (src/storage/kafka/cloudevents-binding.ts):
// pure mapping between core codec bytes and Kafka messages; exact round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { encodeEvent } from '../../src/core/codec.js';
import type { MeshEvent } from '../../src/core/types.js';
import { fromKafka, toKafka, TYPES_HEADER, type Header } from '../../src/storage/kafka/cloudevents-binding.js';

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
