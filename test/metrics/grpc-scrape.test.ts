// The gRPC port in upstream's general counters and GRPC meter (spec M5, M8) after real grpc-js
// traffic on a 2-shard broker: publishes, a batch, a refused publish and a subscribeStream
// consumer, each client counted exactly under its `ip` attribute (M4), the publish histogram,
// connections and sub-topic gauges; promtool reports only upstream's unit lint. Trace context
// (M30) from call metadata goes into events that carry none.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Metadata } from '@grpc/grpc-js';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import type { MeshEvent } from '../../src/core/types.js';
import { fetchText, parseExposition, sum, type Sample } from '../../bench/lib/scrape.js';
import { call, event, status, str, stubs, StreamReader, subscription, type Stubs } from '../fixtures/grpc/client.js';

let broker: RunningBroker;
const open: Stubs[] = [];
before(async () => {
  broker = await startBroker(loadConfig({
    flags: { shards: 2, storage: 'memory', host: '127.0.0.1', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, 'topics.defaultPartitions': 4 },
  }), { log: () => {} });
});
after(async () => {
  for (const s of open) s.close();
  await broker?.stop();
});

// A local subchannel pool: grpc-js would otherwise share one connection between the clients.
const client = (): Stubs => { const s = stubs(broker.ports.grpc!, { 'grpc.use_local_subchannel_pool': 1 }); open.push(s); return s; };
const scrapeText = () => fetchText(`http://127.0.0.1:${broker.ports.metrics}/metrics`);
const scrape = async (): Promise<Sample[]> => parseExposition(await scrapeText());
const PUB = '10.9.0.1', SUB = '10.9.0.2';

test('M5/M8: gRPC publishes, a batch, a refusal and a stream consumer are counted exactly per client; promtool finds only the unit lint', async () => {
  const grpc = { rpc_system: 'grpc', rpc_service: 'org.apache.eventmesh.runtime.boot.EventMeshGrpcServer', net_peer_name: '127.0.0.1', net_peer_port: String(broker.ports.grpc) };
  const pub = client(), sub = client();
  const reader = new StreamReader(sub.consumer.subscribeStream());
  reader.stream.write(subscription('gm', [{ topic: 'gm-t' }], { ip: SUB }));
  await reader.until(() => reader.answers().length === 1, 5000, 'subscribe answer');
  assert.equal(status(reader.answers()[0]!), '0');

  for (let i = 0; i < 5; i++) assert.equal(status((await call(pub.publisher, 'publish', event('gm-t', `m${i}`, { ip: PUB }))).value), '0');
  const batch = { events: [0, 1, 2].map((i) => event('gm-b', `b${i}`, { ip: PUB })) };
  assert.equal(status((await call(pub.publisher, 'batchPublish', batch)).value), '0');
  assert.notEqual(status((await call(pub.publisher, 'publish', event('gm-t', 'bad', { ip: PUB, producergroup: '' }))).value), '0', 'refused (G9)');
  await reader.until(() => reader.events().length === 5, 5000, '5 pushes');

  const s = await scrape();
  const of = (name: string, ip: string) => sum(s, `eventmesh_general_${name}_message_num_ratio_total`, { ...grpc, otel_scope_name: 'general', client_protocol_type: 'GRPC', client_address: ip });
  assert.equal(of('client_eventmesh', PUB), 5 + 3 + 1, '5 publishes, a batch of 3, a refused publish');
  assert.equal(of('eventmesh_mq', PUB), 8, 'acknowledged events');
  assert.equal(of('eventmesh_client', PUB), 7, 'one answer per call');
  assert.equal(of('mq_eventmesh', PUB), 0);
  assert.equal(of('client_eventmesh', SUB), 1, 'the subscription message');
  assert.equal(of('eventmesh_client', SUB), 1 + 5, 'its answer and 5 pushes');
  assert.equal(of('mq_eventmesh', SUB), 5);
  assert.equal(sum(s, 'eventmesh_grpc_publish_handle_cost_milliseconds_count', grpc), 7, 'every publish call (M8)');
  assert.equal(sum(s, 'eventmesh_grpc_sub_topic_num_ratio', grpc), 1);
  assert.equal(sum(s, 'evmesh_subscriptions', { protocol: 'grpc', topic: 'gm-t' }), 1);
  assert.equal(sum(s, 'evmesh_connections', { protocol: 'grpc' }), 2, 'one HTTP/2 session per client');
  assert.equal(sum(s, 'evmesh_protocol_events_published_total', { protocol: 'grpc' }), 8);

  const r = spawnSync('promtool', ['check', 'metrics'], { input: await scrapeText(), encoding: 'utf8' });
  assert.equal(r.error, undefined, 'promtool runs (scripts/services.sh up promtool)');
  for (const l of `${r.stdout}${r.stderr}`.trim().split('\n').filter((x) => x !== '')) {
    assert.match(l, /^eventmesh_\S+_milliseconds\S* use base unit "seconds" instead of "milliseconds"$/, l);
  }

  reader.stream.end();
  await reader.until(() => reader.ended, 5000, 'stream end');
  const waitGone = Date.now() + 5000;
  while (sum(await scrape(), 'eventmesh_grpc_sub_topic_num_ratio') !== 0 && Date.now() < waitGone) await new Promise((x) => setTimeout(x, 50));
  assert.equal(sum(await scrape(), 'evmesh_subscriptions', { protocol: 'grpc', topic: 'gm-t' }), 0, 'the stream\'s subscription is gone');
});

test('M30: a W3C traceparent call metadata entry goes into a published event without one; an event\'s own wins', async () => {
  const c = client();
  const got: MeshEvent[] = [];
  const consumer = await broker.client().subscribe({ topic: 'gm-trace', group: 'g', from: 'earliest' }, (d) => { d.ack(); got.push(d.event); });
  try {
    const md = new Metadata();
    const header = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    md.set('traceparent', header);
    md.set('tracestate', 'v=1');
    assert.equal(status((await call(c.publisher, 'publish', event('gm-trace', 'a'), { metadata: md })).value), '0');
    const withOwn = event('gm-trace', 'b');
    withOwn.attributes!.traceparent = str(own);
    assert.equal(status((await call(c.publisher, 'publish', withOwn, { metadata: md })).value), '0');
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    const byData = new Map(got.map((e) => [Buffer.from(e.data ?? []).toString(), e.attributes]));
    assert.equal(byData.get('a')?.traceparent, header, 'tracing is off: the header is carried as is');
    assert.equal(byData.get('a')?.tracestate, 'v=1');
    assert.equal(byData.get('b')?.traceparent, own);
  } finally {
    await consumer.close();
  }
});
