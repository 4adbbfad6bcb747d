// The HTTP port in the upstream HTTP meter (spec M6) after real HTTP traffic on a 2-shard broker:
// REST CloudEvents publishes, EventMesh request codes 104/107, a REST batch, refusals and a
// webhook push; the scrape (summed over both shards) is checked against exactly what the
// clients did, and `promtool check metrics` reports only upstream's unit lint.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import type { RunningBroker } from '../../src/broker.js';
import { fetchText, parseExposition, sum, type Sample } from '../../bench/lib/scrape.js';
import { httpBroker, send, sink } from '../protocol/http-helpers.js';

let broker: RunningBroker;
const MAX_BATCH = 5;
// A 1 s webhook backoff leaves time to see an event waiting for its retry.
before(async () => { broker = await httpBroker({ 'limits.maxBatchEvents': MAX_BATCH, 'webhook.backoffBaseMs': 1000 }); });
after(async () => { await broker.stop(); });

const port = () => broker.ports.http!;
const scrapeText = () => fetchText(`http://127.0.0.1:${broker.ports.metrics}/metrics`);
const scrape = async (): Promise<Sample[]> => parseExposition(await scrapeText());
async function until(what: string, fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const IDENTITY = { env: 'test', idc: 'idc1', sys: '0000', pid: '4242', language: 'JAVA', version: '1.0', protocoldesc: 'http', protocolversion: '1.0', protocoltype: 'eventmeshmessage' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const code = (c: number, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  send(port(), 'POST', '/', { ...FORM, ...IDENTITY, code: String(c), ...headers }, new URLSearchParams(fields).toString());
const binary = (topic: string, id: string, attrs: Record<string, string> = { 'ce-type': 't' }) =>
  send(port(), 'POST', `/topics/${topic}/events`, { 'ce-specversion': '1.0', 'ce-id': id, 'ce-source': '/m', 'content-type': 'text/plain', ...attrs }, 'x');
const batch = (topic: string, n: number) => send(port(), 'POST', `/topics/${topic}/events`, { 'content-type': 'application/cloudevents-batch+json' },
  JSON.stringify(Array.from({ length: n }, (_, i) => ({ specversion: '1.0', id: `b${n}-${i}`, source: '/m', type: 't' }))));

test('M6: REST, EventMesh 104/107, batches, refusals and webhook pushes are counted exactly over both shards; promtool finds only the unit lint', async () => {
  const hook = await sink();
  try {
    const sub = await send(port(), 'POST', '/subscriptions', { 'content-type': 'application/json' }, JSON.stringify({ topic: 'mh-hook', url: hook.url, group: 'mh', format: 'binary' }));
    assert.equal(sub.status, 201, sub.text);
    // Counted once broker-wide although the CLUSTERING subscription has a member in each shard.
    await until('the webhook subscription in evmesh_subscriptions', async () => sum(await scrape(), 'evmesh_subscriptions', { protocol: 'http', topic: 'mh-hook' }) === 1);

    for (let i = 0; i < 3; i++) assert.equal((await binary('mh-hook', `h${i}`)).status, 200);
    for (let i = 0; i < 2; i++) {
      const r = await code(104, { topic: 'mh-em', content: 'hi', bizseqno: `e${i}`, uniqueid: `e${i}`, producergroup: 'pg', ttl: '3000' });
      assert.equal(r.json.retCode, 0, r.text);
    }
    assert.equal((await code(107, { topic: 'mh-em', msg: 'one', bizseqno: 'v2', producergroup: 'pg', ttl: '3000' })).json.retCode, 0);
    assert.equal((await batch('mh-batch', 4)).status, 200);
    // Refusals: a bad identity header (retCode 6 in an HTTP 200), no CloudEvent (4xx), a batch over
    // limits.maxBatchEvents (413 and 6 batch discards), and an event core rejects (no type: a failed send).
    assert.equal((await code(104, { topic: 'mh-em', content: 'x', bizseqno: 'bad', uniqueid: 'bad', producergroup: 'pg' }, { pid: 'abc' })).json.retCode, 6);
    assert.ok((await send(port(), 'POST', '/topics/mh-em/events', { 'content-type': 'text/plain' }, 'x')).status >= 400);
    assert.equal((await batch('mh-batch', MAX_BATCH + 1)).status, 413);
    assert.ok((await binary('mh-em', 'no-type', {})).status >= 400);
    await hook.waitFor(3);

    const s = await scrape();
    const http = { otel_scope_name: 'HTTP', http_scheme: 'http', http_flavor: '1.1', net_host_name: '127.0.0.1', net_host_port: String(port()), rpc_system: 'HTTP', rpc_service: 'org.apache.eventmesh.runtime.boot.EventMeshHTTPServer' };
    assert.equal(sum(s, 'eventmesh_http_send_message_num_ratio_total', http), 6, '3 REST + 2 code 104 + 1 rejected by core');
    assert.equal(sum(s, 'eventmesh_http_send_message_fail_num_ratio_total', http), 1);
    assert.equal(sum(s, 'eventmesh_http_batch_send_message_num_ratio_total', http), 5, 'REST batch of 4 + one 107');
    assert.equal(sum(s, 'eventmesh_http_batch_send_message_fail_num_ratio_total', http), 0);
    assert.equal(sum(s, 'eventmesh_http_batch_send_message_discard_num_ratio_total', http), MAX_BATCH + 1);
    assert.equal(sum(s, 'eventmesh_http_request_discard_num_ratio_total', http), 4);
    assert.equal(sum(s, 'eventmesh_http_push_message_num_ratio_total', http), 3);
    assert.equal(sum(s, 'eventmesh_http_push_message_fail_num_ratio_total', http), 0);
    assert.equal(sum(s, 'eventmesh_http_reply_message_num_ratio_total', http), 0);
    assert.ok(sum(s, 'eventmesh_http_request_cost_max_milliseconds', http) > 0, 'request cost');
    assert.ok(sum(s, 'eventmesh_http_push_latency_max_milliseconds', http) > 0, 'push round-trip');
    assert.equal(s.filter((x) => x.name === 'eventmesh_http_body_decode_cost_avg_milliseconds').length, 1, 'one body decode series');
    for (const g of ['batch_message', 'send_message', 'push_message']) assert.equal(sum(s, `eventmesh_http_${g}_queue_size_ratio`, http), 0, `${g} queue drained`);
    assert.equal(sum(s, 'eventmesh_http_retry_queue_size_ratio', http), 0);
    for (const x of s.filter((y) => y.name.startsWith('eventmesh_http_'))) assert.equal(x.labels.net_host_port, String(port()), x.name);

    const r = spawnSync('promtool', ['check', 'metrics'], { input: await scrapeText(), encoding: 'utf8' });
    assert.equal(r.error, undefined, 'promtool runs (scripts/services.sh up promtool)');
    const lines = `${r.stdout}${r.stderr}`.trim().split('\n').filter((l) => l !== '');
    assert.ok(lines.length > 0, 'upstream names trip the unit lint');
    for (const l of lines) assert.match(l, /^eventmesh_\S+_milliseconds\S* use base unit "seconds" instead of "milliseconds"$/, l);
  } finally {
    await hook.close();
  }
});

test('M6: a failing webhook counts every push attempt and its failures; the retry gauge shows the waiting event', async () => {
  const hook = await sink(() => ({ status: 503 }));
  try {
    const before = await scrape();
    const sub = await send(port(), 'POST', '/subscriptions', { 'content-type': 'application/json' }, JSON.stringify({ topic: 'mh-fail', url: hook.url, group: 'mf', format: 'structured' }));
    assert.equal(sub.status, 201, sub.text);
    assert.equal((await binary('mh-fail', 'f1')).status, 200);
    await hook.waitFor(1);
    await until('the retry gauge', async () => sum(await scrape(), 'eventmesh_http_retry_queue_size_ratio') === 1);
    await hook.waitFor(2);
    const delta = (s: Sample[], name: string): number => sum(s, name) - sum(before, name);
    // The third attempt comes 1–2 s after the second (backoff doubles from 1 s).
    await until('two failed attempts counted', async () => {
      const s = await scrape();
      return delta(s, 'eventmesh_http_push_message_fail_num_ratio_total') === 2 && delta(s, 'eventmesh_http_push_message_num_ratio_total') === 2;
    });
  } finally {
    await hook.close();
  }
});

test('evmesh_connections / evmesh_subscriptions count WebSocket subscribers; a refused upgrade is a discard', async () => {
  const before = await scrape();
  const ws = new WebSocket(`ws://127.0.0.1:${port()}/ws?topic=mh-ws&group=g`);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  try {
    const s = await scrape();
    assert.equal(sum(s, 'evmesh_connections', { protocol: 'http' }), 1);
    assert.equal(sum(s, 'evmesh_subscriptions', { protocol: 'http', topic: 'mh-ws' }), 1);
  } finally {
    ws.close();
  }
  await until('the WebSocket gone from the gauges', async () => sum(await scrape(), 'evmesh_connections', { protocol: 'http' }) === 0);
  assert.equal(sum(await scrape(), 'evmesh_subscriptions', { protocol: 'http', topic: 'mh-ws' }), 0);
  const refused = new WebSocket(`ws://127.0.0.1:${port()}/ws?group=g`); // no topic: 400
  await new Promise((resolve) => { refused.once('error', resolve); });
  const discards = (x: Sample[]) => sum(x, 'eventmesh_http_request_discard_num_ratio_total');
  assert.equal(discards(await scrape()) - discards(before), 1);
});
