import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { EvmeshError, type WireError } from '../../src/errors.js';
import type { PeerStats } from '../../src/shard/ring-mesh.js';
import { Supervisor } from '../../src/shard/supervisor.js';

const ECHO_APP = new URL('./fixtures/echo-app.ts', import.meta.url);
const ROUTE = 1, ECHO = 2, POISON = 3, SLOW = 4;

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** [ROUTE, 0, n, hops…, seq u32 LE, filler] */
function route(hops: number[], seq: number, payload = 4): Uint8Array {
  const m = new Uint8Array(3 + hops.length + payload);
  m[0] = ROUTE;
  m[2] = hops.length;
  m.set(hops, 3);
  new DataView(m.buffer).setUint32(3 + hops.length, seq, true);
  return m;
}
const routeSeq = (m: Uint8Array) => new DataView(m.buffer, m.byteOffset, m.length).getUint32(3 + m[2]!, true);

function echo(seq: number, len: number): Uint8Array {
  const m = new Uint8Array(len);
  m[0] = ECHO;
  new DataView(m.buffer).setUint32(4, seq, true);
  return m;
}
const echoSeq = (m: Uint8Array) => new DataView(m.buffer, m.byteOffset, m.length).getUint32(4, true);

async function started(opts: { ringBytes?: number; workerData?: unknown; restart?: object; logs?: string[] } = {}): Promise<Supervisor> {
  const sup = new Supervisor({ restart: opts.restart ?? { backoffMs: 10 }, log: (l) => opts.logs?.push(l) });
  let meshBeforeWorkers = false;
  const info = await sup.start({
    shards: 2, workerUrl: ECHO_APP, workerData: opts.workerData, ringBytes: opts.ringBytes,
    onMesh: (mesh) => { meshBeforeWorkers = mesh.nodeId === 2 && sup.postToWorker(0, {}) === false; },
  });
  assert.ok(meshBeforeWorkers, 'onMesh ran with the main mesh before any worker existed');
  assert.deepEqual(info, [{ nodeId: 0, shards: 2 }, { nodeId: 1, shards: 2 }]);
  return sup;
}

test('supervisor: main → shard0 → shard1 → main round trip, 200k messages in order per pair', async () => {
  const sup = await started();
  const main = sup.mesh;
  assert.equal(main.nodeId, 2);
  assert.deepEqual(main.nodes, [0, 1, 2]);
  const got: number[] = [];
  let outOfOrder = 0;
  main.onMessage((from, m) => {
    assert.equal(from, 1);
    if (routeSeq(m) !== got.length) outOfOrder++;
    got.push(routeSeq(m));
  });
  main.send(0, route([1, 2], 0));
  await until(() => got.length === 1, 'the first round trip');
  const total = 200_000;
  for (let i = 1; i < total; i++) {
    main.send(0, route([1, 2], i, 4 + (i % 64)));
    if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
  }
  await until(() => got.length === total, `${total} round trips`, 60_000);
  assert.equal(outOfOrder, 0);
  await sup.stop({ timeoutMs: 5000 });
});

test('supervisor: a slow shard makes main queue (not lose) messages, flow resumes in order', async () => {
  const sup = await started({ ringBytes: 16 * 1024 });
  const main = sup.mesh;
  const got: number[] = [];
  main.onMessage((_, m) => got.push(echoSeq(m)));
  main.send(0, Uint8Array.of(SLOW, 300 & 0xff, 300 >> 8));
  const total = 3000;
  for (let i = 0; i < total; i++) main.send(0, echo(i, 1024));
  assert.ok(main.stats().find((p) => p.peer === 0)!.queuedMessages > total - 16, 'more than a ring-full is queued');
  await new Promise((r) => setTimeout(r, 50));
  const s = main.stats().find((p) => p.peer === 0)!;
  assert.ok(s.queuedMessages > 0 && s.blocked, `main should be queuing for the slow shard: ${JSON.stringify(s)}`);
  await until(() => got.length === total, 'all echoes');
  assert.deepEqual(got, Array.from({ length: total }, (_, i) => i));
  assert.equal(main.stats().find((p) => p.peer === 0)!.queuedMessages, 0);
  // The shard's own view, over the app control channel.
  const stats = new Promise<PeerStats[]>((resolve) => sup.onWorkerMessage((_, d) => { const st = (d as { stats?: PeerStats[] }).stats; if (st) resolve(st); }));
  assert.ok(sup.postToWorker(0, { stats: true }));
  const shard0 = await stats;
  assert.equal(shard0.find((p) => p.peer === 2)!.receivedMessages, total + 1);
  await sup.stop({ timeoutMs: 5000 });
});

