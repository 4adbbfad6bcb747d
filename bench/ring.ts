// Ring micro-benchmarks (DESIGN §6): in-thread write+drain of 1 KiB messages with tinybench, and
// main → worker throughput and ping-pong latency over a RingMesh for both flush modes.
// Run: node --import tsx bench/ring.ts   (or node dist/bench/ring.js after a build)
// Numbers are only comparable within one run on these noisy machines.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { createMeshLayout, type MeshLayout } from '../src/shard/mesh-layout.js';
import { Ring } from '../src/shard/ring.js';
import { type FlushMode, RingMesh } from '../src/shard/ring-mesh.js';
import { spawnWorker } from '../src/shard/spawn.js';

const MSG = 1024;
const BATCH = 64;

export interface RingBenchResult {
  /** In-thread: stage 64 × 1 KiB, publish, drain (views / private copies). */
  inThread: { name: string; msgsPerSec: number; mbPerSec: number }[];
  /** Main → worker over a RingMesh. */
  crossThread: { flush: FlushMode; messages: number; msgsPerSec: number; mbPerSec: number; pingPongRttUs: number }[];
}

async function inThread(timeMs: number): Promise<RingBenchResult['inThread']> {
  const ring = Ring.create();
  const msg = new Uint8Array(MSG).fill(7);
  let sink = 0;
  const bench = new Bench({ time: timeMs });
  bench.add(`write ${BATCH}×1KiB + drain (views)`, () => {
    for (let i = 0; i < BATCH; i++) ring.stage(msg);
    ring.publish();
    ring.drain((m) => { sink += m.length; });
  });
  bench.add(`write ${BATCH}×1KiB + drainCopy`, () => {
    for (let i = 0; i < BATCH; i++) ring.stage(msg);
    ring.publish();
    ring.drainCopy((m) => { sink += m.length; });
  });
  await bench.run();
  if (sink === 0) throw new Error('nothing drained');
  return bench.tasks.map((t) => {
    const r = t.result;
    if (r.state !== 'completed') throw new Error(`bench task ${t.name}: ${r.state}`);
    const msgsPerSec = r.throughput.mean * BATCH;
    return { name: t.name, msgsPerSec, mbPerSec: (msgsPerSec * MSG) / 1e6 };
  });
}

// Worker protocol (mesh messages): a 1-byte message is a ping (answered at once); others count
// towards `messages`, and when all arrived the worker answers with one 2-byte message.
function benchWorker(): void {
  const { layout, flush, messages } = workerData as { layout: MeshLayout; flush: FlushMode; messages: number };
  const mesh = RingMesh.fromLayout(layout, 1, { flush });
  let n = 0;
  mesh.onMessage((from, m) => {
    if (m.length === 1) return mesh.send(from, m);
    if (++n === messages) mesh.send(from, new Uint8Array(2));
  });
  parentPort!.on('message', () => process.exit(0));
}

async function crossThread(flush: FlushMode, messages: number): Promise<RingBenchResult['crossThread'][number]> {
  const layout = createMeshLayout(2, 1 << 20);
  const mesh = RingMesh.fromLayout(layout, 0, { flush });
  const worker = spawnWorker(new URL(import.meta.url), { workerData: { layout, flush, messages } });
  let onReply: () => void = () => {};
  mesh.onMessage(() => onReply());
  const reply = () => new Promise<void>((resolve) => { onReply = resolve; });

  // Ping-pong latency (also warms the worker up).
  const pings = 2000;
  const ping = new Uint8Array(1);
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < pings; i++) {
    const r = reply();
    mesh.send(1, ping);
    await r;
  }
  const pingPongRttUs = Number(process.hrtime.bigint() - t0) / 1e3 / pings;

  // Throughput: batches of 256 per event-loop turn, as a shard forwarding a socket read would.
  const msg = new Uint8Array(MSG).fill(1);
  const done = reply();
  t0 = process.hrtime.bigint();
  for (let sent = 0; sent < messages;) {
    for (let i = 0; i < 256 && sent < messages; i++, sent++) mesh.send(1, msg);
    // Yield while the backlog is large so memory stays bounded, as a real producer would.
    if (mesh.stats()[0]!.queuedMessages > 4096) await new Promise((r) => setTimeout(r, 0));
    else await new Promise((r) => setImmediate(r));
  }
  await done;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  worker.postMessage('exit');
  await new Promise((r) => worker.once('exit', r));
  mesh.close();
  return { flush, messages, msgsPerSec: messages / secs, mbPerSec: (messages * MSG) / secs / 1e6, pingPongRttUs };
}

export async function runRingBench(opts: { timeMs?: number; messages?: number } = {}): Promise<RingBenchResult> {
  const result: RingBenchResult = { inThread: await inThread(opts.timeMs ?? 1000), crossThread: [] };
  for (const flush of ['microtask', 'immediate'] as const) result.crossThread.push(await crossThread(flush, opts.messages ?? 1_000_000));
  return result;
}

if (!isMainThread && (workerData as { layout?: unknown } | null)?.layout !== undefined) {
  benchWorker();
} else if (isMainThread && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await runRingBench();
  const f = (n: number) => Math.round(n).toLocaleString('en-US');
  for (const t of r.inThread) console.log(`in-thread  ${t.name.padEnd(34)} ${f(t.msgsPerSec).padStart(12)} msg/s ${f(t.mbPerSec).padStart(7)} MB/s`);
  for (const t of r.crossThread) {
    console.log(`main→worker flush=${t.flush.padEnd(9)} ${f(t.messages)} × 1KiB ${f(t.msgsPerSec).padStart(12)} msg/s ${f(t.mbPerSec).padStart(7)} MB/s  ping-pong RTT ${t.pingPongRttUs.toFixed(1)} µs`);
  }
}
