// Webhook push rate (issue 5 benchmarks: ≥ 20k events/s into a local sink): a backlog of 1 KiB
// events is published in CloudEvents batches of 100, then a binary-mode webhook subscription
// from the earliest offset pushes it into the bare uWS app (2 workers), which counts arrivals.
// Ceiling: the same sink loaded directly by wrk with the same 1 KiB binary-mode requests. The
// broker's /metrics is scraped around the backlog publish (M6 batch events vs events in batches
// answered 200) and around the push phase (M6 push attempts vs pushes the sink counted).
import { request } from 'node:http';
import { withBenchBroker } from '../lib/broker.js';
import type { BenchContext } from '../lib/context.js';
import { disagreement, withScrape } from '../lib/measure.js';
import { wrkPost } from '../lib/wrk.js';
import type { Row, ScenarioResult } from '../lib/report.js';
import { startBareUws } from './http-publish.js';

const BATCH = 100;
/** Backlog size (fewer when publishing it takes longer than the run duration). */
const TARGET = 100_000;
const data = 'a'.repeat(1024);

function post(port: number, path: string, contentType: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function httpWebhookScenario(durationMs: number, ctx: BenchContext): Promise<ScenarioResult> {
  const sink = await startBareUws();
  const sinkCount = async (): Promise<number> => (await sink.count()).reduce((n, c) => n + c.count, 0);
  try {
    ctx.progress('wrk into the sink (ceiling)');
    const ceiling = await wrkPost(`http://127.0.0.1:${sink.port}/hook`, { 'Content-Type': 'application/octet-stream', 'ce-specversion': '1.0', 'ce-id': 'x', 'ce-source': '/b', 'ce-type': 't' }, data, { connections: 32, threads: 2, durationMs });
    return await withBenchBroker({ 'log.fsync': 'interval', 'topics.defaultPartitions': 8, 'webhook.concurrency': 64 }, async (broker, metricsUrl) => {
      const port = broker.ports.http!;
      // The backlog is published first (not timed), then a subscription reading from the
      // earliest offset drains it: the time is the push path's alone.
      ctx.progress('publishing the backlog');
      let seq = 0, published = 0;
      const fillUntil = Date.now() + durationMs;
      const fill = await withScrape(metricsUrl, () => Promise.all(Array.from({ length: 4 }, async () => {
        while (Date.now() < fillUntil && published < TARGET) {
          const batch = Array.from({ length: BATCH }, () => ({ specversion: '1.0', id: `w${seq++}`, source: '/bench', type: 'bench', datacontenttype: 'text/plain', data }));
          if (await post(port, '/topics/bench-wh/events', 'application/cloudevents-batch+json', JSON.stringify(batch)) === 200) published += BATCH;
        }
      })));
      ctx.progress('pushing');
      const before = await sinkCount();
      let pushed = 0;
      let seconds = 0;
      const push = await withScrape(metricsUrl, async () => {
        const t0 = performance.now();
        const sub = await post(port, '/subscriptions', 'application/json', JSON.stringify({ topic: 'bench-wh', url: `http://127.0.0.1:${sink.port}/hook`, format: 'binary', from: 'earliest' }));
        if (sub !== 201) throw new Error(`subscribe answered ${sub}`);
        const end = Date.now() + durationMs;
        while (pushed < published && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 50));
          pushed = (await sinkCount()) - before;
        }
        seconds = (performance.now() - t0) / 1000;
      });
      // Pushes still in flight when the phase ended (backlog not drained) reach the sink right
      // after the scrape: read the sink once more, right after it (≤ concurrency × shards apart).
      const sinkAfter = (await sinkCount()) - before;
      const rows: Row[] = [{ metric: 'webhook push rate', value: pushed / seconds, unit: 'events/s', ceiling: ceiling.requestsPerSec, target: { op: '>=', value: 20_000 } }];
      if (fill.metrics) {
        rows.push(
          { metric: 'backlog: /metrics eventmesh_http_batch_send_message_num Δ', value: fill.metrics.httpBatch, unit: 'events' },
          { metric: 'backlog: bench vs /metrics disagreement', value: disagreement(published, fill.metrics.httpBatch), unit: 'ratio', target: { op: '<=', value: 0.01 } },
        );
      }
      if (push.metrics) {
        const ok = push.metrics.httpPush - push.metrics.httpPushFailed;
        rows.push(
          { metric: 'push: /metrics eventmesh_http_push_message_num Δ', value: push.metrics.httpPush, unit: 'pushes' },
          { metric: 'push: bench (sink) vs /metrics disagreement', value: disagreement(sinkAfter, ok), unit: 'ratio', target: { op: '<=', value: 0.01 } },
        );
      }
      return {
        scenario: 'http-webhook',
        description: `webhook push (binary mode, webhook.concurrency 64) of a backlog of 1 KiB events, 2 shards, embedded log; sink = bare uWS (2 workers); ceiling = wrk straight into the sink (32 connections), same run`,
        rows,
        details: { published, pushed, sinkAfter, seconds, ceiling, fillMetrics: fill.metrics, pushMetrics: push.metrics, metricsError: fill.metricsError ?? push.metricsError },
      };
    });
  } finally {
    await sink.stop();
  }
}
