// Tracing through the HTTP port (issue 8, spec M30): a W3C `traceparent` request header is
// copied into the published event when it has none, an event's own trace context (binary mode
// ce-traceparent) wins, and the trace continues to deliveries (core subscriber, webhook push)
// with evmesh's publish span as parent; the spans reach a real OTLP/HTTP collector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MeshEvent } from '../../src/core/types.js';
import { httpBroker, send, sink } from '../protocol/http-helpers.js';
import { collector } from '../helpers/otlp-collector.js';

const PARENT = '00f067aa0ba902b7';
const T_REST = '4bf92f3577b34da6a3ce929d0e0e4736';
const T_CODE = '0af7651916cd43dd8448eb211c80319c';
const T_CE = 'aaaabbbbccccddddeeeeffff00001111';
const T_IGNORED = '11112222333344445555666677778888';
const header = (trace: string) => `00-${trace}-${PARENT}-01`;

test('M30: HTTP publishes carry the traceparent header (or their own ce-traceparent) through to webhook and core deliveries', async () => {
  const c = collector();
  const otlpPort = await c.listen();
  const broker = await httpBroker({ 'tracing.exporter': 'otlp', 'tracing.otlpUrl': `http://127.0.0.1:${otlpPort}/v1/traces`, 'tracing.exportIntervalMs': 100 });
  const hook = await sink();
  const port = broker.ports.http!;
  try {
    const sub = await send(port, 'POST', '/subscriptions', { 'content-type': 'application/json' }, JSON.stringify({ topic: 'tr-hook', url: hook.url, group: 'tr', format: 'binary' }));
    assert.equal(sub.status, 201, sub.text);
    const client = broker.client();
    const got: MeshEvent[] = [];
    const core = await client.subscribe({ topic: 'tr-core', group: 'g', from: 'earliest' }, (d) => { d.ack(); got.push(d.event); });

    // REST binary mode, trace context only in the W3C request header → webhook push.
    const rest = await send(port, 'POST', '/topics/tr-hook/events', { 'ce-specversion': '1.0', 'ce-id': 'r1', 'ce-source': '/t', 'ce-type': 't', 'content-type': 'text/plain', traceparent: header(T_REST), tracestate: 'v=1' }, 'x');
    assert.equal(rest.status, 200, rest.text);
    const [pushed] = await hook.waitFor(1);
    const tp = String(pushed!.headers['ce-traceparent']);
    assert.match(tp, new RegExp(`^00-${T_REST}-[0-9a-f]{16}-01$`), 'the push continues the same trace');
    assert.notEqual(tp.split('-')[2], PARENT, 'its parent is evmesh\'s publish span');
    assert.equal(pushed!.headers['ce-tracestate'], 'v=1');

    // EventMesh code 104 with the header → core subscriber.
    const em = await send(port, 'POST', '/', {
      'content-type': 'application/x-www-form-urlencoded', code: '104', idc: 'i', sys: '0000', pid: '1', protocoltype: 'eventmeshmessage', traceparent: header(T_CODE),
    }, new URLSearchParams({ topic: 'tr-core', content: 'hi', bizseqno: 'e1', uniqueid: 'e1', producergroup: 'pg' }).toString());
    assert.equal(em.json.retCode, 0, em.text);
    // Binary mode ce-traceparent wins over a request header.
    const ce = await send(port, 'POST', '/topics/tr-core/events', { 'ce-specversion': '1.0', 'ce-id': 'c1', 'ce-source': '/t', 'ce-type': 't', 'ce-traceparent': header(T_CE), traceparent: header(T_IGNORED) }, '');
    assert.equal(ce.status, 200, ce.text);
    for (let i = 0; i < 200 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    const byId = new Map(got.map((e) => [e.attributes.id, String(e.attributes.traceparent)]));
    assert.match(byId.get('e1')!, new RegExp(`^00-${T_CODE}-[0-9a-f]{16}-01$`));
    assert.match(byId.get('c1')!, new RegExp(`^00-${T_CE}-[0-9a-f]{16}-01$`));
    await core.close();
  } finally {
    await hook.close();
    await broker.stop(); // flushes every thread's span processor
    c.server.close();
  }
  for (const trace of [T_REST, T_CODE, T_CE]) {
    const ours = c.spans.filter((s) => s.traceId === trace);
    const publish = ours.find((s) => s.name === 'publish');
    assert.ok(publish, `a publish span of ${trace}`);
    assert.equal(publish.parentSpanId, PARENT);
    const deliver = ours.find((s) => s.name === 'deliver');
    assert.ok(deliver, `a deliver span of ${trace}`);
    assert.equal(deliver.parentSpanId, publish.spanId);
  }
  assert.equal(c.spans.filter((s) => s.traceId === T_IGNORED).length, 0, 'the header lost to ce-traceparent');
});
