// The hand-written CloudEvent protobuf codec (src/protocol/grpc/codec.ts, spec G4) against
// protobufjs (proto-loader) as the reference: both directions, every field and attribute type,
// negative integers, every prefix of a message and random bytes (only EVM_BAD_FRAME, never a crash);
// and the one-step push encoder (encode-event.ts) against the two steps it replaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageType } from '../../src/protocol/grpc/proto.js';
import { decodeCloudEvent, decodeCloudEventBatch, encodeCloudEvent, encodeCloudEventBatch } from '../../src/protocol/grpc/codec.js';
import { fromMeshEvent, type PbCloudEvent } from '../../src/protocol/grpc/cloudevent.js';
import { encodeMeshEvent } from '../../src/protocol/grpc/encode-event.js';
import type { MeshEvent } from '../../src/core/types.js';
import { EvmeshError } from '../../src/errors.js';

type Ref = { serialize(v: object): Buffer; deserialize(b: Buffer): object };
const ref = messageType('org.apache.eventmesh.cloudevents.v1.CloudEvent') as unknown as Ref;
const refBatch = messageType('org.apache.eventmesh.cloudevents.v1.CloudEventBatch') as unknown as Ref;

const full: PbCloudEvent = {
  id: 'id-1', source: '/src', spec_version: '1.0', type: 'tÿpe ✓',
  attributes: {
    s: { ce_string: 'text' }, i: { ce_integer: 42 }, n: { ce_integer: -7 }, b: { ce_boolean: true }, f: { ce_boolean: false },
    y: { ce_bytes: Buffer.from([0, 255, 1]) }, u: { ce_uri: 'https://x/y' }, r: { ce_uri_ref: '/rel' },
    t: { ce_timestamp: { seconds: '1700000000', nanos: 123456789 } }, neg: { ce_timestamp: { seconds: '-5' } },
  },
  binary_data: Buffer.alloc(300, 7),
};

/** proto-loader's object (oneofs: true adds `attr`/`data`) → the codec's shape. */
function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'attr' && k !== 'data').map(([k, x]) => [k, plain(x)]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  }
  return v;
}

test('G4: what protobufjs encodes, codec.ts decodes identically (all attribute types, text/binary/proto data)', () => {
  for (const ev of [full, { ...full, binary_data: undefined, text_data: 'héllo' }, { ...full, binary_data: undefined, proto_data: { type_url: 't/x', value: Buffer.from([8, 1]) } }, {}]) {
    const clean = JSON.parse(JSON.stringify(ev, (_k, v) => (v === undefined ? undefined : v))) as PbCloudEvent;
    const bytes = ref.serialize(ev);
    assert.deepEqual(plain(decodeCloudEvent(bytes)), plain(ref.deserialize(bytes)), JSON.stringify(clean).slice(0, 80));
  }
});

test('G4: what codec.ts encodes, protobufjs decodes to the same event; batches both ways', () => {
  const bytes = encodeCloudEvent(full);
  assert.deepEqual(plain(ref.deserialize(bytes)), plain(full));
  assert.deepEqual(plain(decodeCloudEvent(bytes)), plain(full));
  const batch = { events: [full, { id: 'b', spec_version: '1.0', text_data: 'x' }] };
  assert.deepEqual(plain(refBatch.deserialize(encodeCloudEventBatch(batch))), plain(batch));
  assert.deepEqual(plain(decodeCloudEventBatch(refBatch.serialize(batch))), plain(batch));
  assert.deepEqual(decodeCloudEventBatch(Buffer.alloc(0)), { events: [] });
});

