// Core publish → deliver throughput through the in-memory test harness: 2 shard Cores + the
// controller in ONE thread (so the numbers include every node's work on one core), 1 KiB
// events, a CLUSTERING subscriber acking at once. Prints events/s and publish→deliver latency.
// Run: node --import tsx bench/core-inproc.ts [durationMs]
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Cluster } from '../test/core/harness.js';

export interface CoreInprocResult {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSec: number;
  readonly mbPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Mesh messages per delivered event (batching effectiveness). */
  readonly meshMessagesPerEvent: number;
}

export interface CoreInprocOptions {
  readonly durationMs?: number;
  readonly eventBytes?: number;
  /** Max events published and not yet delivered. */
  readonly window?: number;
  readonly publisherNode?: number;
  readonly subscriberNode?: number;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function runCoreInproc(o: CoreInprocOptions = {}): Promise<CoreInprocResult> {
  const durationMs = o.durationMs ?? 3000, eventBytes = o.eventBytes ?? 1024, window = o.window ?? 4096;
  const c = await Cluster.start({ shards: 2, defaultPartitions: 4, maxInflight: 10_000, tickMs: 50, commitIntervalMs: 1000, ackTimeoutMs: 60_000 });
  try {
    await c.client(0).createTopic('bench', 4);
    const sent = new Map<string, number>();
    const lat: number[] = [];
    let delivered = 0;
    await c.client(o.subscriberNode ?? 0).subscribe({ topic: 'bench', group: 'bench' }, (d) => {
      const t0 = sent.get(d.event.attributes.id as string);
      if (t0 !== undefined) { lat.push(performance.now() - t0); sent.delete(d.event.attributes.id as string); }
      delivered++;
      d.ack();
    });
    const pub = c.client(o.publisherNode ?? 1);
    const payload = new Uint8Array(eventBytes).fill(120);
    const attrs = { specversion: '1.0', source: '/bench', type: 'bench.event' };
    let seq = 0;
    const msgs0 = c.net.messages;
    const start = performance.now();
    const end = start + durationMs;
    let failed = 0;
    while (performance.now() < end) {
      const room = Math.min(window - (seq - delivered), 512);
      for (let i = 0; i < room; i++) {
        const id = `e${seq++}`;
        sent.set(id, performance.now());
        pub.publish('bench', { attributes: { ...attrs, id }, data: payload }).catch(() => { failed++; });
      }
      await new Promise((r) => setImmediate(r));
    }
    const published = seq;
    while (delivered < published - failed && performance.now() < end + 10_000) await new Promise((r) => setImmediate(r));
    const seconds = (performance.now() - start) / 1000;
    const sorted = Float64Array.from(lat).sort();
    return {
      events: delivered,
      seconds,
      eventsPerSec: delivered / seconds,
      mbPerSec: (delivered * eventBytes) / seconds / 1e6,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      maxMs: sorted.length ? sorted[sorted.length - 1]! : 0,
      meshMessagesPerEvent: (c.net.messages - msgs0) / Math.max(1, delivered),
    };
  } finally {
    await c.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const durationMs = Number(process.argv[2] ?? 3000);
  const r = await runCoreInproc({ durationMs });
  console.log(`core in-process (2 shards + controller, one thread), 1 KiB events, ${r.seconds.toFixed(1)} s`);
  console.log(`  ${Math.round(r.eventsPerSec).toLocaleString('en')} events/s  ${r.mbPerSec.toFixed(1)} MB/s  publish→deliver p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  max ${r.maxMs.toFixed(1)} ms  mesh msgs/event ${r.meshMessagesPerEvent.toFixed(3)}`);
}
