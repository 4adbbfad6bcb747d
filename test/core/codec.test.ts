import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEvent, encodeEvent, encodedSize } from '../../src/core/codec.js';
import { EvmeshError } from '../../src/errors.js';
import type { AttrValue, MeshEvent } from '../../src/core/types.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex'));
const ascii = (s: string) => Buffer.from(s, 'latin1').toString('hex');

// Annotated fixture (docs/core.md "Event codec").
const FIXTURE_EVENT: MeshEvent = {
  attributes: { specversion: '1.0', id: '1', source: '/s', type: 't', n: -3, b: true, f: 1.5 },
  data: new TextEncoder().encode('hi'),
};
const FIXTURE = hex(`
  ce 01 01 07                               # magic, version 1, flags=data present, 7 attributes
  0b ${ascii('specversion')} 01 03 ${ascii('1.0')}   # string
  02 ${ascii('id')} 01 01 ${ascii('1')}
  06 ${ascii('source')} 01 02 ${ascii('/s')}
  04 ${ascii('type')} 01 01 ${ascii('t')}
  01 ${ascii('n')} 02 05                    # integer -3 → zigzag 5
  01 ${ascii('b')} 04                       # true
  01 ${ascii('f')} 03 000000000000f83f      # float64 LE 1.5
  02 ${ascii('hi')}                         # data: length 2, bytes
`);

test('encodeEvent matches the annotated fixture byte for byte', () => {
  const bytes = encodeEvent(FIXTURE_EVENT);
  assert.deepEqual(Buffer.from(bytes).toString('hex'), Buffer.from(FIXTURE).toString('hex'));
  assert.equal(encodedSize(FIXTURE_EVENT), FIXTURE.length);
});

test('decodeEvent of the fixture preserves names, values and JSON types; data is a view', () => {
  const ev = decodeEvent(FIXTURE);
  assert.deepEqual(ev.attributes, FIXTURE_EVENT.attributes);
  assert.deepEqual(Object.keys(ev.attributes), Object.keys(FIXTURE_EVENT.attributes), 'order kept');
  assert.equal(typeof ev.attributes.n, 'number');
  assert.equal(typeof ev.attributes.b, 'boolean');
  assert.equal(ev.data!.buffer, FIXTURE.buffer, 'no copy');
  assert.equal(new TextDecoder().decode(ev.data), 'hi');
});

test('round trip: absent vs empty data, unicode, big and negative integers, floats, false, long strings', () => {
  const cases: MeshEvent[] = [
    { attributes: { specversion: '1.0', id: 'a', source: 's', type: 't' } },
    { attributes: { specversion: '1.0', id: 'a', source: 's', type: 't' }, data: new Uint8Array(0) },
    { attributes: { specversion: '1.0', id: 'ü日本', source: 's', type: 't', x: false, big: 2 ** 40, neg: -(2 ** 31), z: 0, fl: -0.25, huge: 2 ** 60, s: 'é'.repeat(500) }, data: new Uint8Array(100_000).fill(7) },
  ];
  for (const ev of cases) {
    const bytes = encodeEvent(ev);
    assert.equal(bytes.length, encodedSize(ev));
    const back = decodeEvent(bytes);
    assert.deepEqual(back.attributes, ev.attributes);
    assert.equal(back.data === undefined, ev.data === undefined, 'absent stays absent, empty stays empty');
    if (ev.data) assert.deepEqual(Buffer.from(back.data!), Buffer.from(ev.data));
  }
});

test('events with many attributes (past the fast-mode copy threshold) keep names, order, values and a plain prototype', () => {
  for (const extra of [15, 16, 17, 30]) {
    const attributes: Record<string, AttrValue> = { specversion: '1.0', id: 'a', source: 's', type: 't' };
    for (let i = extra; i > 0; i--) attributes[`x${i}`] = i % 3 === 0 ? i : i % 3 === 1 ? `v${i}` : i % 2 === 0;
    const back = decodeEvent(encodeEvent({ attributes }));
    assert.deepEqual(back.attributes, attributes);
    assert.deepEqual(Object.keys(back.attributes), Object.keys(attributes), `order kept with ${4 + extra} attributes`);
    assert.equal(Object.getPrototypeOf(back.attributes), Object.prototype);
  }
});

test('every truncation of a valid encoding is EVM_CORRUPT, never a crash', () => {
  const bytes = encodeEvent(FIXTURE_EVENT);
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => decodeEvent(bytes.subarray(0, n)), (e: unknown) => e instanceof EvmeshError && e.code === 'EVM_CORRUPT', `prefix ${n}`);
  }
  assert.throws(() => decodeEvent(Uint8Array.of(...bytes, 0)), { code: 'EVM_CORRUPT' }, 'trailing byte');
  assert.throws(() => decodeEvent(hex('ce 02 00 00')), { code: 'EVM_CORRUPT' }, 'unknown version');
  assert.throws(() => decodeEvent(hex('cf 01 00 00')), { code: 'EVM_CORRUPT' }, 'bad magic');
  assert.throws(() => decodeEvent(hex(`ce 01 00 01 02 ${ascii('Ab')} 04`)), { code: 'EVM_CORRUPT' }, 'bad name');
  assert.throws(() => decodeEvent(hex(`ce 01 00 01 01 ${ascii('a')} 09`)), { code: 'EVM_CORRUPT' }, 'bad tag');
  assert.throws(() => decodeEvent(hex('ce 01 00 ffffffffffffffff7f')), { code: 'EVM_CORRUPT' }, 'huge varint');
});

test('bounded fuzz: random mutations and random bytes decode or throw EVM_CORRUPT', () => {
  let seed = 12345;
  const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };
  const base = encodeEvent(FIXTURE_EVENT);
  for (let i = 0; i < 5000; i++) {
    let input: Uint8Array;
    if (i % 2 === 0) {
      input = Uint8Array.from(base);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) input[Math.floor(rnd() * input.length)] = Math.floor(rnd() * 256);
    } else {
      input = Uint8Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256));
      if (input.length > 2) { input[0] = 0xce; input[1] = 1; }
    }
    try {
      const ev = decodeEvent(input);
      assert.equal(typeof ev.attributes, 'object');
    } catch (e) {
      assert.ok(e instanceof EvmeshError && e.code === 'EVM_CORRUPT', `input ${Buffer.from(input).toString('hex')}: ${String(e)}`);
    }
  }
});
