// Load generator that runs INSIDE every shard (a shard plugin): each shard publishes 1 KiB
// events in batches to one topic whose partitions are spread over all shards and subscribes to
// it in one CLUSTERING group, so events cross shards both ways (publish → owner, owner →
// member) exactly as protocol traffic will. Publishing starts at an absolute time so every
// shard is ready; each shard writes its counts and latency histogram to `resultFile.<shard>`.
import { writeFileSync } from 'node:fs';
import type { MeshEvent } from '../src/core/types.js';
import type { ShardPlugin } from '../src/shard/plugin.js';
import { encodeHistogram, newHistogram, nowMs } from './lib/histogram.js';

export interface PubSubOptions {
  topic: string;
  partitions: number;
  eventBytes: number;
  batch: number;
  /** Publish batches in flight per shard. */
  window: number;
  startAt: number;
  durationMs: number;
  /** Target events/s per shard (0 = as fast as possible). */
  ratePerShard: number;
  resultFile: string;
}

export interface PubSubShardResult {
  shard: number;
  published: number;
  delivered: number;
  publishErrors: number;
  firstError?: string;
  firstPublishAt: number;
  lastDeliveryAt: number;
  /** Latencies of events published after the warm-up (the first WARMUP_MS: cold JIT, growing heap). */
  histogram: string;
  /** Latencies of every event, warm-up included. */
  histogramAll: string;
}

/** Events published in the first second are measured separately: about half of the slow
 *  deliveries of a 4 s run fall in its first 750 ms (JIT warm-up; docs/core.md "latency"). */
export const WARMUP_MS = 1000;

const plugin: ShardPlugin = {
  async start(ctx) {
    const o = ctx.options as PubSubOptions;
    const client = ctx.client;
    await client.createTopic(o.topic, o.partitions);
    const hist = newHistogram();
    const histAll = newHistogram();
    const res: PubSubShardResult = { shard: ctx.nodeId, published: 0, delivered: 0, publishErrors: 0, firstPublishAt: 0, lastDeliveryAt: 0, histogram: '', histogramAll: '' };
    const warmEnd = o.startAt + WARMUP_MS;
    const sub = await client.subscribe({ topic: o.topic, group: 'bench', from: 'latest', maxInflight: 8192 }, (d) => {
      const now = nowMs();
      res.delivered++;
      res.lastDeliveryAt = now;
      const ts = Number(d.event.attributes.benchts);
      if (ts > 0) {
        const us = Math.max(1, Math.round((now - ts) * 1000));
        histAll.recordValue(us);
        if (ts >= warmEnd) hist.recordValue(us);
      }
      d.ack();
    });
    const data = new Uint8Array(o.eventBytes).fill(0x61);
    let seq = 0;
    const makeBatch = (): MeshEvent[] => {
      // CloudEvents Integer is 32-bit: the send time travels as a string extension.
      const tsText = nowMs().toFixed(3);
      const events: MeshEvent[] = new Array(o.batch);
      for (let i = 0; i < o.batch; i++) {
        events[i] = { attributes: { specversion: '1.0', id: `${ctx.nodeId}-${seq++}`, source: '/bench', type: 'bench.event', benchts: tsText }, data };
      }
      return events;
    };
    const run = async () => {
      await new Promise((r) => setTimeout(r, Math.max(0, o.startAt - Date.now())));
      const end = nowMs() + o.durationMs;
      res.firstPublishAt = nowMs();
      const batchIntervalMs = o.ratePerShard > 0 ? (o.batch / o.ratePerShard) * 1000 : 0;
      let next = res.firstPublishAt;
      const worker = async () => {
        while (nowMs() < end) {
          if (batchIntervalMs > 0) {
            next += batchIntervalMs;
            const wait = next - nowMs();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          }
          try {
            const r = await client.publishBatch(o.topic, makeBatch());
            res.published += r.length;
          } catch (err) {
            res.publishErrors++;
            res.firstError ??= err instanceof Error ? `${(err as { code?: string }).code ?? ''} ${err.message}` : String(err);
          }
        }
      };
      await Promise.all(Array.from({ length: o.window }, worker));
      // Let deliveries catch up (bounded), then report.
      const deadline = nowMs() + 10_000;
      let last = -1;
      while (nowMs() < deadline && res.delivered !== last) {
        last = res.delivered;
        await new Promise((r) => setTimeout(r, 300));
      }
      res.histogram = encodeHistogram(hist);
      res.histogramAll = encodeHistogram(histAll);
      writeFileSync(`${o.resultFile}.${ctx.nodeId}`, JSON.stringify(res));
    };
    void run();
    return { close: () => sub.close() };
  },
};

export default plugin;
