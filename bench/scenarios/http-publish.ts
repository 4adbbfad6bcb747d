// HTTP publish (issue 5 benchmarks): 1 KiB CloudEvents, 100 connections, 2 shards, embedded log
// (fsync interval). wrk drives binary mode (ce-* headers), structured mode and the EventMesh
// HTTP request code 104 (MSG_SEND_ASYNC, form body) against evmesh, and binary mode against a
// bare uWS app (2 worker threads, same port) that reads the body and answers the same JSON: the
// ceiling, measured in the same run. Latency at half the peak rate comes from autocannon (wrk
// cannot pace its requests), for evmesh and for bare uWS under the same paced load. With
// `--target http://host:port` only the EventMesh code-104 load runs, against an external
// EventMesh HTTP port (Apache EventMesh: 10105). The broker's
// /metrics is scraped around the binary and 104 phases: its M6 send counter must agree with
// the bench's count of 2xx answers (test/bench/agreement.test.ts).
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { claimPort } from '../../src/shard/reuseport.js';
import { spawnWorker } from '../../src/shard/spawn.js';
import { withBenchBroker } from '../lib/broker.js';
import type { BenchContext } from '../lib/context.js';
import { disagreement, withScrape, type MetricsDelta } from '../lib/measure.js';
import { wrkPost, type WrkResult } from '../lib/wrk.js';
import type { Row, ScenarioResult } from '../lib/report.js';

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
export const CONNECTIONS = 100;
const data = 'a'.repeat(1024);
const BINARY_HEADERS = {
  'Content-Type': 'application/octet-stream', 'ce-specversion': '1.0', 'ce-id': 'bench-1', 'ce-source': '/bench', 'ce-type': 'bench.event',
};
const STRUCTURED_HEADERS = { 'Content-Type': 'application/cloudevents+json' };
const STRUCTURED_BODY = JSON.stringify({ specversion: '1.0', id: 'bench-1', source: '/bench', type: 'bench.event', datacontenttype: 'text/plain', data });
/** EventMesh HTTP code 104 (spec H9): identity headers (H5) and the form body of a message. */
export const CODE104_HEADERS = {
  'Content-Type': 'application/x-www-form-urlencoded', code: '104', env: 'bench', idc: 'bench', sys: '0000', pid: '4242',
  language: 'JAVA', version: '1.0', protocoltype: 'eventmeshmessage', protocolversion: '1.0', protocoldesc: 'http',
};
export const CODE104_BODY = new URLSearchParams({ topic: 'bench-em-http', content: data, bizseqno: 'bench-1', uniqueid: 'bench-1', producergroup: 'bench', ttl: '3000' }).toString();

export interface BareUws { port: number; count(): Promise<{ count: number; at: number }[]>; stop(): Promise<void> }

/** Two bare uWS workers on one port (the HTTP ceiling, and the webhook sink). */
export async function startBareUws(): Promise<BareUws> {
  const port = await claimPort('127.0.0.1', 0);
  const url = new URL(`./http-ceiling-worker${EXT}`, import.meta.url);
  const workers = Array.from({ length: 2 }, () => spawnWorker(url, { workerData: { port } }));
  await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
    w.once('message', (m: { t: string }) => (m.t === 'ready' ? resolve() : reject(new Error('bare uWS did not listen'))));
    w.once('error', reject);
  })));
  const ask = (w: Worker) => new Promise<{ count: number; at: number }>((resolve) => {
    const on = (m: { t: string; count: number; at: number }): void => { if (m.t === 'count') { w.off('message', on); resolve(m); } };
    w.on('message', on);
    w.postMessage({ t: 'count' });
  });
  return {
    port,
    count: () => Promise.all(workers.map(ask)),
    stop: () => Promise.all(workers.map((w) => new Promise<void>((r) => { w.once('exit', () => r()); w.postMessage({ t: 'stop' }); }))).then(() => {}),
  };
}

async function autocannonRate(url: string, headers: Record<string, string>, body: string, rate: number, durationMs: number): Promise<{ p50: number; p99: number; rps: number; non2xx: number }> {
  const autocannon = createRequire(import.meta.url)('autocannon') as (o: Record<string, unknown>) => Promise<{ latency: { p50: number; p99: number }; requests: { average: number }; non2xx: number }>;
  const r = await autocannon({ url, method: 'POST', headers, body, connections: CONNECTIONS, overallRate: Math.max(1, Math.round(rate)), duration: Math.max(1, Math.round(durationMs / 1000)) });
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, non2xx: r.non2xx };
}

