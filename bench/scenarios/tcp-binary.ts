// evmesh binary protocol over TCP (issue 4): a 2-shard broker with the embedded log (fsync
// interval), 16 EvmeshClient connections publishing 1 KiB events in batches → events/s; in the
// SAME run the raw TCP ceiling: a plain `net` sink (in a worker thread, like a shard) reading
// the very bytes of those PUBLISH frames from 16 connections — what a perfect broker that only
// reads would do; and end-to-end publish → push latency at a fixed 50k events/s with a
// subscriber, next to its ceiling: the same paced load relayed frame by frame to a raw
// subscriber by a worker thread (tcp-relay-worker.ts). Clients run on this process's main thread.
import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { MeshEvent } from '../../src/core/types.js';
import { FrameDecoder } from '../../src/protocol/binary/frame-decoder.js';
import { FrameWriter } from '../../src/protocol/binary/frame-writer.js';
import { F, type Attributes } from '../../src/protocol/binary/frames.js';
import { HeaderCodec } from '../../src/protocol/binary/header-codec.js';
import { parseFrame } from '../../src/protocol/binary/parse.js';
import { EvmeshClient } from '../../src/sdk/index.js';
import { spawnWorker } from '../../src/shard/spawn.js';
import { newHistogram, nowMs, summarize } from '../lib/histogram.js';
import { withBenchBroker } from '../lib/broker.js';
import { plainContext, type BenchContext } from '../lib/context.js';
import { publishUsageRows, storageAgreementRows, withScrape, withUsage } from '../lib/measure.js';
import type { Row, ScenarioResult } from '../lib/report.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const BATCH = Number(process.env.BENCH_BATCH ?? 64);
/** Batches in flight per connection. */
const WINDOW = Number(process.env.BENCH_WINDOW ?? 4);
const EVENT_BYTES = 1024;
const LATENCY_RATE = 50_000;
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

const data = new Uint8Array(EVENT_BYTES).fill(0x61);
let seq = 0;
function batch(n: number, ts?: string): MeshEvent[] {
  const out: MeshEvent[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const attributes: Record<string, string> = { specversion: '1.0', id: `e${seq++}`, source: '/bench', type: 'bench.event' };
    if (ts !== undefined) attributes.benchts = ts;
    out[i] = { attributes, data };
  }
  return out;
}

function withBroker<T>(fn: (port: number, metricsUrl: string) => Promise<T>): Promise<T> {
  return withBenchBroker({ 'log.fsync': 'interval', 'log.fsyncIntervalMs': 5, 'topics.defaultPartitions': 8 }, (b, metricsUrl) => fn(b.ports.tcp!, metricsUrl));
}

export interface ThroughputRun { eventsPerSec: number; events: number; errors: number; firstError?: string }

/** 16 connections, each keeping WINDOW batches of BATCH events in flight, for durationMs. */
export async function runPublish(port: number, durationMs: number): Promise<ThroughputRun> {
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => EvmeshClient.connect({ port, maxInflightEvents: BATCH * WINDOW * 2 })));
  await clients[0]!.publish('tcpbin', batch(1)[0]!); // creates the topic
  const res: ThroughputRun = { eventsPerSec: 0, events: 0, errors: 0 };
  const t0 = nowMs();
  const end = t0 + durationMs;
  const loop = async (c: EvmeshClient): Promise<void> => {
    while (nowMs() < end) {
      try {
        const acked = await c.publishBatch('tcpbin', batch(BATCH)); // (not `+= await`: loops interleave)
        res.events += acked.length;
      } catch (err) {
        res.errors++;
        res.firstError ??= String(err);
      }
    }
  };
  await Promise.all(clients.flatMap((c) => Array.from({ length: WINDOW }, () => loop(c))));
  res.eventsPerSec = res.events / ((nowMs() - t0) / 1000);
  await Promise.all(clients.map((c) => c.close()));
  return res;
}

const SINK = `
const { createServer } = require('node:net');
const { parentPort } = require('node:worker_threads');
let bytes = 0;
const server = createServer((s) => { s.on('data', (b) => { bytes += b.length; }); s.on('error', () => {}); });
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => { if (m === 'count') parentPort.postMessage({ bytes }); if (m === 'stop') server.close(() => process.exit(0)); });
`;

/** The ceiling: the same PUBLISH frames written as fast as a socket takes them to a sink that
 *  only reads. */
