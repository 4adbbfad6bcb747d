// EventMesh TCP protocol publish rate (issue 4: ≥ 100k events/s; upstream ships a 15k/s limit):
// 16 EventMeshTcpClient connections, each with a window of pipelined ASYNC_MESSAGE_TO_SERVER
// publishes of 1 KiB CloudEvents, to a 2-shard broker (embedded log, fsync interval). With
// `--target tcp://host:port` semantics later (issue 8) the same generator can measure upstream.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import type { MeshEvent } from '../../src/core/types.js';
import { EventMeshTcpClient } from '../../src/sdk/index.js';
import type { ScenarioResult } from '../lib/report.js';
import { runRawCeiling } from './tcp-binary.js';

const CONNECTIONS = 16;
const WINDOW = 64;
const data = new Uint8Array(1024).fill(0x61);

export async function runEventMeshPublish(port: number, durationMs: number): Promise<{ eventsPerSec: number; events: number; errors: number; firstError?: string }> {
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) =>
    EventMeshTcpClient.connect({ port, maxInflight: WINDOW, userAgent: { group: 'bench-pub', purpose: 'pub', subsystem: '5023', pid: process.pid + i, host: '127.0.0.1', idc: 'bench' } })));
  let events = 0, errors = 0, seq = 0;
  let firstError: string | undefined;
  const end = Date.now() + durationMs;
  const t0 = performance.now();
  const worker = async (c: EventMeshTcpClient) => {
    while (Date.now() < end) {
      const ev: MeshEvent = { attributes: { specversion: '1.0', id: `e${seq++}`, source: '/bench', type: 'bench.event', subject: 'bench-em', datacontenttype: 'application/octet-stream' }, data };
      try { await c.publish('bench-em', ev); events++; } catch (err) { errors++; firstError ??= String(err); }
    }
  };
  await Promise.all(clients.flatMap((c) => Array.from({ length: WINDOW }, () => worker(c))));
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  return { eventsPerSec: events / seconds, events, errors, ...(firstError ? { firstError } : {}) };
}

export async function tcpEventMeshScenario(durationMs: number): Promise<ScenarioResult> {
  const ceiling = await runRawCeiling(durationMs);
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-bench-em-'));
  const broker = await startBroker(loadConfig({ flags: { shards: 2, dataDir: dir, 'log.fsync': 'interval', 'ports.admin': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, 'topics.defaultPartitions': 8 } }));
  try {
    const run = await runEventMeshPublish(broker.ports.tcp!, durationMs);
    return {
      scenario: 'tcp-eventmesh',
      description: `EventMesh TCP protocol: ${CONNECTIONS} connections × ${WINDOW} pipelined ASYNC_MESSAGE_TO_SERVER publishes of 1 KiB CloudEvents, 2 shards, embedded log (fsync interval 5 ms); ceiling = raw TCP sink of binary frames in the same run`,
      rows: [{ metric: 'publish rate (acked)', value: run.eventsPerSec, unit: 'events/s', ceiling: ceiling.eventsPerSec, target: { op: '>=', value: 100_000 } }],
      details: { run, ceiling },
    };
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
