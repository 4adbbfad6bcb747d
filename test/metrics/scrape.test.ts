// The metrics port (spec M1) after real traffic: EventMesh TCP and binary clients against a
// 2-shard broker, the scrape summed over both shards, every value checked against what the
// clients did, and `promtool check metrics` on it (issue 8; HTTP traffic: http-scrape.test.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import type { MeshEvent } from '../../src/core/types.js';
import { EventMeshTcpClient } from '../../src/sdk/eventmesh-tcp.js';
import { EvmeshClient } from '../../src/sdk/index.js';
import { fetchText, parseExposition, sum, type Sample } from '../../bench/lib/scrape.js';

let broker: RunningBroker;
let dir: string;
const TCP_SERVICE = 'org.apache.eventmesh.runtime.boot.EventMeshTCPServer';

const ev = (id: string): MeshEvent => ({ attributes: { specversion: '1.0', id, source: '/metrics-test', type: 't' }, data: Buffer.from('x') });
const scrape = async (): Promise<Sample[]> => parseExposition(await fetchText(`http://127.0.0.1:${broker.ports.metrics}/metrics`));
async function until(what: string, fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'evmesh-metrics-'));
  broker = await startBroker(loadConfig({
    flags: {
      shards: 2, dataDir: dir, host: '127.0.0.1', 'ports.admin': 0, 'ports.grpc': 0, 'ports.http': 0, 'ports.tcp': 0, 'ports.metrics': 0,
      'metrics.tcpTpsWindowMs': 200, 'delivery.ackTimeoutMs': 200, 'delivery.maxAttempts': 2, 'topics.defaultPartitions': 4,
    },
  }), { log: () => {} });
});