test('supervisor: a crashed shard is restarted, peers see peerReset, messages flow again', async () => {
  const logs: string[] = [];
  const sup = await started({ logs });
  const main = sup.mesh;
  const resets: string[] = [];
  sup.on('peerReset', (id: number) => resets.push(`main:${id}`));
  sup.onWorkerMessage((from, d) => {
    const r = d as { peerReset?: number; at?: number };
    if (r.peerReset !== undefined) resets.push(`${r.at}:${r.peerReset}`);
  });
  const got: number[] = [];
  main.onMessage((_, m) => got.push(routeSeq(m)));
  const restarted = once(sup, 'restarted');
  main.send(0, Uint8Array.of(POISON));
  const [id, info] = await restarted;
  assert.equal(id, 0);
  assert.deepEqual(info, { nodeId: 0, shards: 2 });
  await until(() => resets.length === 2, 'peerReset on main and shard 1');
  assert.deepEqual(resets.sort(), ['1:0', 'main:0']);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /shard 0 crashed.*poison from node 2/);
  for (let i = 0; i < 1000; i++) {
    main.send(0, route([1, 2], i));
    main.send(1, route([0, 2], 1000 + i));
  }
  await until(() => got.length === 2000, 'traffic through the restarted shard');
  assert.deepEqual(got.filter((s) => s < 1000), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(got.filter((s) => s >= 1000), Array.from({ length: 1000 }, (_, i) => 1000 + i));
  await sup.stop({ timeoutMs: 5000 });
});

test('supervisor: more crashes than the restart policy allows → fatal', async () => {
  const logs: string[] = [];
  const sup = await started({ restart: { maxRestarts: 1, backoffMs: 10 }, logs });
  const fatal = once(sup, 'fatal');
  sup.once('restarted', () => sup.mesh.send(1, Uint8Array.of(POISON)));
  sup.mesh.send(1, Uint8Array.of(POISON));
  const [err] = (await fatal) as [WireError];
  assert.equal(err.code, 'EVM_UNAVAILABLE');
  assert.equal(err.props?.shard, 1);
  assert.match(logs.at(-1)!, /giving up/);
  await sup.stop({ timeoutMs: 1000 });
});

test('supervisor: graceful stop drains every shard; a shard that hangs in close is terminated', async () => {
  const sup = await started({ workerData: { hangOnClose: true } });
  const drained: number[] = [];
  sup.onWorkerMessage((_, d) => {
    const r = d as { drained?: number };
    if (r.drained !== undefined) drained.push(r.drained);
  });
  await sup.stop({ timeoutMs: 1000 });
  assert.deepEqual(drained.sort(), [0, 1]);
  assert.equal(sup.postToWorker(0, {}), false, 'workers are gone');
});

test('supervisor: a shard whose start fails makes start() reject with its wire error', async () => {
  const sup = new Supervisor({ log: () => {} });
  await assert.rejects(
    sup.start({ shards: 2, workerUrl: ECHO_APP, workerData: { failStart: true } }),
    (e: unknown) => e instanceof EvmeshError && e.code === 'EVM_UNAVAILABLE' && /EVM_BAD_CONFIG: cannot bind/.test(e.message),
  );
});

test('supervisor: a shard asks the main thread (onAsk): values, thrown errors and unknown names come back to it', async () => {
  const sup = await started();
  sup.onAsk('double', (arg, nodeId) => ({ twice: (arg as number) * 2, from: nodeId }));
  sup.onAsk('refuse', async () => { throw new EvmeshError('EVM_CONFLICT', 'no'); });
  assert.throws(() => sup.onAsk('double', () => 0), /answered twice/);
  const got: unknown[] = [];
  sup.onWorkerMessage((_, d) => { if ('asked' in (d as object) || 'askError' in (d as object)) got.push(d); });
  try {
    for (const ask of [['double', 21], ['refuse', null], ['nobody', null]]) {
      const n = got.length;
      assert.ok(sup.postToWorker(1, { ask }));
      await until(() => got.length > n, `the answer to ${String(ask[0])}`);
    }
    assert.deepEqual(got, [{ asked: { twice: 42, from: 1 } }, { askError: 'EVM_CONFLICT' }, { askError: 'EVM_UNSUPPORTED' }]);
  } finally {
    await sup.stop();
  }
});
