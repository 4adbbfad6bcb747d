// Webhook push engine (src/protocol/webhook, issue 5 item 4) through the HTTP port: retries
// with backoff to the dead-letter topic, per-subscriber concurrency, keep-alive pooling, and a
// slow subscriber not delaying another.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningBroker } from '../../src/broker.js';
import { backoffMs } from '../../src/protocol/webhook/pusher.js';
import { judge } from '../../src/protocol/webhook/push-request.js';
import { httpBroker, send, sink } from './http-helpers.js';

test('backoff doubles per retry within [d/2, d], capped at the maximum', () => {
  for (let i = 0; i < 200; i++) {
    const b1 = backoffMs(1, 100, 1000), b3 = backoffMs(3, 100, 1000), b9 = backoffMs(9, 100, 1000);
    assert.ok(b1 >= 50 && b1 <= 100, String(b1));
    assert.ok(b3 >= 200 && b3 <= 400, String(b3));
    assert.ok(b9 >= 500 && b9 <= 1000, String(b9));
  }
});

test('H42 retCode contract for eventmesh-format subscribers; any 2xx for CloudEvents ones', () => {
  assert.equal(judge('eventmesh', 200, '{"retCode":0}'), 'done');
  assert.equal(judge('eventmesh', 204, '{"retCode":1}'), 'done');
  assert.equal(judge('eventmesh', 200, '{"retCode":2}'), 'retry');
  assert.equal(judge('eventmesh', 200, '{"retCode":5}'), 'retry');
  assert.equal(judge('eventmesh', 200, '{"retCode":3}'), 'dropped');
  assert.equal(judge('eventmesh', 200, ''), 'dropped');
  assert.equal(judge('eventmesh', 203, '{"retCode":0}'), 'retry');
  assert.equal(judge('binary', 299, ''), 'done');
  assert.equal(judge('structured', 500, ''), 'retry');
});

let broker: RunningBroker;
before(async () => { broker = await httpBroker({ 'webhook.backoffBaseMs': 100, 'webhook.backoffMaxMs': 1000, 'webhook.maxAttempts': 3, 'webhook.concurrency': 4, 'webhook.timeoutMs': 5000 }); });
after(async () => { await broker.stop(); });
const port = () => broker.ports.http!;

async function subscribe(topic: string, url: string, group: string): Promise<string> {
  const r = await send(port(), 'POST', '/subscriptions', { 'content-type': 'application/json' }, JSON.stringify({ topic, url, group, format: 'structured' }));
  assert.equal(r.status, 201, r.text);
  return r.json.id as string;
}

async function publish(topic: string, id: string): Promise<void> {
  const r = await send(port(), 'POST', `/topics/${topic}/events`, { 'content-type': 'application/cloudevents+json' }, JSON.stringify({ specversion: '1.0', id, source: '/t', type: 't', data: { id } }));
  assert.equal(r.status, 200, r.text);
}

test('a failing webhook is retried with growing backoff, then the event goes to the dead-letter topic', async () => {
  const s = await sink(() => ({ status: 503 }));
  try {
    await subscribe('wh-fail', s.url, 'g-fail');
    await publish('wh-fail', 'doomed');
    const got = await s.waitFor(3);
    const gap1 = got[1]!.at - got[0]!.at, gap2 = got[2]!.at - got[1]!.at;
    assert.ok(gap1 >= 40, `first retry after ${gap1} ms (≥ 50 expected)`);
    assert.ok(gap2 >= 90, `second retry after ${gap2} ms (≥ 100 expected)`);
    let dlq: any[] = [];
    for (let i = 0; i < 20 && dlq.length === 0; i++) {
      const r = await send(port(), 'GET', '/topics/wh-fail.g-fail.DLQ/events?group=dlq-reader&from=earliest&waitMs=300', {});
      dlq = r.json?.events ?? [];
    }
    assert.equal(dlq.length, 1);
    const ev = dlq[0].event;
    assert.equal(ev.id, 'doomed');
    assert.equal(ev.dlqreason, 'webhook');
    assert.equal(ev.dlqattempts, 3);
    assert.equal(ev.dlqgroup, 'g-fail');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.got.length, 3, 'no push after dead-lettering');
  } finally {
    await s.close();
  }
});

test('per-subscriber concurrency limit, keep-alive pooling, and a slow webhook does not delay another', async () => {
  let open = 0, maxOpen = 0;
  const slow = await sink(() => { open++; maxOpen = Math.max(maxOpen, open); return { status: 200, delayMs: 400 }; });
  slow.server.on('request', (_req, res) => res.on('finish', () => { open--; }));
  const fast = await sink(() => ({ status: 200 }));
  const sockets = new Set<string>();
  fast.server.on('connection', (sock) => sockets.add(`${sock.remotePort}`));
  try {
    await subscribe('wh-mixed', slow.url, 'g-slow');
    await subscribe('wh-mixed', fast.url, 'g-fast');
    const n = 60;
    const start = Date.now();
    await Promise.all(Array.from({ length: n }, (_, i) => publish('wh-mixed', `m${i}`)));
    await fast.waitFor(n);
    const fastMs = Date.now() - start;
    // The slow sink at 400 ms per push and ≤ 4 in flight per shard would need ≥ 3 s for 60.
    assert.ok(slow.got.length < n, `fast subscriber done in ${fastMs} ms while the slow one has ${slow.got.length}/${n}`);
    assert.ok(maxOpen <= 4 * 2, `at most webhook.concurrency (4) per shard in flight, saw ${maxOpen}`);
    assert.ok(sockets.size <= 4 * 2, `pushes reuse pooled keep-alive sockets: ${sockets.size} connections for ${n} pushes`);
    await slow.waitFor(n, 20_000);
    assert.deepEqual(new Set(slow.got.map((g) => JSON.parse(g.body.toString()).id)).size, n);
  } finally {
    await slow.close();
    await fast.close();
  }
});

test('an event whose attributes cannot be sent as HTTP headers is dead-lettered; the shard keeps pushing', async () => {
  const s = await sink(() => ({ status: 200 }));
  try {
    const r = await send(port(), 'POST', '/subscriptions', { 'content-type': 'application/json' }, JSON.stringify({ topic: 'wh-bad', url: s.url, group: 'g-bad', format: 'binary' }));
    assert.equal(r.status, 201, r.text);
    const bad = await send(port(), 'POST', '/topics/wh-bad/events', { 'content-type': 'application/cloudevents+json' },
      JSON.stringify({ specversion: '1.0', id: 'ctl', source: '/t', type: 't', datacontenttype: 'text/plain\u0001x', data: 'x' }));
    assert.equal(bad.status, 200, bad.text);
    await publish('wh-bad', 'fine');
    const [got] = await s.waitFor(1);
    assert.equal(got!.headers['ce-id'], 'fine');
    let dlq: any[] = [];
    for (let i = 0; i < 20 && dlq.length === 0; i++) {
      dlq = (await send(port(), 'GET', '/topics/wh-bad.g-bad.DLQ/events?group=dlq-reader&from=earliest&waitMs=300', {})).json?.events ?? [];
    }
    assert.equal(dlq[0]?.event.id, 'ctl');
  } finally {
    await s.close();
  }
});