export async function runRawCeiling(durationMs: number): Promise<{ eventsPerSec: number; bytesPerSec: number }> {
  const worker = new Worker(SINK, { eval: true });
  const next = () => new Promise<{ port?: number; bytes?: number }>((r) => worker.once('message', r));
  const { port } = await next();
  const w = new FrameWriter(new HeaderCodec());
  const events = batch(BATCH);
  for (let i = 0; i < 16; i++) w.frame(F.PUBLISH, { id: i + 1, topic: 'tcpbin', events: events.map((e) => e.attributes) }, events.map((e) => e.data));
  const chunk = w.take()!; // 16 frames ≈ 1 MiB per write
  const eventsPerChunk = 16 * BATCH;
  const sockets: Socket[] = await Promise.all(Array.from({ length: CONNECTIONS }, () => new Promise<Socket>((resolve) => {
    const s = connect({ host: '127.0.0.1', port: port! }, () => resolve(s));
  })));
  const t0 = nowMs();
  const end = t0 + durationMs;
  await Promise.all(sockets.map(async (s) => {
    while (nowMs() < end) {
      if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
    }
  }));
  worker.postMessage('count');
  const { bytes } = await next();
  const secs = (nowMs() - t0) / 1000;
  for (const s of sockets) s.destroy();
  worker.postMessage('stop');
  await new Promise((r) => worker.once('exit', r));
  return { eventsPerSec: (bytes! / chunk.length) * eventsPerChunk / secs, bytesPerSec: bytes! / secs };
}

/** Latencies (push received − the events' `benchts`), recorded after a warm-up. */
function latencyRecorder(durationMs: number) {
  const hist = newHistogram();
  const warmupEnd = nowMs() + Math.min(1000, durationMs / 4);
  const r = {
    hist,
    delivered: 0,
    record(ts: number): void {
      const now = nowMs();
      r.delivered++;
      if (now > warmupEnd) hist.recordValue(Math.max(1, Math.round((now - ts) * 1000)));
    },
    /** Waits (at most 10 s) until `n` events were received. */
    async receivedAll(n: number): Promise<void> {
      const deadline = nowMs() + 10_000;
      while (r.delivered < n && nowMs() < deadline) await new Promise((res) => setTimeout(res, 20));
    },
  };
  return r;
}

/** The latency load, the same for evmesh and its ceiling: every 2 ms the events due at `rate`
 *  go out as one batch with one timestamp (`benchts`), on the next of the publishers in turn. */
