// A bounded run of scripts/fuzz-eventmesh-tcp.ts: mutated T81–T84 fixtures through the
// decoder and body decoders; only EvmeshErrors (EVM_BAD_FRAME / EVM_TOO_LARGE …) may be thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, fuzzBodies, fuzzHeaders } from '../../scripts/fuzz-eventmesh-tcp.js';

test('fuzz: 20k mutated frames, fed in random chunks, throw nothing but EvmeshError and never hang (T5)', () => {
  const res = fuzz(20_000, 7, Infinity) // no wall-clock assertion: a hang is caught by the test timeout;
  assert.equal(res.inputs, 20_000);
  assert.ok(res.frames > 0, 'some mutated inputs still decode to frames');
  assert.ok((res.errors.EVM_BAD_FRAME ?? 0) > 0 && (res.errors.EVM_TOO_LARGE ?? 0) > 0);
});

test('fuzz: 20k mutated headers read by HeaderReader give exactly what parseHeader (JSON.parse) gives (T7, T9)', () => {
  const res = fuzzHeaders(20_000, 7); // throws on the first difference
  assert.equal(res.inputs, 20_000);
  assert.ok(res.fromTemplate > 1000, `the template path is exercised (${res.fromTemplate})`);
});

test('fuzz: 20k mutated CloudEvent bodies decode through cloudEventOf exactly as JSON.parse of the whole body reads them (T22)', () => {
  const res = fuzzBodies(20_000, 7); // throws on the first difference
  assert.equal(res.inputs, 20_000);
  assert.ok(res.binary > 1000, `bodies with data_base64 decode (${res.binary})`);
});
