// A fresh evmesh broker for one bench phase (DESIGN §6: every scenario starts its own): 2
// shards, embedded log in a temporary directory, every port picked free (0: also the HTTP and
// gRPC ports, once those listeners exist), removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type BrokerOptions, type RunningBroker } from '../../src/broker.js';
import { loadConfig, type ConfigOverrides } from '../../src/config/load.js';

export async function withBenchBroker<T>(flags: ConfigOverrides, fn: (broker: RunningBroker, metricsUrl: string) => Promise<T>, options: BrokerOptions = {}): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-bench-'));
  const broker = await startBroker(loadConfig({
    flags: { shards: 2, storage: 'log', dataDir: dir, 'ports.admin': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, 'ports.metrics': 0, ...flags },
  }), options);
  try {
    return await fn(broker, `http://127.0.0.1:${broker.ports.metrics}/metrics`);
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
