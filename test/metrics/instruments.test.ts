// The HTTP and gRPC instrument APIs (spec M6, M8) the protocol adapters call, on a fresh
// per-thread registry: names, labels and values as upstream exposes them, and promtool's verdict
// (only its unit lint on upstream's own `_milliseconds` names, kept for compatibility).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ThreadMetrics } from '../../src/metrics/shard.js';
import { parseExposition, sum } from '../../bench/lib/scrape.js';

test('M6: HTTP counters and gauges carry the HTTP label set; fail ratios are 0-1', async () => {
  const m = new ThreadMetrics();
  m.http.bind('http', '127.0.0.1', 10105, () => ({ batch: 1, send: 2, push: 3, retry: 4 }));
  m.http.request(4); m.http.request(8); m.http.requestDiscarded();
  m.http.sendMessage(true, 3); m.http.sendMessage(false, 9);
  m.http.batchSendMessage(10, true, 5); m.http.batchSendDiscarded(2);
  m.http.pushMessage(true, 12); m.http.pushMessage(false, 30);
  m.http.bodyDecoded(1);
  const s = parseExposition(await m.registry.metrics());
  const http = { otel_scope_name: 'HTTP', http_scheme: 'http', http_flavor: '1.1', net_host_name: '127.0.0.1', net_host_port: '10105', rpc_system: 'HTTP', rpc_service: 'org.apache.eventmesh.runtime.boot.EventMeshHTTPServer' };
  assert.equal(sum(s, 'eventmesh_http_request_discard_num_ratio_total', http), 1);
  assert.equal(sum(s, 'eventmesh_http_send_message_num_ratio_total', http), 2);
  assert.equal(sum(s, 'eventmesh_http_send_message_fail_num_ratio_total', http), 1);
  assert.equal(sum(s, 'eventmesh_http_send_message_fail_rate_percent', http), 0.5);
  assert.equal(sum(s, 'eventmesh_http_batch_send_message_num_ratio_total', http), 10);
  assert.equal(sum(s, 'eventmesh_http_batch_send_message_discard_num_ratio_total', http), 2);
  assert.equal(sum(s, 'eventmesh_http_push_message_num_ratio_total', http), 2);
  assert.equal(sum(s, 'eventmesh_http_push_message_fail_rate_percent', http), 0.5);
  assert.equal(sum(s, 'eventmesh_http_request_cost_max_milliseconds', http), 8);
  assert.equal(sum(s, 'eventmesh_http_request_cost_avg_tps', http), 6);
  assert.equal(sum(s, 'eventmesh_http_push_latency_max_milliseconds', http), 30);
  assert.equal(sum(s, 'eventmesh_http_retry_queue_size_ratio', http), 4);
});

test('M5/M8: gRPC general counters use the GRPC set + client labels; the publish histogram has upstream buckets', async () => {
  const m = new ThreadMetrics();
  m.grpc.bind('127.0.0.1', 10205);
  const c = m.grpc.client('10.1.2.3');
  c.fromClient += 3; c.toMq += 3; c.toClient += 3;
  m.grpc.client(undefined).fromClient++;
  m.grpc.publishHandled(4);
  m.grpc.subscribed('t1');
  const s = parseExposition(await m.registry.metrics());
  const grpc = { rpc_system: 'grpc', rpc_service: 'org.apache.eventmesh.runtime.boot.EventMeshGrpcServer', net_peer_name: '127.0.0.1', net_peer_port: '10205' };
  assert.equal(sum(s, 'eventmesh_general_client_eventmesh_message_num_ratio_total', { ...grpc, client_protocol_type: 'GRPC', client_address: '10.1.2.3' }), 3);
  assert.equal(sum(s, 'eventmesh_general_client_eventmesh_message_num_ratio_total', { client_address: 'unkown' }), 1, 'M4: upstream spelling');
  assert.equal(sum(s, 'eventmesh_grpc_publish_handle_cost_milliseconds_bucket', { ...grpc, le: '5' }), 1);
  assert.equal(sum(s, 'eventmesh_grpc_publish_handle_cost_milliseconds_bucket', { ...grpc, le: '3' }), 0);
  assert.deepEqual(s.filter((x) => x.name === 'eventmesh_grpc_publish_handle_cost_milliseconds_bucket').map((x) => x.labels.le),
    ['1', '3', '5', '10', '30', '50', '100', '300', '500', '1000', '3000', '5000', '10000', '+Inf']);
  assert.equal(sum(s, 'evmesh_subscriptions', { protocol: 'grpc', topic: 't1' }), 1);
});

test('promtool: only its unit lint on upstream\'s `_milliseconds` names; evmesh\'s own names pass clean', async () => {
  const m = new ThreadMetrics();
  m.http.bind('http', '127.0.0.1', 10105);
  m.http.request(1); m.http.sendMessage(true, 1); m.http.requestDiscarded();
  m.grpc.bind('127.0.0.1', 10205);
  m.grpc.client('1.2.3.4').fromClient++;
  m.grpc.publishHandled(2);
  m.storage.appendSeconds.observe(0.001);
  const r = spawnSync('promtool', ['check', 'metrics'], { input: await m.registry.metrics(), encoding: 'utf8' });
  assert.equal(r.error, undefined, 'promtool runs (scripts/services.sh up promtool)');
  const lines = `${r.stdout}${r.stderr}`.trim().split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0, 'upstream names do trip the unit lint');
  for (const l of lines) assert.match(l, /^eventmesh_\S+_milliseconds\S* use base unit "seconds" instead of "milliseconds"$/, l);
});
