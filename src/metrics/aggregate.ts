// The main thread's view (DESIGN §1 "metrics aggregation"): every shard's registry (the 'metrics'
// shard query returns getMetricsAsJSON()) plus the main thread's own are merged with prom-client's
// AggregatorRegistry — counters and histograms summed per label set, gauges by their aggregator
// (sum unless the instrument says max/average). Gauges that need the whole broker are computed
// after the merge: upstream's distinct sub-topic counts (M7, M8) and per-shard `up`.
import { AggregatorRegistry, Counter, Gauge, Registry, type MetricObjectWithValues, type MetricValue, type RegistryContentType } from 'prom-client';
import type { ShardAnswer } from '../shard/supervisor.js';
import { GRPC_LABELS, grpcLabels, serverIp, TCP_LABELS, tcpLabels } from './labels.js';
import { threadMetrics } from './shard.js';
import { TCP_PORT_PROTOCOLS } from './tcp.js';

type Json = MetricObjectWithValues<MetricValue<string>>[];

export interface GatherSources {
  readonly host: string;
  readonly ports: { readonly tcp?: number | undefined; readonly grpc?: number | undefined };
  readonly queryShards: (name: string) => Promise<ShardAnswer[]>;
}

/** The process's CPU time and RSS (all threads: the shards are threads of this process), in
 *  the standard Prometheus names. prom-client's default set is not used: three of its gauges end
 *  in `_total`, which promtool rejects. */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    const registers = [processRegistry];
    new Counter({
      name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds', registers,
      collect() { const u = process.cpuUsage(); this.reset(); this.inc((u.user + u.system) / 1e6); },
    });
    new Gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes', registers, collect() { this.set(process.memoryUsage.rss()); } });
    new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds', registers })
      .set(Math.round((Date.now() - process.uptime() * 1000) / 1000));
  }
  return processRegistry;
}

/** The families only the main thread computes (besides the process ones): name → help. */
export const MAIN_GAUGES = {
  target_info: 'Target metadata (M9)',
  evmesh_shard_up: 'Whether a shard answered this scrape (1) or not (0: restarting, stuck)',
  eventmesh_tcp_sub_topic_num_ratio: 'Number of distinct topics subscribed by TCP clients (M7)',
  eventmesh_grpc_sub_topic_num_ratio: 'Number of distinct topics with gRPC consumer clients (M8)',
} as const;

/** Every family the main thread adds to the shards' (docs/metrics.md is checked against it). */
export function mainFamilies(): { name: string; type: string }[] {
  return [
    ...Object.keys(MAIN_GAUGES).map((name) => ({ name, type: 'gauge' })),
    ...processMetrics().getMetricsAsArray().map((m) => ({ name: m.name, type: (m as unknown as { type: string }).type })),
  ];
}

/** M1/M9: the resource as `target_info` (upstream's service name, this runtime's SDK facts). */
const TARGET_INFO = { service_name: 'EventMeshPrometheusExporter', telemetry_sdk_language: 'nodejs', telemetry_sdk_name: 'prom-client', telemetry_sdk_version: '15.1.3' };

export async function gather(src: GatherSources, contentType: RegistryContentType = Registry.PROMETHEUS_CONTENT_TYPE): Promise<Registry<RegistryContentType>> {
  const answers = await src.queryShards('metrics');
  const lists: Json[] = [
    (await threadMetrics.registry.getMetricsAsJSON()) as Json,
    (await processMetrics().getMetricsAsJSON()) as Json,
  ];
  for (const a of answers) if (a.error === undefined) lists.push(a.value as Json);
  const reg: Registry<RegistryContentType> = AggregatorRegistry.aggregate(lists);
  reg.setContentType(contentType);
  const merged = (await reg.getMetricsAsJSON()) as Json;
  // M3: an instrument shows up only once it has a series (no empty HELP/TYPE families).
  for (const m of merged) if (m.values.length === 0) reg.removeSingleMetric(m.name);
  const host = serverIp(src.host);

  new Gauge({ name: 'target_info', help: MAIN_GAUGES.target_info, labelNames: Object.keys(TARGET_INFO), registers: [reg] }).set(TARGET_INFO, 1);
  const up = new Gauge({ name: 'evmesh_shard_up', help: MAIN_GAUGES.evmesh_shard_up, labelNames: ['shard'], registers: [reg] });
  for (const a of answers) up.set({ shard: String(a.shard) }, a.error === undefined ? 1 : 0);

  const topics = (protocols: readonly string[]): number => {
    const subs = merged.find((m) => m.name === 'evmesh_subscriptions');
    const set = new Set<string>();
    for (const v of subs?.values ?? []) if (protocols.includes(String(v.labels.protocol)) && v.value > 0) set.add(String(v.labels.topic));
    return set.size;
  };
  if (src.ports.tcp !== undefined) {
    new Gauge({ name: 'eventmesh_tcp_sub_topic_num_ratio', help: MAIN_GAUGES.eventmesh_tcp_sub_topic_num_ratio, labelNames: TCP_LABELS, registers: [reg] })
      .set(tcpLabels(host, src.ports.tcp), topics(TCP_PORT_PROTOCOLS));
  }
  if (src.ports.grpc !== undefined) {
    new Gauge({ name: 'eventmesh_grpc_sub_topic_num_ratio', help: MAIN_GAUGES.eventmesh_grpc_sub_topic_num_ratio, labelNames: GRPC_LABELS, registers: [reg] })
      .set(grpcLabels(host, src.ports.grpc), topics(['grpc']));
  }
  return reg;
}
