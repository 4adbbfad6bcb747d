import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateEvent } from '../../src/core/event.js';

const base = { specversion: '1.0', id: 'a', source: '/src', type: 't' };
const bad = (attrs: Record<string, unknown>, attr: RegExp) =>
  assert.throws(() => validateEvent({ attributes: attrs }), (e: any) => e.code === 'EVM_BAD_EVENT' && attr.test(e.message), JSON.stringify(attrs));

test('required attributes: specversion "1.0", non-empty id, source, type', () => {
  assert.equal(validateEvent({ attributes: base }).attributes, base, 'valid events pass through unchanged');
  bad({ ...base, specversion: undefined }, /specversion/);
  bad({ ...base, specversion: '0.3' }, /specversion/);
  bad({ ...base, id: '' }, /"id"/);
  bad({ ...base, id: 5 }, /"id"/);
  bad({ ...base, source: undefined }, /"source"/);
  bad({ ...base, type: '' }, /"type"/);
  assert.throws(() => validateEvent(null), { code: 'EVM_BAD_EVENT' });
  assert.throws(() => validateEvent({ attributes: base, data: 'text' }), { code: 'EVM_BAD_EVENT', message: /data/ });
});

test('attribute names: [a-z0-9] only; longer than 20 is allowed (the spec only advises it)', () => {
  bad({ ...base, MyExt: 'x' }, /MyExt/);
  bad({ ...base, 'my-ext': 'x' }, /my-ext/);
  bad({ ...base, data: 'x' }, /"data"/);
  assert.ok(validateEvent({ attributes: { ...base, averyveryverylongextensionname: 'x' } }));
});

test('extension values keep their JSON type; spec attributes must be strings; integers are 32-bit', () => {
  const ev = validateEvent({ attributes: { ...base, s: 'x', n: -5, b: false } });
  assert.deepEqual(ev.attributes, { ...base, s: 'x', n: -5, b: false });
  bad({ ...base, subject: 5 }, /subject/);
  bad({ ...base, n: 1.5 }, /"n"/);
  bad({ ...base, n: 2 ** 31 }, /"n"/);
  bad({ ...base, o: { a: 1 } }, /"o"/);
});

test('formats via the cloudevents schema: time RFC 3339, dataschema URI, source URI-reference, non-empty subject', () => {
  assert.ok(validateEvent({ attributes: { ...base, time: '2024-01-02T03:04:05.678Z', dataschema: 'https://x.y/s.json', subject: 'k' } }));
  bad({ ...base, time: 'yesterday' }, /time/);
  bad({ ...base, dataschema: 'not a uri' }, /dataschema/);
  bad({ ...base, source: 'has space' }, /source/);
  bad({ ...base, subject: '' }, /subject/);
  // Non-empty subject/datacontenttype skip the schema (cached source); empty ones still fail.
  assert.ok(validateEvent({ attributes: { ...base, subject: 's', datacontenttype: 'application/octet-stream' } }));
  bad({ ...base, subject: 's', datacontenttype: '' }, /datacontenttype/);
});

test('null/undefined attributes are dropped (absent)', () => {
  const ev = validateEvent({ attributes: { ...base, subject: null, x: undefined, y: 'kept' } });
  assert.deepEqual(ev.attributes, { ...base, y: 'kept' });
});
