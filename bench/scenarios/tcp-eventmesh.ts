// EventMesh TCP protocol (issue 4: ≥ 100k events/s; upstream ships a 15k/s limit): 16
// EventMeshTcpClient connections, each with a window of pipelined ASYNC_MESSAGE_TO_SERVER
// publishes of 1 KiB CloudEvents (publishBatch calls), to a 2-shard broker (embedded log, fsync interval); then
// publish → push latency at a fixed rate with one subscriber. With `--target tcp://host:port`
// the same load runs against an external EventMesh (e.g. Apache EventMesh's TCP port 10000).
// The broker's /metrics is scraped around the publish phase: its EventMesh counters must agree
// with the bench's own count (test/bench/agreement.test.ts).
import type { MeshEvent } from '../../src/core/types.js';
import { EventMeshTcpClient } from '../../src/sdk/index.js';
import { withBenchBroker } from '../lib/broker.js';
import type { BenchContext } from '../lib/context.js';
import { newHistogram, nowMs, summarize } from '../lib/histogram.js';
import { publishUsageRows, storageAgreementRows, withScrape, withUsage } from '../lib/measure.js';
import type { Row, ScenarioResult } from '../lib/report.js';
import { runRawCeiling } from './tcp-binary.js';

const CONNECTIONS = 16;
const WINDOW = 64;
/** Each connection keeps WINDOW publishes in flight as WINDOW / BATCH publishBatch calls. */
const BATCH = 32;
const EVENT_BYTES = 1024;
const LATENCY_RATE = 10_000;
const data = new Uint8Array(EVENT_BYTES).fill(0x61);
let seq = 0;

const event = (topic: string, extra: Record<string, string> = {}): MeshEvent => ({
  attributes: { specversion: '1.0', id: `e${seq++}`, source: '/bench', type: 'bench.event', subject: topic, datacontenttype: 'application/octet-stream', ...extra },
  data,
});
const userAgent = (group: string, purpose: 'pub' | 'sub', i: number) => ({ group, purpose, subsystem: '5023', pid: process.pid + i, host: '127.0.0.1', idc: 'bench' });

export interface Endpoint { readonly host: string; readonly port: number }

export async function runEventMeshPublish(at: Endpoint, durationMs: number): Promise<{ eventsPerSec: number; events: number; errors: number; firstError?: string }> {
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) =>
    EventMeshTcpClient.connect({ ...at, maxInflight: WINDOW, userAgent: userAgent('bench-pub', 'pub', i) })));
  let events = 0, errors = 0;
  let firstError: string | undefined;
  const end = Date.now() + durationMs;
  const t0 = performance.now();
  const worker = async (c: EventMeshTcpClient) => {
    while (Date.now() < end) {
      const batch = Array.from({ length: BATCH }, () => event('bench-em'));
      try { await c.publishBatch('bench-em', batch); events += BATCH; } catch (err) { errors += BATCH; firstError ??= String(err); } // errors: events of failed calls
    }
  };
  await Promise.all(clients.flatMap((c) => Array.from({ length: WINDOW / BATCH }, () => worker(c))));
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  return { eventsPerSec: events / seconds, events, errors, ...(firstError ? { firstError } : {}) };
}

/** Publishes at `rate` events/s (paced every 2 ms, 4 connections) to a topic one subscriber
 *  consumes; latency = push received − publish called (the event carries its send time). */
