// Webhook push rate (issue 5 benchmarks: ≥ 20k events/s into a local sink): a backlog of 1 KiB
// events is published in CloudEvents batches of 100, then a binary-mode webhook subscription
// from the earliest offset pushes it into the bare uWS app (2 workers), which counts arrivals.
// Ceiling: the same sink loaded directly by wrk with the same 1 KiB binary-mode requests.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import { wrkPost } from '../lib/wrk.js';
import type { ScenarioResult } from '../lib/report.js';
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

export async function httpWebhookScenario(durationMs: number): Promise<ScenarioResult> {
  const sink = await startBareUws();
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-bench-wh-'));
  try {
    const ceiling = await wrkPost(`http://127.0.0.1:${sink.port}/hook`, { 'Content-Type': 'application/octet-stream', 'ce-specversion': '1.0', 'ce-id': 'x', 'ce-source': '/b', 'ce-type': 't' }, data, { connections: 32, threads: 2, durationMs });
    const broker = await startBroker(loadConfig({ flags: { shards: 2, dataDir: dir, 'log.fsync': 'interval', host: '127.0.0.1', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, 'topics.defaultPartitions': 8, 'webhook.concurrency': 64 } }), { log: () => {} });
    try {
      const port = broker.ports.http!;
      // The backlog is published first (not timed), then a subscription reading from the
      // earliest offset drains it: the time is the push path's alone.
      let seq = 0, published = 0;
      const fillUntil = Date.now() + durationMs;
      await Promise.all(Array.from({ length: 4 }, async () => {
        while (Date.now() < fillUntil && published < TARGET) {
          const batch = Array.from({ length: BATCH }, () => ({ specversion: '1.0', id: `w${seq++}`, source: '/bench', type: 'bench', datacontenttype: 'text/plain', data }));
          if (await post(port, '/topics/bench-wh/events', 'application/cloudevents-batch+json', JSON.stringify(batch)) === 200) published += BATCH;
        }
      }));
      const before = (await sink.count()).reduce((n, c) => n + c.count, 0);
      const t0 = performance.now();
      const sub = await post(port, '/subscriptions', 'application/json', JSON.stringify({ topic: 'bench-wh', url: `http://127.0.0.1:${sink.port}/hook`, format: 'binary', from: 'earliest' }));
      if (sub !== 201) throw new Error(`subscribe answered ${sub}`);
      let pushed = 0;
      const end = Date.now() + durationMs;
      while (pushed < published && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
        pushed = (await sink.count()).reduce((n, c) => n + c.count, 0) - before;
      }
      const seconds = (performance.now() - t0) / 1000;
      return {
        scenario: 'http-webhook',
        description: `webhook push (binary mode, webhook.concurrency 64) of a backlog of 1 KiB events, 2 shards, embedded log; sink = bare uWS (2 workers); ceiling = wrk straight into the sink (32 connections), same run`,
        rows: [{ metric: 'webhook push rate', value: pushed / seconds, unit: 'events/s', ceiling: ceiling.requestsPerSec, target: { op: '>=', value: 20_000 } }],
        details: { published, pushed, seconds, ceiling },
      };
    } finally {
      await broker.stop();
    }
  } finally {
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
