// publish-event.ts reads a publish request's CloudEvent (spec G4) in one pass: it must agree with
// the two steps it replaces — decodeCloudEvent, then the G9 checks and toMeshEvent (G6) — on every
// input: the same core event (attribute order and data bytes included), the same ce_string view
// for the checks, the same conversion error, and EVM_BAD_FRAME for the same bytes. Inputs are
// concatenations of encoded events (protobuf merges them: repeated map keys, several data oneof
// members, fields in any order) over every attribute type and data kind, plus random bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageType } from '../../src/protocol/grpc/proto.js';
import { decodeCloudEvent } from '../../src/protocol/grpc/codec.js';
import { toMeshEvent, type PbAttr, type PbCloudEvent } from '../../src/protocol/grpc/cloudevent.js';
import { CHECKED_KEYS, checkable, dataProblem, headerProblem } from '../../src/protocol/grpc/checks.js';
import { decodePublishBatch, decodePublishEvent, type PublishEvent } from '../../src/protocol/grpc/publish-event.js';
import type { MeshEvent } from '../../src/core/types.js';
import { EvmeshError, toEvmeshError } from '../../src/errors.js';

type Ref = { serialize(v: object): Buffer };
const ref = messageType('org.apache.eventmesh.cloudevents.v1.CloudEvent') as unknown as Ref;
const refBatch = messageType('org.apache.eventmesh.cloudevents.v1.CloudEventBatch') as unknown as Ref;

/** The two steps' outcome, or the frame error. */
function twoSteps(bytes: Buffer): { pb: PbCloudEvent; event?: MeshEvent; error?: EvmeshError } | EvmeshError {
  let pb: PbCloudEvent;
  try { pb = decodeCloudEvent(bytes); } catch (err) { return err as EvmeshError; }
  try { return { pb, event: toMeshEvent(pb) }; } catch (err) { return { pb, error: toEvmeshError(err) }; }
}

const plainEvent = (e: MeshEvent): unknown => ({ keys: Object.keys(e.attributes), attributes: { ...e.attributes }, data: e.data === undefined ? undefined : [...e.data] });

function agree(bytes: Buffer, label: string): void {
  const want = twoSteps(bytes);
  let got: PublishEvent;
  try { got = decodePublishEvent(bytes); } catch (err) {
    assert.ok(err instanceof EvmeshError && err.code === 'EVM_BAD_FRAME', `${label}: ${String(err)}`);
    assert.ok(want instanceof EvmeshError && want.code === 'EVM_BAD_FRAME', `${label}: only the one-pass decoder failed`);
    return;
  }
  assert.ok(!(want instanceof EvmeshError), `${label}: only the two steps failed: ${String(want)}`);
  const view = checkable(want.pb);
  for (const k of CHECKED_KEYS) assert.equal(got.ceString(k), view.ceString(k), `${label}: ceString(${k})`);
  assert.equal(got.data, view.data, `${label}: data field`);
  assert.equal(headerProblem(got), headerProblem(view), label);
  assert.equal(dataProblem(got), dataProblem(view), label);
  if (want.error !== undefined) {
    assert.equal(got.event, undefined, `${label}: converted, expected ${want.error.message}`);
    const e = toEvmeshError(got.error);
    assert.deepEqual([e.code, e.message], [want.error.code, want.error.message], label);
  } else {
    assert.ok(got.event !== undefined, `${label}: ${String(got.error)}`);
    assert.deepEqual(plainEvent(got.event), plainEvent(want.event!), label);
  }
}

const JAVA_SDK: Record<string, PbAttr> = Object.fromEntries(Object.entries({
  env: 'env', idc: 'idc1', ip: '127.0.0.1', pid: '42', sys: '0001', username: 'u', passwd: 'p', language: 'JAVA',
  protocoltype: 'cloudevents', protocolversion: '1.0', protocoldesc: 'grpc-cloud-event', uniqueid: 'u-1', seqnum: '1',
  ttl: '4000', producergroup: 'g', subject: 'topic', datacontenttype: 'application/octet-stream',
}).map(([k, v]) => [k, { ce_string: v }]));

/** Parts a message is concatenated from: each alone is a valid CloudEvent encoding. */
const PARTS: PbCloudEvent[] = [
  { id: 'id-1', source: '/src', spec_version: '1.0', type: 'tÿpe ✓', attributes: JAVA_SDK, binary_data: Buffer.alloc(1024, 0x61) },
  { spec_version: '0.3' },
  { spec_version: '1.0' },
  { id: 'other', source: '' },
  { attributes: { s: { ce_string: 'text' }, i: { ce_integer: -7 }, b: { ce_boolean: true }, f: { ce_boolean: false }, y: { ce_bytes: Buffer.from([0, 255, 1]) } } },
  { attributes: { u: { ce_uri: 'https://x/y' }, r: { ce_uri_ref: '/rel' }, t: { ce_timestamp: { seconds: '1700000000', nanos: 123456789 } }, neg: { ce_timestamp: { seconds: '-5' } } } },
  { attributes: { far: { ce_timestamp: { seconds: '9000000000000' } } } },
  { attributes: { empty: {} } },
  { attributes: { ['__proto__']: { ce_string: 'x' } } },
  { attributes: { '7': { ce_string: 'numeric name' }, Upper: { ce_string: 'bad name' } } },
  { attributes: { id: { ce_string: 'map id' }, specversion: { ce_integer: 1 }, passwd: { ce_integer: 3 } } },
  { attributes: { pid: { ce_string: 'abc' }, ip: { ce_uri: 'uri, not string' }, subject: { ce_string: '' } } },
  { attributes: { datacontenttype: { ce_string: 'text/plain; charset=utf-8' } } },
  { attributes: { datacontenttype: { ce_string: 'application/protobuf' } } },
  { attributes: { datacontenttype: { ce_uri: 'application/json' } } },
  { attributes: { idc: { ce_integer: 5 } } },
  { text_data: 'héllo ✓ '.repeat(10) },
  { text_data: 'short' },
  { text_data: '' },
  { binary_data: Buffer.alloc(0) },
  { proto_data: { type_url: 't/x', value: Buffer.from([8, 1]) } },
  { proto_data: {} },
];
/** Raw encodings protobufjs does not write: text_data with a byte order mark, invalid UTF-8, a map
 *  entry whose value comes before its key, an entry without a value, a value with two members. */
