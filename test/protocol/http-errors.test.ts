// Bad input on the HTTP port (issue 5 item 7, DESIGN §4): each answered with the catalog's
// JSON {code, message} and its status over a real socket; none disturbs other requests.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { RunningBroker } from '../../src/broker.js';
import { httpBroker, send } from './http-helpers.js';

let broker: RunningBroker;
before(async () => { broker = await httpBroker({ 'http.maxBodyBytes': 4096, 'http.bodyTimeoutMs': 1000 }); });
after(async () => { await broker.stop(); });
const port = () => broker.ports.http!;
const ce = { 'content-type': 'application/cloudevents+json' };

function assertError(r: { status: number; json: any; text: string }, status: number, code: string): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.code, code);
  assert.equal(typeof r.json.message, 'string');
}

test('malformed JSON → 400 EVM_BAD_REQUEST', async () => {
  assertError(await send(port(), 'POST', '/topics/e1/events', ce, '{"specversion":'), 400, 'EVM_BAD_REQUEST');
  assertError(await send(port(), 'POST', '/subscriptions', { 'content-type': 'application/json' }, 'nope'), 400, 'EVM_BAD_REQUEST');
});

test('a CloudEvent missing required attributes → 400 EVM_BAD_EVENT naming the attribute', async () => {
  const r = await send(port(), 'POST', '/topics/e1/events', ce, JSON.stringify({ specversion: '1.0', id: 'x', type: 't' }));
  assertError(r, 400, 'EVM_BAD_EVENT');
  assert.match(r.json.message, /source/);
  assertError(await send(port(), 'POST', '/topics/e1/events', { 'ce-id': 'x', 'ce-source': '/s', 'ce-type': 't' }, 'x'), 400, 'EVM_BAD_EVENT');
});

test('a body over http.maxBodyBytes → 413 EVM_TOO_LARGE (announced or chunked)', async () => {
  const big = JSON.stringify({ specversion: '1.0', id: 'x', source: '/s', type: 't', data: 'x'.repeat(5000) });
  assertError(await send(port(), 'POST', '/topics/e1/events', ce, big), 413, 'EVM_TOO_LARGE');
  const chunked = await send(port(), 'POST', '/topics/e1/events', { ...ce, 'transfer-encoding': 'chunked' }, undefined as never);
  // An empty chunked body is malformed JSON, not too large: the limit counts bytes received.
  assertError(chunked, 400, 'EVM_BAD_REQUEST');
});

test('an unsupported content type → 415 EVM_UNSUPPORTED', async () => {
  assertError(await send(port(), 'POST', '/topics/e1/events', { 'content-type': 'text/plain' }, 'hello'), 415, 'EVM_UNSUPPORTED');
});

test('an unknown subscription → 404 EVM_UNKNOWN_SUBSCRIPTION', async () => {
  assertError(await send(port(), 'GET', '/subscriptions/nope', {}), 404, 'EVM_UNKNOWN_SUBSCRIPTION');
  assertError(await send(port(), 'DELETE', '/subscriptions/nope', {}), 404, 'EVM_UNKNOWN_SUBSCRIPTION');
});

test('an invalid webhook URL is refused at subscribe time → 400', async () => {
  for (const url of ['ftp://127.0.0.1/x', 'not a url', 'http://user:pw@127.0.0.1/x']) {
    assertError(await send(port(), 'POST', '/subscriptions', { 'content-type': 'application/json' }, JSON.stringify({ topic: 't', url })), 400, 'EVM_BAD_REQUEST');
  }
});

test('a bad request on one keep-alive connection does not affect the next request on it or others', async () => {
  const good = JSON.stringify({ specversion: '1.0', id: 'ok', source: '/s', type: 't' });
  const bad = '{broken';
  // Two requests pipelined on one socket: the bad one first.
  const answer = await new Promise<string>((resolve, reject) => {
    const sock = connect(port(), '127.0.0.1');
    let text = '';
    sock.on('data', (c) => { text += c.toString(); if ((text.match(/HTTP\/1\.1 /g) ?? []).length >= 2 && text.endsWith('}')) { sock.end(); resolve(text); } });
    sock.on('error', reject);
    const req = (body: string) => `POST /topics/e2/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/cloudevents+json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    sock.write(req(bad) + req(good));
  });
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.match(answer, /HTTP\/1\.1 200 [^]*"topic":"e2"/);
  const parallel = await Promise.all([
    send(port(), 'POST', '/topics/e2/events', ce, bad),
    send(port(), 'POST', '/topics/e2/events', ce, good),
  ]);
  assert.deepEqual(parallel.map((r) => r.status), [400, 200]);
});

function closedAfter(first: string): Promise<{ ms: number; text: string }> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    let text = '';
    const sock = connect(port(), '127.0.0.1', () => sock.write(first));
    sock.on('data', (c) => { text += c.toString(); });
    sock.on('close', () => resolve({ ms: Date.now() - start, text }));
    sock.on('error', () => {});
    setTimeout(() => { sock.destroy(); reject(new Error('not closed by the server in 30 s')); }, 30_000).unref();
  });
}

test('a slow body (headers, then silence) → 408 EVM_TIMEOUT after http.bodyTimeoutMs, connection closed', async () => {
  const r = await closedAfter('POST /topics/e3/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/cloudevents+json\r\nContent-Length: 100\r\n\r\n{"spec');
  assert.match(r.text, /^HTTP\/1\.1 408 [^]*"code":"EVM_TIMEOUT"/);
  assert.ok(r.ms >= 900, `answered after ${r.ms} ms`);
});

test('half a request line then silence: uWS closes the idle connection (its fixed ~10 s HTTP timeout)', async () => {
  const r = await closedAfter('POST /topics/e3/ev');
  assert.equal(r.text, '');
  assert.ok(r.ms >= 5_000, `closed after ${r.ms} ms`);
});
