// The gRPC bench and the metrics endpoint agree (issue 8): the bench's count of events acknowledged
// by batchPublish and unary publish answers against the increase of EventMesh's eventmesh→mq
// counter (spec M5) scraped from /metrics before and after the phase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withBenchBroker } from '../../bench/lib/broker.js';
import { disagreement, withScrape } from '../../bench/lib/measure.js';
import { runBatchPublish, runUnaryPublish } from '../../bench/scenarios/grpc-load.js';

test('bench vs /metrics: gRPC batchPublish and publish events acked = Δ eventmesh_general_eventmesh_mq_message_num (±1 %)', async () => {
  await withBenchBroker({ 'log.fsync': 'never' }, async (broker, metricsUrl) => {
    const batch = await withScrape(metricsUrl, () => runBatchPublish(broker.ports.grpc!, 500));
    assert.ok(batch.value.events > 100, `acked ${batch.value.events}`);
    assert.equal(batch.value.failures, 0);
    assert.ok(batch.metrics, batch.metricsError);
    assert.ok(disagreement(batch.value.events, batch.metrics.toStorage) <= 0.01, `bench ${batch.value.events} vs /metrics ${batch.metrics.toStorage}`);
    const unary = await withScrape(metricsUrl, () => runUnaryPublish(broker.ports.grpc!, 500));
    assert.ok(unary.value.calls > 10, `acked ${unary.value.calls}`);
    assert.ok(unary.metrics);
    assert.ok(disagreement(unary.value.calls, unary.metrics.toStorage) <= 0.01, `bench ${unary.value.calls} vs /metrics ${unary.metrics.toStorage}`);
  });
});
