// Tracing (issue 8, spec M30): a W3C traceparent sent in the CloudEvents distributed-tracing
// extension continues through publish → store → deliver: the consumer receives a traceparent of
// the same trace, and the OTLP/HTTP exporter posts publish/store/deliver spans of that trace to a
// real HTTP collector on 127.0.0.1. Tracing is off by default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import type { MeshEvent } from '../../src/core/types.js';
import { EventMeshTcpClient } from '../../src/sdk/eventmesh-tcp.js';
import { EvmeshClient } from '../../src/sdk/index.js';
import { collector } from '../helpers/otlp-collector.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACE2 = '0af7651916cd43dd8448eb211c80319c';
const PARENT = '00f067aa0ba902b7';

test('M30: traceparent crosses EventMesh TCP and binary publish → store → deliver; spans reach the OTLP collector', async () => {
  const c = collector();
  const otlpPort = await c.listen();
  const broker = await startBroker(loadConfig({
    flags: {
      shards: 2, storage: 'memory', host: '127.0.0.1', 'ports.admin': 0, 'ports.grpc': 0, 'ports.http': 0, 'ports.tcp': 0, 'ports.metrics': 0,
      'tracing.exporter': 'otlp', 'tracing.otlpUrl': `http://127.0.0.1:${otlpPort}/v1/traces`, 'tracing.exportIntervalMs': 100,
    },
  }), { log: () => {} });
  try {
    const ua = (purpose: 'pub' | 'sub') => ({ group: 'tr', purpose, subsystem: '5023', idc: 'FT' });
    const sub = await EventMeshTcpClient.connect({ port: broker.ports.tcp!, userAgent: ua('sub') });
    const pub = await EventMeshTcpClient.connect({ port: broker.ports.tcp!, userAgent: ua('pub') });
    const got = new Promise<MeshEvent>((resolve) => { void sub.subscribe('traced', {}, (ev, ack) => { ack(); resolve(ev); }); });
    await new Promise((r) => setTimeout(r, 100));
    await pub.publish('traced', { attributes: { specversion: '1.0', id: 't1', source: '/t', type: 't', traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=1' }, data: Buffer.from('x') });
    const delivered = await got;
    const tp = String(delivered.attributes.traceparent);
    assert.match(tp, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`), 'the consumer continues the same trace');
    assert.notEqual(tp.split('-')[2], PARENT, 'its parent is evmesh\'s publish span');
    assert.equal(delivered.attributes.tracestate, 'vendor=1');
    await Promise.all([sub.close(), pub.close()]);

    // The binary protocol carries the extension as an attribute like any other.
    const bin = await EvmeshClient.connect({ port: broker.ports.tcp! });
    const binGot = new Promise<MeshEvent>((resolve) => { void bin.subscribe({ topic: 'traced-bin', group: 'b', from: 'earliest' }, (d) => { d.ack(); resolve(d.event); }); });
    await bin.publish('traced-bin', { attributes: { specversion: '1.0', id: 'b1', source: '/t', type: 't', traceparent: `00-${TRACE2}-${PARENT}-01` }, data: Buffer.from('y') });
    assert.match(String((await binGot).attributes.traceparent), new RegExp(`^00-${TRACE2}-[0-9a-f]{16}-01$`));
    await bin.close();
  } finally {
    await broker.stop(); // flushes every thread's span processor
    c.server.close();
  }
  const ours = c.spans.filter((s) => s.traceId === TRACE);
  const publish = ours.find((s) => s.name === 'publish');
  assert.ok(publish, `a publish span in ${JSON.stringify(c.spans.map((s) => s.name))}`);
  assert.equal(publish.parentSpanId, PARENT);
  for (const name of ['store', 'deliver']) {
    const span = ours.find((s) => s.name === name);
    assert.ok(span, `a ${name} span`);
    assert.equal(span.parentSpanId, publish.spanId, `${name} is a child of publish`);
  }
  assert.deepEqual(new Set(c.spans.filter((s) => s.traceId === TRACE2).map((s) => s.name)), new Set(['publish', 'store', 'deliver']));
});

test('M30: tracing is off by default and then adds no traceparent', async () => {
  const config = loadConfig({ flags: { shards: 1, storage: 'memory', host: '127.0.0.1', 'ports.admin': 0, 'ports.grpc': 0, 'ports.http': 0, 'ports.tcp': 0, 'ports.metrics': 0 } });
  assert.equal(config.tracing.exporter, 'none');
  const broker = await startBroker(config, { log: () => {} });
  try {
    const client = broker.client();
    const got = new Promise<MeshEvent>((resolve) => { void client.subscribe({ topic: 'untraced', group: 'g', from: 'earliest' }, (d) => { d.ack(); resolve(d.event); }); });
    await client.publish('untraced', { attributes: { specversion: '1.0', id: 'u1', source: '/t', type: 't' } });
    assert.equal((await got).attributes.traceparent, undefined);
  } finally {
    await broker.stop();
  }
});
