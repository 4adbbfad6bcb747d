// Kafka broker stopped and restarted while evmesh publishes into it (issue 7 item 5): no acked
// event is lost, clients see errors (not hangs) while it is down, and publishing resumes by itself.
// Runs its own broker (port 19192) so the shared one (19092) never stops under other tests.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import type { MeshEvent } from '../../src/core/types.js';
import { EvmeshClient } from '../../src/sdk/evmesh-client.js';
import { deleteKafkaTopics, kafkaDown, kafkaUp, uniquePrefix } from '../helpers/kafka.js';

const PORT = 19192;
const DELIVERY_TIMEOUT_MS = 3000;

const ev = (i: number): MeshEvent => ({ attributes: { specversion: '1.0', id: `e-${i}`, source: '/fault', type: 't' }, data: Buffer.from(`event ${i}`) });

describe('kafka broker stopped and restarted under publish load', () => {
  const prefix = uniquePrefix('fault');
  let brokers: string;
  let broker: RunningBroker;
  let sdk: EvmeshClient;

  before(async () => {
    brokers = kafkaUp(PORT);
    const config = loadConfig({
      flags: {
        shards: 1, storage: 'kafka', host: '127.0.0.1', 'ports.admin': 0, 'ports.grpc': 0, 'ports.http': 0, 'ports.tcp': 0, 'ports.metrics': 0,
        'kafka.brokers': brokers, 'kafka.prefix': prefix, 'kafka.lingerMs': 1,
        'kafka.deliveryTimeoutMs': DELIVERY_TIMEOUT_MS, 'kafka.requestTimeoutMs': 2000,
      },
    });
    broker = await startBroker(config, { log: () => {} });
    sdk = await EvmeshClient.connect({ host: '127.0.0.1', port: broker.ports.tcp!, reconnect: false });
  });
  after(async () => {
    await sdk?.close();
    await broker?.stop();
    kafkaUp(PORT);
    await deleteKafkaTopics(brokers, [prefix]);
    kafkaDown(PORT);
  });

  it('loses no acked event, fails publishes while down, resumes by itself', async () => {
    await sdk.publish('fault', ev(-1)); // creates the topic
    const acked: number[] = [];
    const failed: { i: number; code: string; ms: number }[] = [];
    let i = 0;
    // Shared with the publisher loop below (an object, so its reads are not narrowed away).
    const state: { phase: 'before' | 'down' | 'after'; restartedAt: number } = { phase: 'before', restartedAt: Infinity };
    let longest = 0;
    const publisher = (async () => {
      while (state.phase !== 'after' || acked.filter((n) => n >= state.restartedAt).length < 50) {
        const n = i++;
        const t0 = Date.now();
        try {
          await sdk.publish('fault', ev(n));
          acked.push(n);
        } catch (err) {
          failed.push({ i: n, code: (err as { code?: string }).code ?? String(err), ms: Date.now() - t0 });
        }
        longest = Math.max(longest, Date.now() - t0);
        if (state.phase === 'down') await new Promise((r) => setTimeout(r, 100));
      }
    })();
    while (acked.length < 100) await new Promise((r) => setTimeout(r, 10));
    kafkaDown(PORT);
    state.phase = 'down';
    const downAt = i;
    // While it is down, publishes fail (after kafka.deliveryTimeoutMs), they do not hang.
    while (failed.length < 3) await new Promise((r) => setTimeout(r, 50));
    kafkaUp(PORT);
    const restartedAt = i;
    state.restartedAt = restartedAt;
    state.phase = 'after';
    await publisher;

    assert.ok(failed.length >= 3);
    // EVM_UNAVAILABLE: Kafka did not acknowledge within kafka.deliveryTimeoutMs; EVM_TIMEOUT: the
    // shard's publish ack did not come within delivery.requestTimeoutMs (the controller's append
    // queue for the partition was still draining timed-out deliveries).
    for (const f of failed) assert.ok(f.code === 'EVM_UNAVAILABLE' || f.code === 'EVM_TIMEOUT', `publish ${f.i} failed with ${f.code}`);
    // Every call settled: an error within the delivery timeout plus a margin, never a hang.
    assert.ok(longest < DELIVERY_TIMEOUT_MS + 10_000, `the longest publish took ${longest} ms`);
    assert.ok(acked.some((n) => n >= restartedAt), 'publishing resumed after the restart');
    assert.ok(acked.some((n) => n < downAt));

    // Every acknowledged event is in Kafka (read back by kcat).
    const out = execFileSync('kcat', ['-b', brokers, '-C', '-t', `${prefix}fault`, '-o', 'beginning', '-e', '-q', '-f', '%h\\n'], { encoding: 'utf8', timeout: 60_000 });
    const stored = new Set(out.split('\n').map((l) => /ce_id=e-(-?\d+)/.exec(l)?.[1]).filter((x) => x !== undefined).map(Number));
    const lost = acked.filter((n) => !stored.has(n));
    assert.deepEqual(lost, [], 'acked events missing from Kafka');
  });
});