/** One wrk phase between two scrapes of `metricsUrl`; `acked` = 2xx answers (wrk counts the
 *  non-2xx ones apart). Requests in flight when wrk stops (≤ `connections`) are published but
 *  not counted by wrk: the disagreement is at most connections / acked. */
export async function scrapedPhase(url: string, headers: Record<string, string>, body: string, durationMs: number, metricsUrl: string | undefined, connections = CONNECTIONS) {
  const { value, metrics, metricsError } = await withScrape(metricsUrl, () => wrkPost(url, headers, body, { connections, threads: 2, durationMs }));
  return { wrk: value, acked: value.requests - value.non2xx, ...(metrics ? { metrics } : {}), ...(metricsError ? { metricsError } : {}) };
}

/** The answer of one code-104 request: upstream answers failures with HTTP 200 and a retCode
 *  (H6), which wrk cannot see, so a probe must get retCode 0 before the load counts anything. */
export async function probe104(base: string): Promise<void> {
  const res = await fetch(`${base}/`, { method: 'POST', headers: CODE104_HEADERS, body: CODE104_BODY });
  const text = await res.text();
  let retCode: unknown;
  try { retCode = (JSON.parse(text) as { retCode?: unknown }).retCode; } catch { retCode = undefined; }
  if (res.status !== 200 || retCode !== 0) throw new Error(`code 104 probe to ${base} answered ${res.status} ${text.slice(0, 200)}`);
}

/** Rows comparing the bench's acknowledged publishes with the Δ of the M6 send counter. */
function agreementRows(label: string, acked: number, m: MetricsDelta | undefined): Row[] {
  if (m === undefined) return [];
  return [
    { metric: `${label}: /metrics eventmesh_http_send_message_num Δ`, value: m.httpSend, unit: 'requests' },
    { metric: `${label}: /metrics send fails Δ`, value: m.httpSendFailed, unit: 'requests' },
    { metric: `${label}: bench vs /metrics disagreement`, value: disagreement(acked, m.httpSend - m.httpSendFailed), unit: 'ratio', target: { op: '<=', value: 0.01 } },
  ];
}

async function ceilingRun(durationMs: number, opts: { connections: number; threads: number; durationMs: number }): Promise<WrkResult> {
  const bare = await startBareUws();
  try {
    await wrkPost(`http://127.0.0.1:${bare.port}/topics/bench/events`, BINARY_HEADERS, data, { ...opts, durationMs: Math.min(2000, durationMs) });
    return await wrkPost(`http://127.0.0.1:${bare.port}/topics/bench/events`, BINARY_HEADERS, data, opts);
  } finally {
    await bare.stop();
  }
}

/** The same paced load against bare uWS: on a shared 2-core machine the load generator and the
 *  scheduler alone put the bare app's p99 at 34–40 ms at ~10k req/s (autocannon, 2026-11-23), so
 *  evmesh's p99 is only meaningful next to this. */
async function bareLatency(rate: number, durationMs: number): Promise<{ p50: number; p99: number; rps: number; non2xx: number }> {
  const bare = await startBareUws();
  try {
    return await autocannonRate(`http://127.0.0.1:${bare.port}/topics/bench/events`, BINARY_HEADERS, data, rate, durationMs);
  } finally {
    await bare.stop();
  }
}

