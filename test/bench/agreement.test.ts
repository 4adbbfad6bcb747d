// The bench and the metrics endpoint must agree (issue 8): the bench's own count of acknowledged
// publishes against the increase of EventMesh's eventmesh→mq counter (spec M5) scraped from
// /metrics before and after, for both protocols of the TCP port; and the --target path, which
// drives an "external" broker (here another evmesh) through its URL only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withBenchBroker } from '../../bench/lib/broker.js';
import { plainContext } from '../../bench/lib/context.js';
import { disagreement, withScrape } from '../../bench/lib/measure.js';
import { runEventMeshPublish, tcpEventMeshScenario } from '../../bench/scenarios/tcp-eventmesh.js';
import { runPublish } from '../../bench/scenarios/tcp-binary.js';

const TOLERANCE = 0.01;

test('bench vs /metrics: EventMesh TCP publishes acked = Δ eventmesh_general_eventmesh_mq_message_num (±1 %)', async () => {
  await withBenchBroker({ 'log.fsync': 'never' }, async (broker, metricsUrl) => {
    const { value, metrics } = await withScrape(metricsUrl, () => runEventMeshPublish({ host: '127.0.0.1', port: broker.ports.tcp! }, 700));
    assert.ok(value.events > 100, `published ${value.events}`);
    assert.ok(metrics, 'scraped');
    assert.ok(disagreement(value.events, metrics.toStorage) <= TOLERANCE, `bench ${value.events} vs /metrics ${metrics.toStorage}`);
    assert.ok(disagreement(value.events, metrics.corePublished) <= TOLERANCE, `bench ${value.events} vs core ${metrics.corePublished}`);
  });
});

test('bench vs /metrics: binary protocol publishes acked = Δ eventmesh→mq and Δ evmesh_core_published_events (±1 %)', async () => {
  await withBenchBroker({ 'log.fsync': 'never' }, async (broker, metricsUrl) => {
    const { value, metrics } = await withScrape(metricsUrl, () => runPublish(broker.ports.tcp!, 700));
    assert.ok(value.events > 100);
    assert.ok(metrics);
    assert.ok(disagreement(value.events, metrics.toStorage) <= TOLERANCE, `bench ${value.events} vs /metrics ${metrics.toStorage}`);
    // The first publish (topic creation) happens before the measured loop; the scrape sees it.
    assert.ok(disagreement(value.events, metrics.corePublished) <= TOLERANCE, `bench ${value.events} vs core ${metrics.corePublished}`);
  });
});

test('--target: tcp-eventmesh drives an external broker by URL and reads its metrics endpoint', async () => {
  await withBenchBroker({ 'log.fsync': 'never' }, async (external, metricsUrl) => {
    const notes: string[] = [];
    const r = await tcpEventMeshScenario(500, plainContext(500, {
      target: new URL(`tcp://127.0.0.1:${external.ports.tcp}`), targetMetrics: metricsUrl, progress: (n) => notes.push(n),
    }));
    assert.match(r.description, new RegExp(`against tcp://127\\.0\\.0\\.1:${external.ports.tcp}`));
    const rate = r.rows.find((x) => x.metric === 'publish rate (acked)')!;
    assert.ok(rate.value > 0 && rate.ceiling! > 0);
    const agree = r.rows.find((x) => x.metric === 'bench vs /metrics disagreement')!;
    assert.ok(agree.value <= TOLERANCE, `disagreement ${agree.value}`);
    assert.ok(r.latencies?.[0]?.summary.count! > 0, 'latency phase measured pushes');
    assert.deepEqual(notes.slice(0, 2), ['raw TCP ceiling', 'publish phase']);
  });
});
