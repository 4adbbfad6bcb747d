// W3C trace context from request headers into events (issue 8, spec M30), pure logic: only a
// valid version-00 traceparent is copied, tracestate only with it, and an event's own wins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MeshEvent } from '../../src/core/types.js';
import { traceFromHeaders } from '../../src/protocol/trace-context.js';

const ev = (extra: Record<string, string> = {}): MeshEvent => ({ attributes: { specversion: '1.0', id: '1', source: '/t', type: 't', ...extra } });
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test('M30: a valid traceparent header (with its tracestate) goes into an event without one', () => {
  assert.deepEqual(traceFromHeaders({ traceparent: TP, tracestate: 'a=1' }, ev()).attributes, { ...ev().attributes, traceparent: TP, tracestate: 'a=1' });
  assert.deepEqual(traceFromHeaders({ traceparent: TP }, ev()).attributes, { ...ev().attributes, traceparent: TP });
});

test('M30: the event\'s own traceparent wins; no or invalid headers change nothing', () => {
  const own = ev({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  assert.equal(traceFromHeaders({ traceparent: TP, tracestate: 'a=1' }, own), own);
  const plain = ev();
  for (const bad of [undefined, '', 'garbage', TP.toUpperCase(), `01${TP.slice(2)}`, '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01']) {
    assert.equal(traceFromHeaders({ traceparent: bad, tracestate: 'a=1' }, plain), plain, String(bad));
  }
});