/** `--target http://host:port`: EventMesh code 104 only (the external broker has no evmesh REST). */
async function targetRun(target: URL, ceiling: WrkResult, ctx: BenchContext): Promise<ScenarioResult> {
  const base = `http://${target.host}`;
  const d = ctx.durationMs;
  await probe104(base);
  ctx.progress('code 104 warm-up');
  await wrkPost(`${base}/`, CODE104_HEADERS, CODE104_BODY, { connections: CONNECTIONS, threads: 2, durationMs: Math.min(2000, d) });
  ctx.progress('code 104 publish');
  const em = await scrapedPhase(`${base}/`, CODE104_HEADERS, CODE104_BODY, d, ctx.targetMetrics);
  ctx.progress('code 104 latency at half peak');
  const half = await autocannonRate(`${base}/`, CODE104_HEADERS, CODE104_BODY, em.wrk.requestsPerSec / 2, d);
  return {
    scenario: 'http-publish',
    description: `EventMesh HTTP code 104 publish of 1 KiB messages against ${target.href}, ${CONNECTIONS} connections (wrk, 2 threads); ceiling = bare uWS (2 workers) reading 1 KiB requests, same run; latency with autocannon at half the code-104 peak`,
    rows: [
      { metric: 'code 104 publish (2xx answers)', value: em.wrk.requestsPerSec, unit: 'req/s', ceiling: ceiling.requestsPerSec },
      { metric: `p99 latency at ${Math.round(em.wrk.requestsPerSec / 2)} req/s (half peak)`, value: half.p99, unit: 'ms' },
      ...agreementRows('code 104', em.acked, em.metrics),
    ],
    details: { ceiling, eventmesh104: em, halfPeak: half },
  };
}

export async function httpPublishScenario(durationMs: number, ctx: BenchContext): Promise<ScenarioResult> {
  const opts = { connections: CONNECTIONS, threads: 2, durationMs };
  ctx.progress('bare uWS ceiling');
  const ceiling = await ceilingRun(durationMs, opts);
  if (ctx.target !== undefined) return targetRun(ctx.target, ceiling, ctx);
  return withBenchBroker({ 'log.fsync': 'interval', 'topics.defaultPartitions': 8 }, async (broker, metricsUrl) => {
    const base = `http://127.0.0.1:${broker.ports.http}`;
    const url = `${base}/topics/bench/events`;
    // Warm-up (JIT, topic creation, first log segments), not reported: the first mode measured
    // otherwise pays for it.
    ctx.progress('warm-up');
    await wrkPost(url, BINARY_HEADERS, data, { ...opts, durationMs: Math.min(2000, durationMs) });
    ctx.progress('binary mode');
    const binary = await scrapedPhase(url, BINARY_HEADERS, data, durationMs, metricsUrl);
    ctx.progress('structured mode');
    const structured = await wrkPost(url, STRUCTURED_HEADERS, STRUCTURED_BODY, opts);
    ctx.progress('code 104');
    await probe104(base);
    const em = await scrapedPhase(`${base}/`, CODE104_HEADERS, CODE104_BODY, durationMs, metricsUrl);
    ctx.progress('latency at half peak');
    const half = await autocannonRate(url, BINARY_HEADERS, data, binary.wrk.requestsPerSec / 2, durationMs);
    ctx.progress('bare uWS latency at the same rate');
    const bareHalf = await bareLatency(binary.wrk.requestsPerSec / 2, durationMs);
    return {
      scenario: 'http-publish',
      description: `HTTP publish of 1 KiB CloudEvents (binary, structured) and EventMesh code 104 messages, ${CONNECTIONS} connections (wrk, 2 threads), 2 shards, embedded log (fsync interval 5 ms); ceiling = bare uWS (2 workers) reading the same requests, same run; latency with autocannon at half the binary-mode peak, next to bare uWS under the same paced load`,
      rows: [
        { metric: 'binary-mode publish', value: binary.wrk.requestsPerSec, unit: 'req/s', ceiling: ceiling.requestsPerSec, target: { op: '>=', value: 60_000 } },
        { metric: 'binary-mode publish vs bare uWS', value: binary.wrk.requestsPerSec, unit: 'req/s', ceiling: ceiling.requestsPerSec, target: { op: 'ratio>=', value: 0.6 } },
        { metric: 'structured-mode publish', value: structured.requestsPerSec, unit: 'req/s', ceiling: ceiling.requestsPerSec, target: { op: '>=', value: 40_000 } },
        { metric: 'code 104 publish', value: em.wrk.requestsPerSec, unit: 'req/s', ceiling: ceiling.requestsPerSec },
        { metric: `p99 latency at ${Math.round(binary.wrk.requestsPerSec / 2)} req/s (half peak)`, value: half.p99, unit: 'ms', ceiling: bareHalf.p99, target: { op: '<=', value: 5 } },
        ...agreementRows('binary mode', binary.acked, binary.metrics),
        ...agreementRows('code 104', em.acked, em.metrics),
      ],
      details: { ceiling, binary, structured, eventmesh104: em, halfPeak: half, bareHalfPeak: bareHalf },
    };
  });
}
