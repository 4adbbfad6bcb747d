// In-process publish → deliver across shards (issue 3): a real broker (worker-thread shards,
// embedded log) with the pubsub load generator running inside every shard. The ceiling is a
// raw SharedArrayBuffer ring moving the same 1 KiB messages main → worker in the same run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import { mergeHistograms, summarize } from '../lib/histogram.js';
import { plainContext, type BenchContext } from '../lib/context.js';
import { disagreement, withScrape, type MetricsDelta } from '../lib/measure.js';
import type { ScenarioResult } from '../lib/report.js';
import type { PubSubOptions, PubSubShardResult } from '../pubsub-plugin.js';
import { runRingBench } from '../ring.js';

const pluginUrl = new URL(`../pubsub-plugin${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

export interface PubSubRun {
  eventsPerSec: number;
  mbPerSec: number;
  published: number;
  delivered: number;
  errors: number;
  firstError: string | undefined;
  /** After the warm-up (pubsub-plugin.ts WARMUP_MS). */
  latency: ReturnType<typeof summarize>;
  /** Every event, warm-up included. */
  latencyAll: ReturnType<typeof summarize>;
  /** The broker's /metrics before vs after (evmesh_core_published_events_total …). */
  metrics?: MetricsDelta | undefined;
}

export async function runPubSub(opts: { shards: number; durationMs: number; ratePerShard?: number; fsync?: 'always' | 'interval' | 'never'; storage?: 'log' | 'memory' }): Promise<PubSubRun> {
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-bench-'));
  const config = loadConfig({
    flags: {
      shards: opts.shards, storage: opts.storage ?? 'log', dataDir: dir, 'log.fsync': opts.fsync ?? 'interval', 'log.fsyncIntervalMs': 1,
      'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, 'topics.defaultPartitions': 4 * opts.shards,
    },
  });
  const resultFile = join(dir, 'result');
  const options: PubSubOptions = {
    topic: 'bench', partitions: 4 * opts.shards, eventBytes: 1024, batch: 64, window: Number(process.env.BENCH_WINDOW ?? 16),
    startAt: Date.now() + 1000, durationMs: opts.durationMs, ratePerShard: opts.ratePerShard ?? 0, resultFile,
  };
  const broker = await startBroker(config, { plugins: [{ url: pluginUrl, options }] });
  try {
    const { value, metrics } = await withScrape(`http://127.0.0.1:${broker.ports.metrics}/metrics`, () => collect(opts, resultFile));
    return { ...value, metrics };
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function collect(opts: { shards: number; durationMs: number }, resultFile: string): Promise<PubSubRun> {
  const shardResults: PubSubShardResult[] = [];
  const deadline = Date.now() + opts.durationMs + 30_000;
  while (shardResults.length < opts.shards && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    shardResults.length = 0;
    for (let s = 0; s < opts.shards; s++) {
      try { shardResults.push(JSON.parse(readFileSync(`${resultFile}.${s}`, 'utf8')) as PubSubShardResult); } catch { /* not yet */ }
    }
  }
  if (shardResults.length < opts.shards) throw new Error('pubsub bench: shards did not report');
  const published = shardResults.reduce((a, r) => a + r.published, 0);
  const delivered = shardResults.reduce((a, r) => a + r.delivered, 0);
  const start = Math.min(...shardResults.map((r) => r.firstPublishAt));
  const end = Math.max(...shardResults.map((r) => r.lastDeliveryAt));
  const eventsPerSec = delivered / ((end - start) / 1000);
  return {
    eventsPerSec, mbPerSec: (eventsPerSec * 1024) / 1e6, published, delivered,
    errors: shardResults.reduce((a, r) => a + r.publishErrors, 0),
    firstError: shardResults.find((r) => r.firstError)?.firstError,
    latency: summarize(mergeHistograms(shardResults.map((r) => r.histogram))),
    latencyAll: summarize(mergeHistograms(shardResults.map((r) => r.histogramAll))),
  };
}

export async function pubsubScenario(durationMs: number, ctx: BenchContext = plainContext(durationMs)): Promise<ScenarioResult> {
  ctx.progress('ring ceiling');
  const ring = await runRingBench({ timeMs: Math.min(durationMs, 2000) });
  const ceiling = Math.max(...ring.crossThread.map((c) => c.msgsPerSec));
  ctx.progress('peak rate');
  const peak = await runPubSub({ shards: 2, durationMs });
  ctx.progress('latency at half the peak rate');
  // Latency at a sustainable rate (half the measured peak), where p99 means something.
  const half = await runPubSub({ shards: 2, durationMs, ratePerShard: Math.round(peak.eventsPerSec / 4) });
  return {
    scenario: 'pubsub-2-shards',
    description: 'in-process publish → deliver, 1 KiB events, 2 shards, embedded log (fsync interval 1 ms), one CLUSTERING group with a member in each shard',
    rows: [
      { metric: 'deliver rate (peak)', value: peak.eventsPerSec, unit: 'events/s', ceiling, target: { op: '>=', value: 300_000 } },
      { metric: 'p99 publish→deliver at peak (after 1 s warm-up)', value: peak.latency.p99Ms, unit: 'ms' },
      { metric: 'deliver rate (at half peak)', value: half.eventsPerSec, unit: 'events/s' },
      { metric: 'p50 publish→deliver at half peak (after warm-up)', value: half.latency.p50Ms, unit: 'ms' },
      { metric: 'p99 publish→deliver at half peak (after warm-up)', value: half.latency.p99Ms, unit: 'ms' },
      { metric: 'p99.9 publish→deliver at half peak (after warm-up)', value: half.latency.p999Ms, unit: 'ms' },
      { metric: 'p99 publish→deliver at half peak (whole run)', value: half.latencyAll.p99Ms, unit: 'ms' },
      { metric: 'deliver throughput (peak, 1 KiB events)', value: peak.mbPerSec, unit: 'MB/s' },
      ...(peak.metrics ? [
        { metric: '/metrics evmesh_core_published_events Δ (peak)', value: peak.metrics.corePublished, unit: 'events' },
        { metric: 'bench vs /metrics disagreement (published, peak)', value: disagreement(peak.published, peak.metrics.corePublished), unit: 'ratio', target: { op: '<=', value: 0.01 } as const },
        { metric: 'broker CPU (process, peak)', value: Math.round((peak.metrics.cpuSeconds / peak.metrics.seconds) * 100) / 100, unit: 'cores' },
        { metric: 'broker RSS (process, after peak)', value: peak.metrics.rssMiB, unit: 'MiB' },
      ] : []),
    ],
    latencies: [
      { label: 'publish→deliver at peak', summary: peak.latency },
      { label: 'publish→deliver at half peak', summary: half.latency },
    ],
    details: { peak, half, ring },
  };
}
