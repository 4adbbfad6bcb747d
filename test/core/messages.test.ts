import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMessage, encodeMessage, MSG, TOPIC_AUTO, type Message } from '../../src/core/messages.js';
import { EvmeshError } from '../../src/errors.js';

const b = (s: string) => new TextEncoder().encode(s);
const member = { memberId: '1.abc.7', topic: 'orders', group: 'g', mode: 'BROADCASTING' as const, from: { timestamp: 1700000000123.5 }, replay: true, maxInflight: 100, ackTimeoutMs: 30000, maxAttempts: 16, home: 2 };

const SAMPLES: Message[] = [
  { type: MSG.PUBLISH, id: 7, topic: 'orders', partition: 3, events: [b('a'), b(''), b('ccc')] },
  { type: MSG.PUBLISH_ACK, id: 7, baseOffset: 2 ** 40 },
  { type: MSG.PUBLISH_ACK, id: 8, baseOffset: 0, error: { code: 'EVM_UNAVAILABLE', message: 'gone ü' } },
  { type: MSG.TOPIC_REQUEST, id: 1, name: 'orders', mode: TOPIC_AUTO, partitions: 0 },
  { type: MSG.TOPIC_META, id: 0, metas: [{ name: 'a', partitions: 4, createdAt: 1700000000000 }, { name: 'b', partitions: 1, createdAt: 1 }] },
  { type: MSG.TOPIC_META, id: 3, metas: [], error: { code: 'EVM_UNKNOWN_TOPIC', message: 'x' } },
  { type: MSG.JOIN, member },
  { type: MSG.JOIN, member: { ...member, mode: 'CLUSTERING', from: 'latest', replay: false } },
  { type: MSG.JOIN, member: { ...member, from: 'earliest' } },
  { type: MSG.JOIN, member: { ...member, from: { offset: 123456789 } } },
  { type: MSG.LEAVE, memberId: 'm', topic: 't', group: 'g' },
  { type: MSG.MEMBER_ACK, memberId: 'm', join: true },
  { type: MSG.MEMBER_ACK, memberId: 'm', join: false, error: { code: 'EVM_CONFLICT', message: 'mode' } },
  { type: MSG.DELIVER, memberId: 'm', items: [
    { topic: 'orders', partition: 1, offset: 10, attempt: 1, event: b('e1') },
    { topic: 'orders', partition: 2, offset: 11, attempt: 3, event: b('e2') },
    { topic: 'other', partition: 0, offset: 0, attempt: 1, event: b('') },
  ] },
  { type: MSG.ACK, items: [
    { memberId: 'm1', topic: 'orders', group: 'g', partition: 1, offset: 10, count: 1 },
    { memberId: 'm1', topic: 'orders', group: 'g', partition: 2, offset: 11, count: 300 },
    { memberId: 'm2', topic: 'x', group: 'g', partition: 0, offset: 5, count: 2 ** 40 },
  ] },
  { type: MSG.REJECT, memberId: 'm', items: [{ topic: 'orders', partition: 1, offset: 10 }] },
  { type: MSG.REPLY, correlationId: 'ab12-7', event: b('reply') },
];

const norm = (v: unknown): unknown => {
  if (v instanceof Uint8Array) return `hex:${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
};

test('every message type round-trips', () => {
  for (const m of SAMPLES) assert.deepEqual(norm(decodeMessage(encodeMessage(m))), norm(m), `type ${m.type}`);
});

test('repeated strings are back-referenced (ACK/DELIVER stay small)', () => {
  const items = Array.from({ length: 100 }, (_, i) => ({ memberId: 'member-123456', topic: 'orders.topic', group: 'group-1', partition: 1, offset: i, count: 1 }));
  const bytes = encodeMessage({ type: MSG.ACK, items });
  assert.ok(bytes.length < 100 * 8, `${bytes.length} bytes`);
});

test('truncated or garbage messages are EVM_CORRUPT, never a crash', () => {
  for (const m of SAMPLES) {
    const bytes = encodeMessage(m);
    for (let n = 0; n < bytes.length; n++) {
      assert.throws(() => decodeMessage(bytes.subarray(0, n)), (e: unknown) => e instanceof EvmeshError && e.code === 'EVM_CORRUPT', `type ${m.type} prefix ${n}`);
    }
  }
  assert.throws(() => decodeMessage(Uint8Array.of(99)), { code: 'EVM_CORRUPT' });
  let seed = 99;
  const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };
  for (let i = 0; i < 3000; i++) {
    const input = Uint8Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256));
    input[0] = 1 + Math.floor(rnd() * 12);
    try { decodeMessage(input); } catch (e) { assert.ok(e instanceof EvmeshError && e.code === 'EVM_CORRUPT', String(e)); }
  }
});