after(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('M1: the metrics port is on the ready ports; /-/healthy and / answer; unknown paths 404', async () => {
  assert.equal(typeof broker.ports.metrics, 'number');
  assert.match(await fetchText(`http://127.0.0.1:${broker.ports.metrics}/-/healthy`), /healthy/);
  assert.match(await fetchText(`http://127.0.0.1:${broker.ports.metrics}/`), /\/metrics/);
  await assert.rejects(fetchText(`http://127.0.0.1:${broker.ports.metrics}/nope`), /404/);
});

test('M5/M7: EventMesh TCP and binary traffic is counted exactly, summed over both shards; promtool finds nothing', async () => {
  const port = broker.ports.tcp!;
  const ua = (purpose: 'pub' | 'sub', group: string) => ({ group, purpose, subsystem: '5023', idc: 'FT' });
  const sub = await EventMeshTcpClient.connect({ port, userAgent: ua('sub', 'mg') });
  const pub = await EventMeshTcpClient.connect({ port, userAgent: ua('pub', 'mp') });
  const bin = await EvmeshClient.connect({ port });
  const binSub = await EvmeshClient.connect({ port });
  try {
    let emGot = 0, binGot = 0;
    await sub.subscribe('m-em', {}, (_e, ack) => { ack(); emGot++; });
    await binSub.subscribe({ topic: 'm-bin', group: 'bg', from: 'latest' }, (d) => { d.ack(); binGot++; });
    // Published over ~600 ms, so the last 200 ms TPS window (metrics.tcpTpsWindowMs) saw some.
    for (let i = 0; i < 12; i++) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => pub.publish('m-em', ev(`em-${i}-${k}`))));
      await bin.publishBatch('m-bin', Array.from({ length: 5 }, (_, k) => ev(`bin-${i}-${k}`)));
      await new Promise((r) => setTimeout(r, 50));
    }
    await until('all deliveries', async () => emGot === 120 && binGot === 60);
    const s = await scrape();
    const tcp = { rpc_system: 'TCP', rpc_service: TCP_SERVICE, net_host_port: String(port) };

    assert.equal(sum(s, 'eventmesh_general_eventmesh_mq_message_num_ratio_total', tcp), 180, 'events handed to storage');
    assert.equal(sum(s, 'eventmesh_general_mq_eventmesh_message_num_ratio_total', tcp), 180, 'events received from storage and pushed');
    // The publisher's connection sent HELLO + 120 publishes and got 121 replies (M5 counts frames).
    const pubIn = s.filter((x) => x.name === 'eventmesh_general_client_eventmesh_message_num_ratio_total' && x.value === 121);
    assert.equal(pubIn.length, 1, 'one client sent exactly HELLO + 120 publishes');
    const pubAddr = pubIn[0]!.labels.client_address!;
    assert.match(pubAddr, /^127\.0\.0\.1:\d+$/);
    assert.equal(sum(s, 'eventmesh_general_eventmesh_client_message_num_ratio_total', { client_address: pubAddr }), 121);
    for (const x of s.filter((y) => y.name.startsWith('eventmesh_general_'))) {
      assert.equal(x.labels.otel_scope_name, 'general');
      assert.equal(x.labels.client_protocol_type, 'TCP');
    }
    assert.equal(sum(s, 'eventmesh_tcp_connection_num_ratio', { ...tcp, otel_scope_name: 'TCP' }), 4);
    assert.equal(sum(s, 'eventmesh_tcp_sub_topic_num_ratio', tcp), 2);
    assert.ok(sum(s, 'eventmesh_tcp_eventmesh_mq_tps', tcp) > 0, 'TPS of the last window');
    assert.ok(sum(s, 'eventmesh_tcp_client_eventmesh_tps', tcp) > 0);

    assert.equal(sum(s, 'evmesh_core_published_events_total'), 180);
    assert.equal(sum(s, 'evmesh_core_appended_events_total'), 180);
    assert.equal(sum(s, 'evmesh_core_acks_total'), 180);
    assert.equal(sum(s, 'evmesh_protocol_events_published_total', { protocol: 'eventmesh-tcp' }), 120);
    assert.equal(sum(s, 'evmesh_protocol_events_published_total', { protocol: 'binary' }), 60);
    assert.equal(sum(s, 'evmesh_connections'), 4);
    assert.equal(sum(s, 'evmesh_shard_up'), 2);
    assert.ok(sum(s, 'evmesh_storage_append_duration_seconds_count') > 0);
    assert.ok(sum(s, 'evmesh_storage_appended_bytes_total') > 180);
    assert.ok(sum(s, 'evmesh_ring_capacity_bytes') > 0);
    assert.ok(sum(s, 'process_resident_memory_bytes') > 0);

    const text = await fetchText(`http://127.0.0.1:${broker.ports.metrics}/metrics`);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(r.error, undefined, 'promtool runs (scripts/services.sh up promtool)');
    // The HTTP port is up too, so its M6 gauges are on the scrape: promtool's unit lint on
    // upstream's `_milliseconds` names is all it may report (instruments.test.ts).
    for (const l of `${r.stdout}${r.stderr}`.trim().split('\n').filter((x) => x !== '')) {
      assert.match(l, /^eventmesh_http_\S+_milliseconds\S* use base unit "seconds" instead of "milliseconds"$/, l);
    }
  } finally {
    await Promise.all([sub.close(), pub.close(), bin.close(), binSub.close()]);
  }
  const after = await scrape();
  await until('connections closed', async () => sum(await scrape(), 'eventmesh_tcp_connection_num_ratio') === 0);
  assert.ok(sum(after, 'eventmesh_general_eventmesh_mq_message_num_ratio_total') >= 180, 'counters stay after the connections close');
});

test('redeliveries, dead letters and consumer lag are counted', async () => {
  const client = broker.client();
  const sub = await client.subscribe({ topic: 'm-dlq', group: 'never-acks', from: 'latest', ackTimeoutMs: 200, maxAttempts: 2 }, () => { /* no ack */ });
  try {
    await client.publishBatch('m-dlq', [ev('d1'), ev('d2'), ev('d3')]);
    await until('3 dead letters', async () => sum(await scrape(), 'evmesh_core_dead_letters_total') >= 3);
    const s = await scrape();
    assert.ok(sum(s, 'evmesh_core_redeliveries_total') >= 3);
    assert.equal(s.filter((x) => x.name === 'evmesh_consumer_lag_events' && x.labels.group === 'never-acks').length, 1);
  } finally {
    await sub.close();
  }
});

test('name[] filters families; gzip and OpenMetrics on request', async () => {
  const text = await fetchText(`http://127.0.0.1:${broker.ports.metrics}/metrics?name[]=evmesh_shard_up&name[]=target_info`);
  assert.deepEqual([...new Set(parseExposition(text).map((x) => x.name))].sort(), ['evmesh_shard_up', 'target_info']);
  const res = await fetch(`http://127.0.0.1:${broker.ports.metrics}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0', 'accept-encoding': 'gzip' } });
  assert.equal(res.headers.get('content-encoding'), 'gzip');
  assert.match(res.headers.get('content-type')!, /openmetrics/);
  assert.match(await res.text(), /# EOF\n?$/); // fetch decompresses
});
