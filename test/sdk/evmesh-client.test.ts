// EvmeshClient (src/sdk) against a real 2-shard broker over real sockets.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import { EvmeshClient, EvmeshError, type ClientDelivery, type MeshEvent } from '../../src/index.js';

let broker: RunningBroker;
let port: number;
const clients: EvmeshClient[] = [];

const brokerConfig = (tcp = 0) => loadConfig({
  flags: { shards: 2, storage: 'memory', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': tcp, 'ports.http': 0, 'ports.grpc': 0, 'delivery.ackTimeoutMs': 300 },
});

before(async () => {
  broker = await startBroker(brokerConfig());
  port = broker.ports.tcp!;
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await broker.stop();
});

async function client(opts: Parameters<typeof EvmeshClient.connect>[0] = {}): Promise<EvmeshClient> {
  const c = await EvmeshClient.connect({ port, ...opts });
  clients.push(c);
  return c;
}

const ev = (id: string, data?: string, extra: Record<string, string> = {}): MeshEvent => ({
  attributes: { specversion: '1.0', id, source: '/sdk-test', type: 'sdk.test', ...extra },
  ...(data === undefined ? {} : { data: Buffer.from(data) }),
});

async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('publish → subscribe round trip: attributes, data and position arrive intact', async () => {
  const c = await client();
  const got: ClientDelivery[] = [];
  const sub = await c.subscribe({ topic: 'rt', group: 'g', from: 'earliest' }, (d) => { got.push(d); d.ack(); });
  const pos = await c.publish('rt', ev('1', '{"total":42}', { datacontenttype: 'application/json', region: 'eu' }));
  const none = await c.publish('rt', ev('2'));
  await until(() => got.length === 2);
  const one = got.find((d) => d.event.attributes.id === '1')!;
  assert.deepEqual({ topic: one.topic, partition: one.partition, offset: one.offset }, pos);
  assert.equal(one.attempt, 1);
  assert.equal(Buffer.from(one.event.data!).toString(), '{"total":42}');
  assert.equal(one.event.attributes.region, 'eu');
  const two = got.find((d) => d.event.attributes.id === '2')!;
  assert.equal(two.event.data, undefined);
  assert.equal(two.offset, none.offset);
  await sub.close();
});

test('publishBatch and many concurrent publish() calls: every event acked with a distinct position, in input order', async () => {
  const c = await client({ maxBatchEvents: 64 });
  const events = Array.from({ length: 500 }, (_, i) => ev(`b${i}`, `data-${i}`));
  const seen = new Map<string, string>();
  const sub = await c.subscribe({ topic: 'batch', group: 'g', from: 'earliest' }, (d) => {
    seen.set(`${d.partition}/${d.offset}`, String(d.event.attributes.id));
    d.ack();
  });
  const results = await c.publishBatch('batch', events);
  assert.equal(results.length, 500);
  const singles = await Promise.all(Array.from({ length: 200 }, (_, i) => c.publish('batch', ev(`s${i}`))));
  const all = [...results, ...singles];
  assert.equal(new Set(all.map((r) => `${r.partition}/${r.offset}`)).size, 700);
  await until(() => seen.size === 700, 10_000, '700 deliveries');
  results.forEach((r, i) => assert.equal(seen.get(`${r.partition}/${r.offset}`), `b${i}`));
  singles.forEach((r, i) => assert.equal(seen.get(`${r.partition}/${r.offset}`), `s${i}`));
  await sub.close();
});

test('backpressure: with maxInflightEvents 8, 300 concurrent publishes all complete', async () => {
  const c = await client({ maxInflightEvents: 8 });
  const r = await Promise.all(Array.from({ length: 300 }, (_, i) => c.publish('bp', ev(`p${i}`))));
  assert.equal(r.length, 300);
});

test('invalid events and topics reject with their catalog code', async () => {
  const c = await client();
  await assert.rejects(c.publish('bad topic', ev('1')), (e: EvmeshError) => e.code === 'EVM_BAD_TOPIC');
  await assert.rejects(c.publish('ok', { attributes: { specversion: '1.0', id: '', source: '/x', type: 't' } }), (e: EvmeshError) => e.code === 'EVM_BAD_EVENT');
  const batch = c.publishBatch('ok', [ev('1'), { attributes: { specversion: '2.0', id: '2', source: '/x', type: 't' } }]);
  await assert.rejects(batch, (e: EvmeshError) => e.code === 'EVM_BAD_EVENT');
  assert.equal((await c.publish('ok', ev('3'))).topic, 'ok');
});

test('an unacked delivery is redelivered after the ack timeout (attempt 2)', async () => {
  const c = await client();
  const attempts: number[] = [];
  const sub = await c.subscribe({ topic: 'redeliver', group: 'g', from: 'earliest' }, (d) => {
    attempts.push(d.attempt);
    if (d.attempt >= 2) d.ack(); // first attempt: dropped on the floor
  });
  await c.publish('redeliver', ev('1'));
  await until(() => attempts.length >= 2, 10_000, 'a redelivery');
  assert.deepEqual(attempts.slice(0, 2), [1, 2]);
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(attempts.length, 2, 'acked on attempt 2: no more deliveries');
  await sub.close();
});

test('credit: a subscription with window 5 never holds more than 5 unacked deliveries', async () => {
  const c = await client();
  const held: ClientDelivery[] = [];
  let received = 0, maxHeld = 0;
  const sub = await c.subscribe({ topic: 'credit', group: 'g', from: 'earliest', window: 5, ackTimeoutMs: 60_000 }, (d) => {
    received++;
    held.push(d);
    maxHeld = Math.max(maxHeld, held.length);
  });
  await c.publishBatch('credit', Array.from({ length: 40 }, (_, i) => ev(`c${i}`)));
  await until(() => held.length === 5, 5000, '5 held');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(received, 5, 'nothing beyond the window while nothing is acked');
  while (received < 40) {
    held.shift()?.ack();
    await new Promise((r) => setTimeout(r, 2));
    assert.ok(held.length <= 5);
  }
  assert.equal(maxHeld, 5);
  await sub.close();
});

test('request-reply through the broker; no responder → EVM_TIMEOUT', async () => {
  const responder = await client();
  const sub = await responder.subscribe({ topic: 'rpc', group: 'svc' }, (d) => {
    void d.reply(ev(`re-${String(d.event.attributes.id)}`, `echo:${Buffer.from(d.event.data ?? []).toString()}`));
  });
  const requester = await client();
  const reply = await requester.request('rpc', ev('q1', 'ping'), 5000);
  assert.equal(reply.attributes.id, 're-q1');
  assert.equal(Buffer.from(reply.data!).toString(), 'echo:ping');
  await sub.close();
  await assert.rejects(requester.request('rpc-nobody', ev('q2'), 300), (e: EvmeshError) => e.code === 'EVM_TIMEOUT');
});

test('reconnect: the broker restarts on the same port; the client resubscribes and publishing resumes', async () => {
  let b = await startBroker(brokerConfig());
  const p = b.ports.tcp!;
  const c = await EvmeshClient.connect({ port: p, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
  try {
    const got: string[] = [];
    await c.subscribe({ topic: 'rc', group: 'g', from: 'earliest' }, (d) => { got.push(String(d.event.attributes.id)); d.ack(); });
    await c.publish('rc', ev('before'));
    await until(() => got.includes('before'));
    await b.stop(); // drains: the server says GOODBYE and closes the connection
    await until(() => !c.connected, 5000, 'disconnect');
    b = await startBroker(brokerConfig(p));
    await until(() => c.connected, 10_000, 'reconnect');
    // The resubscription may still be in flight: publish until an event comes through.
    let n = 0;
    while (!got.some((id) => id.startsWith('after'))) {
      await c.publish('rc', ev(`after-${n++}`));
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(n < 200, 'an event published after the reconnect is delivered');
    }
  } finally {
    await c.close();
    await b.stop();
  }
});

test('the SDK is exported from the package root with its types', async () => {
  const root = await import('../../src/index.js');
  assert.equal(typeof root.EvmeshClient.connect, 'function');
});

test('README: the SDK example runs as written against a broker', async () => {
  const { readFileSync, mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { execFile } = await import('node:child_process');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const root = new URL('../../', import.meta.url);
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((c) => c.includes('EvmeshClient'));
  assert.ok(block, 'a ```ts block using EvmeshClient');
  const code = block.replace("from 'evmesh'", `from ${JSON.stringify(new URL('src/index.ts', root).href)}`).replace('port: 10000', `port: ${port}`);
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-readme-sdk-'));
  try {
    const file = join(dir, 'sdk-example.mts');
    writeFileSync(file, code);
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', file], { cwd: new URL('.', root).pathname, timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    assert.match(out, /\{ topic: 'orders', partition: \d+, offset: \d+ \}/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
