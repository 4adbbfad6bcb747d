// Per-phase measurements next to a scenario's own counts: CPU and RSS of this process while the
// phase runs (an in-process broker shares this process with the load generator, so these are
// broker + load generator), and the broker's /metrics scraped before and after, reported in
// EventMesh's metric terms (spec M5) so that bench and metrics endpoint can be compared.
import type { Row } from './report.js';
import { fetchText, parseExposition, sum, type Sample } from './scrape.js';

export interface Usage {
  readonly seconds: number;
  /** CPU seconds used per wall second (1 = one core busy). */
  readonly cpuCores: number;
  readonly maxRssMiB: number;
}

export async function withUsage<T>(fn: () => Promise<T>): Promise<{ value: T; usage: Usage }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let maxRss = process.memoryUsage.rss();
  const timer = setInterval(() => { maxRss = Math.max(maxRss, process.memoryUsage.rss()); }, 100);
  try {
    const value = await fn();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    maxRss = Math.max(maxRss, process.memoryUsage.rss());
    return { value, usage: { seconds, cpuCores: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100) / 100, maxRssMiB: Math.round(maxRss / 1048576) } };
  } finally {
    clearInterval(timer);
  }
}

/** The counters a bench phase is compared with (increase over the phase). */
export const COMPARED = {
  /** M5 eventmesh → storage: publishes acknowledged (EventMesh TCP, binary, gRPC). */
  toStorage: 'eventmesh_general_eventmesh_mq_message_num_ratio_total',
  /** M5 storage → eventmesh: events pushed to protocol clients. */
  fromStorage: 'eventmesh_general_mq_eventmesh_message_num_ratio_total',
  clientFrames: 'eventmesh_general_client_eventmesh_message_num_ratio_total',
  /** evmesh core: every publish acknowledged, in-process clients included. */
  corePublished: 'evmesh_core_published_events_total',
  coreDelivered: 'evmesh_core_deliveries_total',
  /** M6 HTTP (HTTP never counts in the general counters, M5): single publishes, their failures,
   *  batch events accepted, webhook push attempts and their failures. */
  httpSend: 'eventmesh_http_send_message_num_ratio_total',
  httpSendFailed: 'eventmesh_http_send_message_fail_num_ratio_total',
  httpBatch: 'eventmesh_http_batch_send_message_num_ratio_total',
  httpPush: 'eventmesh_http_push_message_num_ratio_total',
  httpPushFailed: 'eventmesh_http_push_message_fail_num_ratio_total',
} as const;

export type MetricsDelta = { -readonly [K in keyof typeof COMPARED]: number } & { seconds: number; cpuSeconds: number; rssMiB: number };

function delta(before: Sample[], after: Sample[], seconds: number): MetricsDelta {
  const d = { seconds } as MetricsDelta;
  for (const [k, name] of Object.entries(COMPARED) as [keyof typeof COMPARED, string][]) d[k] = sum(after, name) - sum(before, name);
  d.cpuSeconds = Math.round((sum(after, 'process_cpu_seconds_total') - sum(before, 'process_cpu_seconds_total')) * 100) / 100;
  d.rssMiB = Math.round(sum(after, 'process_resident_memory_bytes') / 1048576);
  return d;
}

/** Runs `fn` between two scrapes of `metricsUrl` (…/metrics); without a URL, or when the
 *  endpoint does not answer, `metrics` is undefined and `metricsError` says why. */
export async function withScrape<T>(metricsUrl: string | undefined, fn: () => Promise<T>): Promise<{ value: T; metrics?: MetricsDelta; metricsError?: string }> {
  if (metricsUrl === undefined) return { value: await fn(), metricsError: 'no metrics endpoint' };
  let before: Sample[] | undefined;
  let metricsError: string | undefined;
  try { before = parseExposition(await fetchText(metricsUrl)); } catch (err) { metricsError = String(err); }
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  if (before === undefined) return { value, metricsError: metricsError! };
  try {
    return { value, metrics: delta(before, parseExposition(await fetchText(metricsUrl)), seconds) };
  } catch (err) {
    return { value, metricsError: String(err) };
  }
}

/** |bench − metrics| / bench: how far the endpoint's count is from the bench's own. */
export function disagreement(bench: number, metrics: number): number {
  return bench === 0 ? (metrics === 0 ? 0 : 1) : Math.abs(bench - metrics) / bench;
}

/** CPU and RSS rows of a publish phase run in this process (broker + load generator). */
export function publishUsageRows(usage: Usage): Row[] {
  return [
    { metric: 'CPU during publish (broker + load, this process)', value: usage.cpuCores, unit: 'cores' },
    { metric: 'max RSS during publish (broker + load, this process)', value: usage.maxRssMiB, unit: 'MiB' },
  ];
}

/** The M5 EventMesh → storage counter over a publish phase next to the bench's own count of acked
 *  events (target: within 1 %); `tps` adds upstream's TPS view of the same delta. */
export function storageAgreementRows(events: number, metrics: MetricsDelta | undefined, { tps = false } = {}): Row[] {
  if (metrics === undefined) return [];
  return [
    { metric: '/metrics eventmesh_general_eventmesh_mq_message_num Δ', value: metrics.toStorage, unit: 'events' },
    ...(tps ? [{ metric: '/metrics eventmesh→mq TPS (Δ / phase time)', value: metrics.toStorage / metrics.seconds, unit: 'events/s' }] : []),
    { metric: 'bench vs /metrics disagreement', value: disagreement(events, metrics.toStorage), unit: 'ratio', target: { op: '<=', value: 0.01 } },
  ];
}