export async function runEventMeshLatency(at: Endpoint, durationMs: number, rate = LATENCY_RATE) {
  const topic = `bench-em-lat-${process.pid}-${seq}`;
  const sub = await EventMeshTcpClient.connect({ ...at, userAgent: userAgent('bench-lat', 'sub', 100) });
  const pubs = await Promise.all(Array.from({ length: 4 }, (_, i) => EventMeshTcpClient.connect({ ...at, maxInflight: 1000, userAgent: userAgent('bench-lat-pub', 'pub', 200 + i) })));
  const hist = newHistogram();
  const warmupEnd = nowMs() + Math.min(1000, durationMs / 4);
  let delivered = 0, published = 0, errors = 0;
  await sub.subscribe(topic, {}, (ev, ack) => {
    ack();
    delivered++;
    const now = nowMs();
    if (now > warmupEnd) hist.recordValue(Math.max(1, Math.round((now - Number(ev.attributes.benchts)) * 1000)));
  });
  const t0 = nowMs();
  const end = t0 + durationMs;
  let k = 0;
  while (nowMs() < end) {
    const due = Math.floor(((nowMs() - t0) / 1000) * rate) - published;
    for (let i = 0; i < due; i++) {
      published++;
      pubs[k++ % pubs.length]!.publish(topic, event(topic, { benchts: nowMs().toFixed(3) })).catch(() => { errors++; });
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const deadline = nowMs() + 10_000;
  while (delivered < published - errors && nowMs() < deadline) await new Promise((r) => setTimeout(r, 20));
  const secs = (nowMs() - t0) / 1000;
  await Promise.all([sub, ...pubs].map((c) => c.close()));
  return { published, delivered, errors, deliveredPerSec: delivered / secs, latency: summarize(hist) };
}

async function measure(at: Endpoint, metricsUrl: string | undefined, ctx: BenchContext) {
  ctx.progress('publish phase');
  const publish = await withUsage(() => withScrape(metricsUrl, () => runEventMeshPublish(at, ctx.durationMs)));
  ctx.progress(`latency phase at ${LATENCY_RATE / 1000}k/s`);
  const latency = await runEventMeshLatency(at, ctx.durationMs);
  return { publish, latency };
}

export async function tcpEventMeshScenario(durationMs: number, ctx: BenchContext): Promise<ScenarioResult> {
  ctx.progress('raw TCP ceiling');
  const ceiling = await runRawCeiling(Math.min(durationMs, 3000));
  const target = ctx.target;
  const { publish, latency } = target !== undefined
    ? await measure({ host: target.hostname, port: Number(target.port || 10000) }, ctx.targetMetrics, ctx)
    : await withBenchBroker({ 'log.fsync': 'interval', 'topics.defaultPartitions': 8 }, (broker, metricsUrl) =>
      measure({ host: '127.0.0.1', port: broker.ports.tcp! }, metricsUrl, ctx));
  const run = publish.value.value;
  const metrics = publish.value.metrics;
  const rows: Row[] = [
    { metric: 'publish rate (acked)', value: run.eventsPerSec, unit: 'events/s', ceiling: ceiling.eventsPerSec, ...(target ? {} : { target: { op: '>=', value: 100_000 } as const }) },
    { metric: 'publish throughput (1 KiB events)', value: (run.eventsPerSec * EVENT_BYTES) / 1e6, unit: 'MB/s', ceiling: ceiling.bytesPerSec / 1e6 },
    { metric: `push rate at ${LATENCY_RATE / 1000}k/s offered`, value: latency.deliveredPerSec, unit: 'events/s' },
    { metric: 'p50 publish→push', value: latency.latency.p50Ms, unit: 'ms' },
    { metric: 'p90 publish→push', value: latency.latency.p90Ms, unit: 'ms' },
    { metric: 'p99 publish→push', value: latency.latency.p99Ms, unit: 'ms' },
    { metric: 'p99.9 publish→push', value: latency.latency.p999Ms, unit: 'ms' },
    { metric: 'max publish→push', value: latency.latency.maxMs, unit: 'ms' },
    ...publishUsageRows(publish.usage),
    ...storageAgreementRows(run.events, metrics, { tps: true }),
  ];
  return {
    scenario: 'tcp-eventmesh',
    description: `EventMesh TCP protocol ${target ? `against ${target.href}` : 'against a fresh 2-shard evmesh (embedded log, fsync interval 5 ms)'}: ${CONNECTIONS} SDK connections × ${WINDOW} pipelined ASYNC_MESSAGE_TO_SERVER publishes of 1 KiB CloudEvents (publishBatch of ${BATCH}); latency = publish → push to one subscriber at ${LATENCY_RATE} events/s; ceiling = raw TCP sink of binary frames in the same run`,
    rows,
    latencies: [{ label: `publish→push at ${LATENCY_RATE / 1000}k/s`, summary: latency.latency }],
    details: { run, latency, ceiling, usage: publish.usage, metrics, metricsError: publish.value.metricsError },
  };
}
