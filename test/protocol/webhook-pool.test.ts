// The pipelining HTTP/1.1 client of webhook pushes (src/protocol/webhook/http1-pool.ts) against
// real servers: node:http (sequential per connection) and a raw socket for the edge cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { Http1Pool } from '../../src/protocol/webhook/http1-pool.js';

test('pipelined POSTs on few connections: each answer matches its request, in order', async () => {
  const sockets = new Set<number>();
  const server = createHttpServer((req, res) => {
    sockets.add(req.socket.remotePort!);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      // Odd requests answer chunked (no Content-Length), even ones with a length.
      if (Number(body) % 2 === 1) { res.write(`echo:${body}`); res.end(); } else res.end(`echo:${body}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const pool = new Http1Pool(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?x=1`), 2);
  try {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.post({ 'content-type': 'text/plain' }, Buffer.from(String(i)), 5000)));
    assert.deepEqual(answers.map((a) => a.body.toString()), Array.from({ length: 50 }, (_, i) => `echo:${i}`));
    assert.ok(answers.every((a) => a.status === 200));
    assert.ok(sockets.size <= 2, `${sockets.size} connections`);
  } finally {
    pool.close();
    server.closeAllConnections();
    server.close();
  }
});

test('a server that closes the connection, answers close-delimited, or never answers: requests fail or complete, none hang', async () => {
  let mode = 'close-delimited';
  const server = createServer((sock) => {
    sock.once('data', () => {
      if (mode === 'close-delimited') sock.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n{"retCode":0}');
      else if (mode === 'reset') sock.destroy();
      // 'silent': never answers
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  const pool = new Http1Pool(url, 1);
  try {
    const r = await pool.post({}, Buffer.from('x'), 2000);
    assert.equal(r.body.toString(), '{"retCode":0}');
    mode = 'reset';
    await assert.rejects(pool.post({}, Buffer.from('x'), 2000));
    mode = 'silent';
    const t0 = Date.now();
    await assert.rejects(pool.post({}, Buffer.from('x'), 300));
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    pool.close();
    server.close();
  }
});

test('header names or values that would split the request are refused before anything is sent', async () => {
  const pool = new Http1Pool(new URL('http://127.0.0.1:9/'), 1);
  await assert.rejects(pool.post({ 'content-type': 'text/plain\r\nx-evil: 1' }, Buffer.alloc(0), 1000), /cannot be sent/);
  await assert.rejects(pool.post({ 'ce-x': 'caf\u00e9\u20ac' }, Buffer.alloc(0), 1000), /ISO-8859-1/);
  pool.close();
});