async function paced(durationMs: number, rate: number, send: (k: number, events: MeshEvent[]) => void): Promise<{ published: number; t0: number }> {
  let published = 0;
  const t0 = nowMs();
  const end = t0 + durationMs;
  let k = 0;
  while (nowMs() < end) {
    const due = Math.floor(((nowMs() - t0) / 1000) * rate) - published;
    if (due > 0) {
      published += due;
      send(k++, batch(due, nowMs().toFixed(3)));
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return { published, t0 };
}

/** Publishes at `rate` events/s (4 connections, paced every 2 ms) to a topic one SDK
 *  subscriber consumes; latency = push received − publish called. */
export async function runLatency(port: number, durationMs: number, rate = LATENCY_RATE) {
  const sub = await EvmeshClient.connect({ port });
  const pubs = await Promise.all(Array.from({ length: 4 }, () => EvmeshClient.connect({ port })));
  const rec = latencyRecorder(durationMs);
  const s = await sub.subscribe({ topic: 'tcpbin-lat', group: 'lat', from: 'latest', window: 8192 }, (d) => {
    rec.record(Number(d.event.attributes.benchts));
    d.ack();
  });
  await pubs[0]!.publish('tcpbin-lat', batch(1, nowMs().toFixed(3))[0]!);
  let errors = 0;
  const { published, t0 } = await paced(durationMs, rate, (k, events) => {
    pubs[k % pubs.length]!.publishBatch('tcpbin-lat', events).catch(() => { errors++; });
  });
  await rec.receivedAll(published + 1);
  const secs = (nowMs() - t0) / 1000;
  await s.close();
  await Promise.all([sub, ...pubs].map((c) => c.close()));
  return { published: published + 1, delivered: rec.delivered, errors, deliveredPerSec: rec.delivered / secs, latency: summarize(rec.hist) };
}

const connectRaw = (port: number) => new Promise<Socket>((resolve, reject) => {
  const s = connect({ host: '127.0.0.1', port }, () => { s.setNoDelay(true); resolve(s); });
  s.once('error', reject);
});

/** The latency ceiling: the same load and the same PUBLISH frames, relayed whole by a worker
 *  thread (tcp-relay-worker.ts) to one raw subscriber socket that decodes them as the SDK
 *  decodes DELIVER frames (frame decoder + msgpack headers) and reads each event's `benchts`. */
export async function runLatencyCeiling(durationMs: number, rate = LATENCY_RATE) {
  const relay = spawnWorker(new URL(`./tcp-relay-worker${EXT}`, import.meta.url));
  const ports = await new Promise<{ publish: number; subscribe: number }>((resolve, reject) => {
    relay.once('message', resolve);
    relay.once('error', reject);
  });
  const sub = await connectRaw(ports.subscribe);
  const rec = latencyRecorder(durationMs);
  const decoder = new FrameDecoder({ maxFrameBytes: 64 << 20, preamble: false });
  const codec = new HeaderCodec();
  sub.on('data', (chunk: Buffer) => {
    for (const raw of decoder.push(chunk)) {
      const f = parseFrame(raw, codec);
      for (const attributes of (f.header as { events: Attributes[] }).events) rec.record(Number(attributes.benchts));
    }
  });
  const pubs = await Promise.all(Array.from({ length: 4 }, () => connectRaw(ports.publish)));
  const writers = pubs.map((s) => new FrameWriter(new HeaderCodec(), () => s.writableLength === 0)); // as the SDK's
  let id = 0;
  const { published, t0 } = await paced(durationMs, rate, (k, events) => {
    const w = writers[k % pubs.length]!;
    w.frame(F.PUBLISH, { id: ++id, topic: 'tcpbin-lat', events: events.map((e) => e.attributes) }, events.map((e) => e.data));
    pubs[k % pubs.length]!.write(w.take()!);
  });
  await rec.receivedAll(published);
  const secs = (nowMs() - t0) / 1000;
  for (const s of [sub, ...pubs]) s.destroy();
  relay.postMessage('stop');
  await new Promise((r) => relay.once('exit', r));
  return { published, delivered: rec.delivered, deliveredPerSec: rec.delivered / secs, latency: summarize(rec.hist) };
}

export async function tcpBinaryScenario(durationMs: number, ctx: BenchContext = plainContext(durationMs)): Promise<ScenarioResult> {
  ctx.progress('raw TCP ceiling');
  const ceiling = await runRawCeiling(durationMs);
  ctx.progress('publish phase');
  const measured = await withBroker((port, metricsUrl) => withUsage(() => withScrape(metricsUrl, () => runPublish(port, durationMs))));
  const publish = measured.value.value;
  const metrics = measured.value.metrics;
  ctx.progress(`latency ceiling at ${LATENCY_RATE / 1000}k/s`);
  const latencyCeiling = await runLatencyCeiling(durationMs);
  ctx.progress(`latency phase at ${LATENCY_RATE / 1000}k/s`);
  const latency = await withBroker((port) => runLatency(port, durationMs));
  const floor = latencyCeiling.latency;
  const extra: Row[] = [
    { metric: 'publish throughput (1 KiB events)', value: (publish.eventsPerSec * EVENT_BYTES) / 1e6, unit: 'MB/s', ceiling: ceiling.bytesPerSec / 1e6 },
    { metric: 'p90 publish→push', value: latency.latency.p90Ms, unit: 'ms' },
    { metric: 'max publish→push', value: latency.latency.maxMs, unit: 'ms' },
    ...publishUsageRows(measured.usage),
    ...storageAgreementRows(publish.events, metrics),
  ];
  return {
    scenario: 'tcp-binary',
    description: `evmesh binary protocol: ${CONNECTIONS} SDK connections publishing 1 KiB events in batches of ${BATCH} (${WINDOW} in flight each) to a 2-shard broker (embedded log, fsync interval 5 ms); ceiling = the same frames written to a raw net sink in the same run; latency = publish → push to an SDK subscriber at ${LATENCY_RATE} events/s, its ceiling the same load relayed by a raw worker thread`,
    rows: [
      { metric: 'publish rate (acked)', value: publish.eventsPerSec, unit: 'events/s', ceiling: ceiling.eventsPerSec, target: { op: '>=', value: 400_000 } },
      { metric: 'publish rate / raw TCP ceiling', value: publish.eventsPerSec, unit: 'events/s', ceiling: ceiling.eventsPerSec, target: { op: 'ratio>=', value: 0.5 } },
      { metric: `push rate at ${LATENCY_RATE / 1000}k/s offered`, value: latency.deliveredPerSec, unit: 'events/s' },
      { metric: 'p50 publish→push', value: latency.latency.p50Ms, unit: 'ms', ceiling: floor.p50Ms },
      { metric: 'p99 publish→push', value: latency.latency.p99Ms, unit: 'ms', ceiling: floor.p99Ms, target: { op: '<=', value: 2 } },
      { metric: 'p99.9 publish→push', value: latency.latency.p999Ms, unit: 'ms', ceiling: floor.p999Ms },
      ...extra,
    ],
    latencies: [
      { label: `publish→push at ${LATENCY_RATE / 1000}k/s`, summary: latency.latency },
      { label: `ceiling: raw relay at ${LATENCY_RATE / 1000}k/s`, summary: floor },
    ],
    details: { ceiling, publish, latency, latencyCeiling, usage: measured.usage, metrics },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await tcpBinaryScenario(Number(process.argv[2] ?? 5000));
  console.log(JSON.stringify(r, null, 2));
}