test('decoding: unknown fields are skipped, the last oneof member wins, "__proto__" is a plain key', () => {
  const known = ref.serialize({ id: 'a', text_data: 'first' });
  // field 15 varint, field 14 fixed64, field 13 fixed32, then binary_data replacing text_data.
  const extra = Buffer.from([15 << 3, 0x96, 0x01, (14 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8, (13 << 3) | 5, 1, 2, 3, 4, (6 << 3) | 2, 2, 9, 9]);
  const ev = decodeCloudEvent(Buffer.concat([known, extra]));
  assert.equal(ev.id, 'a');
  assert.equal(ev.text_data, undefined);
  assert.deepEqual([...ev.binary_data!], [9, 9]);
  const proto = decodeCloudEvent(ref.serialize({ attributes: { ['__proto__']: { ce_string: 'x' } } }));
  assert.equal(Object.getPrototypeOf(proto.attributes), Object.prototype, 'the map keeps its prototype');
  assert.deepEqual(Object.keys(proto.attributes!), ['__proto__']);
  assert.equal(Object.getOwnPropertyDescriptor(proto.attributes, '__proto__')!.value.ce_string, 'x');
});

test('bad input: every truncation of a message and random bytes decode or fail with EVM_BAD_FRAME only', () => {
  const bytes = ref.serialize(full);
  let failures = 0;
  for (let n = 0; n < bytes.length; n++) {
    try { decodeCloudEvent(bytes.subarray(0, n)); } catch (err) {
      failures++;
      assert.ok(err instanceof EvmeshError && err.code === 'EVM_BAD_FRAME', String(err));
    }
  }
  assert.ok(failures > bytes.length / 2, 'most truncations are detected');
  let seed = 1;
  const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  for (let i = 0; i < 2000; i++) {
    const junk = Buffer.from(Array.from({ length: rand() % 64 }, () => rand() & 0xff));
    for (const decode of [decodeCloudEvent, decodeCloudEventBatch]) {
      try { decode(junk); } catch (err) { assert.ok(err instanceof EvmeshError && err.code === 'EVM_BAD_FRAME', String(err)); }
    }
  }
});

test('G25: encodeMeshEvent writes the bytes of encodeCloudEvent(fromMeshEvent(event, extra)) for every attribute type and data kind', () => {
  const base = { specversion: '1.0', id: 'e-1', source: '/s', type: 't' };
  const long = 'x'.repeat(300), wide = 'ü✓𝄞'.repeat(50);
  const events: MeshEvent[] = [
    { attributes: { ...base, subject: 'topic', seqnum: '1', n: 42, neg: -7, max: 2147483647, min: -2147483648, big: 2 ** 40, frac: -1.2345678901234567e-300, yes: true, no: false, time: '2026-01-02T03:04:05.678Z', datacontenttype: 'application/octet-stream' }, data: Buffer.alloc(1024, 0x61) },
    { attributes: { ...base, time: 'not a time', epoch: '1970-01-01T00:00:00Z', old: '1960-05-05T00:00:00.5Z', datacontenttype: 'text/plain; charset=utf-8', long, wide, uni: 'ü✓𝄞', k: '✓'.repeat(38) }, data: Buffer.from(`héllo ${wide} \xff`, 'latin1') },
    { attributes: { ...base, time: '1969-12-31T23:59:59.250Z', uniqueid: 'u' }, data: new Uint8Array(0) },
    { attributes: { specversion: '1.0', id: '', source: '', type: '', datacontenttype: 'application/json' }, data: Buffer.from('{"a":"ü"}') },
    { attributes: { ...base, datacontenttype: 'application/protobuf' }, data: messageType('google.protobuf.Any').serialize({ type_url: 't/x', value: Buffer.from([8, 1]) }) },
    { attributes: { ...base, ackid: 'old', constructor: 'c' } },
  ];
  const extras: (Record<string, string> | undefined)[] = [undefined, { reqeventmesh2ctimestamp: '1700000000000' }, { reqeventmesh2ctimestamp: '1', ackid: '17', uniqueid: 'x', id: 'i', time: 'plain' }];
  for (const ev of events) {
    for (const extra of extras) {
      const expected = encodeCloudEvent(fromMeshEvent(ev, extra));
      assert.deepEqual(encodeMeshEvent(ev, extra), expected, `${JSON.stringify(ev.attributes).slice(0, 60)} + ${JSON.stringify(extra)}`);
    }
  }
});
