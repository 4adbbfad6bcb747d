import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EvmeshError } from '../../src/errors.js';
import { createMeshLayout, peerRings, renewNodeRings } from '../../src/shard/mesh-layout.js';
import { RingMesh } from '../../src/shard/ring-mesh.js';

const tick = () => new Promise((r) => setImmediate(r));

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function seqMsg(seq: number, len = 8): Uint8Array {
  const m = new Uint8Array(len);
  new DataView(m.buffer).setUint32(0, seq, true);
  return m;
}
const seqOf = (m: Uint8Array) => new DataView(m.buffer, m.byteOffset, m.length).getUint32(0, true);

for (const flush of ['microtask', 'immediate'] as const) {
  test(`ring mesh (${flush}): in-order delivery between nodes of one thread, loopback, nodes`, async () => {
    const layout = createMeshLayout(3, 4096);
    const meshes = [0, 1, 2].map((id) => RingMesh.fromLayout(layout, id, { flush }));
    assert.deepEqual(meshes[1]!.nodes, [0, 1, 2]);
    const got: [number, number, number][] = [];
    meshes.forEach((m, id) => m.onMessage((from, msg) => got.push([id, from, seqOf(msg)])));
    for (let i = 0; i < 1000; i++) {
      meshes[0]!.send(1, seqMsg(i));
      meshes[0]!.send(2, seqMsg(i));
      meshes[2]!.send(2, seqMsg(i));
    }
    await until(() => got.length === 3000, 'all messages');
    for (const [to, from] of [[1, 0], [2, 0], [2, 2]] as const) {
      assert.deepEqual(got.filter(([t, f]) => t === to && f === from).map(([, , s]) => s), Array.from({ length: 1000 }, (_, i) => i), `${from}→${to}`);
    }
    meshes.forEach((m) => m.close());
  });
}

test('ring mesh: messages above maxMessageBytes travel as fragments, byte-exact and in order with small ones', async () => {
  const layout = createMeshLayout(2, 1024);
  const a = RingMesh.fromLayout(layout, 0);
  const b = RingMesh.fromLayout(layout, 1);
  assert.equal(a.maxMessageBytes, 508);
  const got: Uint8Array[] = [];
  b.onMessage((_, m) => got.push(m));
  // Sizes around the record limit, several times the whole ring, interleaved with small messages.
  const sizes = [509, 508, 1016, 1017, 5000, 3, 20_000, 1];
  const sent = sizes.map((n, i) => Uint8Array.from({ length: n }, (_, k) => (k * 31 + i) & 0xff));
  for (const m of sent) { a.send(1, m); a.send(1, seqMsg(m.length)); }
  await until(() => got.length === sent.length * 2, 'every message');
  for (let i = 0; i < sent.length; i++) {
    assert.deepEqual(got[2 * i], sent[i], `message ${i} (${sizes[i]} bytes)`);
    assert.equal(seqOf(got[2 * i + 1]!), sizes[i]);
  }
  a.close();
  b.close();
});

test('ring mesh: unknown node rejected, closed mesh refuses sends', () => {
  const layout = createMeshLayout(2, 1024);
  const m = RingMesh.fromLayout(layout, 0);
  assert.throws(() => m.send(5, new Uint8Array(1)), EvmeshError);
  m.close();
  assert.throws(() => m.send(1, new Uint8Array(1)), (e: unknown) => e instanceof EvmeshError && e.code === 'EVM_SHUTTING_DOWN');
});

test('ring mesh: a consumer that does not drain causes queuing, not loss; flow resumes', async () => {
  const layout = createMeshLayout(2, 1024);
  const a = RingMesh.fromLayout(layout, 0);
  const b = RingMesh.fromLayout(layout, 1);
  for (let i = 0; i < 500; i++) a.send(1, seqMsg(i, 100));
  await tick();
  const s = a.stats()[0]!;
  assert.equal(s.peer, 1);
  assert.ok(s.queuedMessages > 400, `queued ${s.queuedMessages}`);
  assert.equal(s.queuedBytes, s.queuedMessages * 100);
  assert.ok(s.blocked);
  assert.ok(s.outRingUsedBytes > 900 && s.outRingUsedBytes <= 1024);
  const got: number[] = [];
  b.onMessage((_, m) => got.push(seqOf(m)));
  await until(() => got.length === 500, 'the backlog to flow');
  assert.deepEqual(got, Array.from({ length: 500 }, (_, i) => i));
  assert.equal(a.stats()[0]!.queuedMessages, 0);
  assert.equal(a.stats()[0]!.blocked, false);
  assert.equal(b.stats()[0]!.receivedMessages, 500);
  a.close();
  b.close();
});

test('ring mesh: replacePeer drops what was queued to the dead peer and uses the new rings', async () => {
  const layout = createMeshLayout(2, 1024);
  const a = RingMesh.fromLayout(layout, 0);
  const dead = RingMesh.fromLayout(layout, 1);
  for (let i = 0; i < 50; i++) a.send(1, seqMsg(i, 100));
  await tick();
  dead.close();
  renewNodeRings(layout, 1);
  assert.equal(a.replacePeer(1, peerRings(layout, 0, 1)), 50);
  const b = RingMesh.fromLayout(layout, 1);
  const got: number[] = [];
  b.onMessage((_, m) => got.push(seqOf(m)));
  const back: number[] = [];
  a.onMessage((_, m) => back.push(seqOf(m)));
  for (let i = 0; i < 20; i++) a.send(1, seqMsg(i));
  b.send(0, seqMsg(7));
  await until(() => got.length === 20 && back.length === 1, 'traffic on the new rings');
  assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i));
  assert.equal(a.stats()[0]!.queuedMessages, 0);
  a.close();
  b.close();
});
