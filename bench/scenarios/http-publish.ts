// HTTP publish (issue 5 benchmarks): 1 KiB CloudEvents, 100 connections, 2 shards, embedded log
// (fsync interval). wrk drives binary mode (ce-* headers) and structured mode against evmesh and
// binary mode against a bare uWS app (2 worker threads, same port) that reads the body and
// answers the same JSON: the ceiling, measured in the same run. Latency at half the binary-mode
// peak rate comes from autocannon (wrk cannot pace its requests).
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import { claimPort } from '../../src/shard/reuseport.js';
import { spawnWorker } from '../../src/shard/spawn.js';
import { wrkPost, type WrkResult } from '../lib/wrk.js';
import type { ScenarioResult } from '../lib/report.js';

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const CONNECTIONS = 100;
const data = 'a'.repeat(1024);
const BINARY_HEADERS = {
  'Content-Type': 'application/octet-stream', 'ce-specversion': '1.0', 'ce-id': 'bench-1', 'ce-source': '/bench', 'ce-type': 'bench.event',
};
const STRUCTURED_HEADERS = { 'Content-Type': 'application/cloudevents+json' };
const STRUCTURED_BODY = JSON.stringify({ specversion: '1.0', id: 'bench-1', source: '/bench', type: 'bench.event', datacontenttype: 'text/plain', data });

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

async function autocannonRate(url: string, rate: number, durationMs: number): Promise<{ p50: number; p99: number; rps: number; non2xx: number }> {
  const autocannon = createRequire(import.meta.url)('autocannon') as (o: Record<string, unknown>) => Promise<{ latency: { p50: number; p99: number }; requests: { average: number }; non2xx: number }>;
  const r = await autocannon({ url, method: 'POST', headers: BINARY_HEADERS, body: data, connections: CONNECTIONS, overallRate: Math.round(rate), duration: Math.max(1, Math.round(durationMs / 1000)) });
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, non2xx: r.non2xx };
}

export async function httpPublishScenario(durationMs: number): Promise<ScenarioResult> {
  const opts = { connections: CONNECTIONS, threads: 2, durationMs };
  const bare = await startBareUws();
  let ceiling: WrkResult;
  try {
    await wrkPost(`http://127.0.0.1:${bare.port}/topics/bench/events`, BINARY_HEADERS, data, { ...opts, durationMs: 2000 });
    ceiling = await wrkPost(`http://127.0.0.1:${bare.port}/topics/bench/events`, BINARY_HEADERS, data, opts);
  } finally {
    await bare.stop();
  }
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-bench-http-'));
  const broker = await startBroker(loadConfig({ flags: { shards: 2, dataDir: dir, 'log.fsync': 'interval', host: '127.0.0.1', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, 'topics.defaultPartitions': 8 } }), { log: () => {} });
  try {
    const url = `http://127.0.0.1:${broker.ports.http}/topics/bench/events`;
    // Warm-up (JIT, topic creation, first log segments), not reported: the first mode measured
    // otherwise pays for it.
    await wrkPost(url, BINARY_HEADERS, data, { ...opts, durationMs: 2000 });
    const binary = await wrkPost(url, BINARY_HEADERS, data, opts);
    const structured = await wrkPost(url, STRUCTURED_HEADERS, STRUCTURED_BODY, opts);
    const half = await autocannonRate(url, binary.requestsPerSec / 2, durationMs);
    return {
      scenario: 'http-publish',
      description: `HTTP publish of 1 KiB CloudEvents, ${CONNECTIONS} connections (wrk, 2 threads), 2 shards, embedded log (fsync interval 5 ms); ceiling = bare uWS (2 workers) reading the same requests, same run; latency with autocannon at half the binary-mode peak`,
      rows: [
        { metric: 'binary-mode publish', value: binary.requestsPerSec, unit: 'req/s', ceiling: ceiling.requestsPerSec, target: { op: '>=', value: 60_000 } },
        { metric: 'binary-mode publish vs bare uWS', value: binary.requestsPerSec, unit: 'req/s', ceiling: ceiling.requestsPerSec, target: { op: 'ratio>=', value: 0.6 } },
        { metric: 'structured-mode publish', value: structured.requestsPerSec, unit: 'req/s', ceiling: ceiling.requestsPerSec, target: { op: '>=', value: 40_000 } },
        { metric: `p99 latency at ${Math.round(binary.requestsPerSec / 2)} req/s (half peak)`, value: half.p99, unit: 'ms', target: { op: '<=', value: 5 } },
      ],
      details: { ceiling, binary, structured, halfPeak: half },
    };
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