const RAW: Buffer[] = [
  Buffer.from([0x3a, 5, 0xef, 0xbb, 0xbf, 0x68, 0x69]),
  Buffer.from([0x3a, 3, 0x68, 0xff, 0x69]),
  Buffer.from([0x3a, 3, 0xed, 0xa0, 0x80]),
  Buffer.from([0x3a, 3, 0xef, 0xbb, 0xbf]),
  Buffer.from([0x2a, 8, 0x12, 3, 0x1a, 1, 0x76, 0x0a, 1, 0x6b]),
  Buffer.from([0x2a, 3, 0x0a, 1, 0x6b]),
  Buffer.from([0x2a, 12, 0x0a, 1, 0x6b, 0x12, 7, 0x10, 5, 0x1a, 1, 0x76, 0x08, 1]),
  Buffer.from([0x2a, 14, 0x0a, 1, 0x6b, 0x12, 9, 0x3a, 2, 0x08, 1, 0x1a, 3, 0x61, 0x62, 0x63]),
];
const CHUNKS = [...PARTS.map((p) => ref.serialize(p)), ...RAW];

test('G4/G6/G9: one-pass publish decoding agrees with decodeCloudEvent + checks + toMeshEvent', () => {
  for (let i = 0; i < CHUNKS.length; i++) agree(CHUNKS[i]!, `chunk ${i}`);
  let seed = 7;
  const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (let round = 0; round < 3000; round++) {
    const picks = Array.from({ length: 1 + rand(5) }, () => rand(CHUNKS.length));
    agree(Buffer.concat(picks.map((i) => CHUNKS[i]!)), `chunks ${picks.join('+')}`);
  }
});

test('G4: the Java SDK event is published as it came: attributes in order (passwd not stored), data as a view', () => {
  const bytes = ref.serialize(PARTS[0]!);
  const p = decodePublishEvent(bytes);
  assert.equal(headerProblem(p), undefined);
  assert.equal(dataProblem(p), undefined);
  assert.equal(p.ceString('passwd'), 'p');
  assert.equal(p.ceString('seqnum'), undefined, 'only the checked attributes are read as ce_string');
  const keys = Object.keys(p.event!.attributes);
  assert.deepEqual(keys.slice(0, 4), ['specversion', 'id', 'source', 'type']);
  assert.ok(!keys.includes('passwd'));
  assert.equal(p.event!.data!.buffer, bytes.buffer, 'binary_data is not copied');
  // The next events of the same shape (built from the first one's object) carry their own values.
  (p.event!.attributes as Record<string, unknown>).extra = 'changed by a user of the first event';
  const attributes = { ...JAVA_SDK, seqnum: { ce_integer: 2 }, subject: { ce_string: 'other' } };
  const next = decodePublishEvent(ref.serialize({ ...PARTS[0]!, id: 'id-2', attributes }));
  assert.deepEqual(next.event!.attributes, toMeshEvent({ ...PARTS[0]!, id: 'id-2', attributes }).attributes);
  assert.equal(next.ceString('subject'), 'other');
  assert.equal(decodePublishEvent(bytes).event!.attributes.seqnum, '1');
});

test('bad input: truncations and random bytes fail with EVM_BAD_FRAME exactly where decodeCloudEvent does', () => {
  const bytes = Buffer.concat([ref.serialize(PARTS[0]!), ref.serialize(PARTS[5]!), RAW[6]!]);
  for (let n = 0; n < bytes.length; n++) agree(bytes.subarray(0, n), `truncated at ${n}`);
  let seed = 3;
  const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  for (let i = 0; i < 3000; i++) agree(Buffer.from(Array.from({ length: rand() % 64 }, () => rand() & 0xff)), `junk ${i}`);
});

test('G12: a batch decodes event by event', () => {
  const events = [PARTS[0]!, { ...PARTS[0]!, id: 'id-2', text_data: 'x', binary_data: undefined }];
  const batch = decodePublishBatch(refBatch.serialize({ events }));
  assert.deepEqual(batch.events.map((e) => e.event?.attributes.id), ['id-1', 'id-2']);
  assert.deepEqual(decodePublishBatch(Buffer.alloc(0)), { events: [] });
});
