// WebSocket subscriptions on the HTTP port (issue 5 item 5) with the `ws` client library (the
// same protocol a browser's WebSocket speaks).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { RunningBroker } from '../../src/broker.js';
import { httpBroker, send } from './http-helpers.js';

let broker: RunningBroker;
before(async () => { broker = await httpBroker({ 'delivery.ackTimeoutMs': 500, 'ws.maxBackpressureBytes': 16 * 1024 }); });
after(async () => { await broker.stop(); });
const port = () => broker.ports.http!;

async function publish(topic: string, id: string, data: unknown = { id }): Promise<void> {
  const r = await send(port(), 'POST', `/topics/${topic}/events`, { 'content-type': 'application/cloudevents+json' }, JSON.stringify({ specversion: '1.0', id, source: '/t', type: 't', data }));
  assert.equal(r.status, 200, r.text);
}

function open(query: string): Promise<{ ws: WebSocket; messages: any[]; next(pred: (m: any) => boolean, timeoutMs?: number): Promise<any> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port()}/ws?${query}`);
  const messages: any[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (m) => { messages.push(JSON.parse(m.toString())); for (const w of waiters.splice(0)) w(); });
  const next = (pred: (m: any) => boolean, timeoutMs = 5000) => new Promise<any>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages).slice(0, 300)}`)), timeoutMs);
    const check = (): void => { const m = messages.find(pred); if (m) { clearTimeout(t); resolve(m); } else waiters.push(check); };
    check();
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, next }));
    ws.once('error', reject);
  });
}

test('subscribe over WebSocket, receive structured CloudEvents, ack them', async () => {
  const c = await open('topic=ws-a&group=g1');
  await c.next((m) => m.type === 'subscribed');
  await publish('ws-a', 'e1');
  const ev = await c.next((m) => m.type === 'event');
  assert.equal(ev.topic, 'ws-a');
  assert.equal(ev.event.id, 'e1');
  assert.deepEqual(ev.event.data, { id: 'e1' });
  c.ws.send(JSON.stringify({ type: 'ack', id: ev.id }));
  // Acked: not redelivered after the ack timeout (500 ms).
  await new Promise((r) => setTimeout(r, 900));
  assert.equal(c.messages.filter((m) => m.type === 'event').length, 1);
  c.ws.close();
});

test('an unacked event is redelivered (attempt 2)', async () => {
  const c = await open('topic=ws-b&group=g1');
  await c.next((m) => m.type === 'subscribed');
  await publish('ws-b', 'e2');
  const again = await c.next((m) => m.type === 'event' && m.attempt === 2, 5000);
  assert.equal(again.event.id, 'e2');
  c.ws.send(JSON.stringify({ type: 'ack', ids: c.messages.filter((m) => m.type === 'event').map((m) => m.id) }));
  c.ws.close();
});

test('bad messages get an error frame; a missing topic is refused at upgrade with 400', async () => {
  const c = await open('topic=ws-c&group=g1');
  c.ws.send('not json');
  const err = await c.next((m) => m.type === 'error');
  assert.equal(err.code, 'EVM_BAD_REQUEST');
  c.ws.close();
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port()}/ws?group=g`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });
  assert.equal(status, 400);
});

test('backpressure: while a reader does not read, deliveries wait in the broker (uWS buffered amount over ws.maxBackpressureBytes); all arrive once it reads', async () => {
  const c = await open('topic=ws-d&group=g1&from=earliest');
  await c.next((m) => m.type === 'subscribed');
  const sock = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
  sock.pause();
  // ~10 MB: more than the kernel's loopback socket buffers absorb.
  const big = 'x'.repeat(32 * 1024);
  const n = 300;
  for (let b = 0; b < n / 100; b++) {
    const batch = Array.from({ length: 100 }, (_, k) => ({ specversion: '1.0', id: `big-${b * 100 + k}`, source: '/t', type: 't', data: { big } }));
    const r = await send(port(), 'POST', '/topics/ws-d/events', { 'content-type': 'application/cloudevents-batch+json' }, JSON.stringify(batch));
    assert.equal(r.status, 200, r.text);
  }
  await new Promise((r) => setTimeout(r, 500));
  const stats = await broker.queryShards('http.clients');
  const mine = stats.flatMap((a) => (a as { value?: { websocket: { topic: string; queued: number }[] } }).value?.websocket ?? []).filter((w) => w.topic === 'ws-d');
  assert.equal(mine.length, 1);
  assert.ok(mine[0]!.queued > 0, 'deliveries wait in the connection queue while uWS buffers over ws.maxBackpressureBytes');
  sock.resume();
  const seen = new Set<string>();
  while (seen.size < n) {
    const m = await c.next((x) => x.type === 'event' && !seen.has(x.event.id));
    seen.add(m.event.id);
    c.ws.send(JSON.stringify({ type: 'ack', id: m.id }));
  }
  c.ws.close();
});
