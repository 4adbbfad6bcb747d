// Upstream's HTTP meter (spec M6) as a typed API the HTTP adapter calls; every instrument keeps
// plain numbers and becomes series only when collected. Names, types and units are upstream's,
// including its unit quirks (`_avg_tps` gauges that hold milliseconds, M6 "sic").
import { Counter, Gauge, type Registry } from 'prom-client';
import { HTTP_LABELS, httpLabels, serverIp, type Labels } from './labels.js';
import { Cost, PerSecond } from './rates.js';

const COUNTERS = {
  requestDiscarded: ['eventmesh_http_request_discard_num_ratio_total', 'Requests discarded (rate limit, overload, every error response)'],
  batchSend: ['eventmesh_http_batch_send_message_num_ratio_total', 'Batch events accepted'],
  batchSendFailed: ['eventmesh_http_batch_send_message_fail_num_ratio_total', 'Batch events that failed'],
  batchSendDiscarded: ['eventmesh_http_batch_send_message_discard_num_ratio_total', 'Batch events rejected by the rate limiter'],
  send: ['eventmesh_http_send_message_num_ratio_total', 'Single publishes'],
  sendFailed: ['eventmesh_http_send_message_fail_num_ratio_total', 'Single publishes that failed'],
  reply: ['eventmesh_http_reply_message_num_ratio_total', 'Request-reply replies sent'],
  replyFailed: ['eventmesh_http_reply_message_fail_num_ratio_total', 'Request-reply replies that failed'],
  push: ['eventmesh_http_push_message_num_ratio_total', 'Webhook push attempts (retries included)'],
  pushFailed: ['eventmesh_http_push_message_fail_num_ratio_total', 'Webhook push attempts that failed'],
} as const;
type CounterKey = keyof typeof COUNTERS;

export interface HttpQueueSizes { readonly batch: number; readonly send: number; readonly push: number; readonly retry: number }

export class HttpMetrics {
  private labels: Labels | undefined;
  private readonly n = Object.fromEntries(Object.keys(COUNTERS).map((k) => [k, 0])) as Record<CounterKey, number>;
  private readonly tps = { request: new PerSecond(), batch: new PerSecond(), send: new PerSecond(), push: new PerSecond() };
  private readonly cost = { request: new Cost(), decode: new Cost(), send: new Cost(), batch: new Cost(), reply: new Cost(), push: new Cost() };
  private queues: () => HttpQueueSizes = () => ({ batch: 0, send: 0, push: 0, retry: 0 });
  private timers: NodeJS.Timeout[] = [];

  /** The HTTP listener is up: labels (M4 HTTP set) and the 1 s / 30 s aggregation timers. */
  bind(scheme: 'http' | 'https', host: string, port: number, queueSizes?: () => HttpQueueSizes): void {
    this.labels = httpLabels(scheme, serverIp(host), port);
    if (queueSizes) this.queues = queueSizes;
    for (const t of this.timers) clearInterval(t);
    this.timers = [
      setInterval(() => { for (const t of Object.values(this.tps)) t.tick(); }, 1000),
      setInterval(() => { for (const c of Object.values(this.cost)) c.reset(); }, 30_000),
    ];
    for (const t of this.timers) t.unref();
  }

  /** One request answered (any path): request TPS and request→response time. */
  request(costMs: number): void { this.tps.request.add(); this.cost.request.add(costMs); }
  /** A request answered with an error or refused (M6 discard: rate limit, pool full, error response). */
  requestDiscarded(): void { this.n.requestDiscarded++; }
  bodyDecoded(ms: number): void { this.cost.decode.add(ms); }
  /** A single publish finished (send → storage ack). */
  sendMessage(ok: boolean, costMs: number): void {
    this.n.send++; this.tps.send.add();
    if (ok) this.cost.send.add(costMs); else this.n.sendFailed++;
  }
  /** A batch publish of `events` events finished. */
  batchSendMessage(events: number, ok: boolean, costMs: number): void {
    this.n.batchSend += events; this.tps.batch.add(events);
    if (ok) this.cost.batch.add(costMs); else this.n.batchSendFailed += events;
  }
  batchSendDiscarded(events: number): void { this.n.batchSendDiscarded += events; }
  replyMessage(ok: boolean, costMs: number): void {
    this.n.reply++;
    if (ok) this.cost.reply.add(costMs); else this.n.replyFailed++;
  }
  /** One webhook push attempt (retries count again) and its round-trip time. */
  pushMessage(ok: boolean, latencyMs: number): void {
    this.n.push++; this.tps.push.add(); this.cost.push.add(latencyMs);
    if (!ok) this.n.pushFailed++;
  }

  register(registry: Registry): void {
    const self = this;
    for (const [key, [name, help]] of Object.entries(COUNTERS) as [CounterKey, readonly [string, string]][]) {
      new Counter({
        name, help: `${help} (M6)`, labelNames: HTTP_LABELS, registers: [registry],
        collect() { this.reset(); if (self.labels && self.n[key] > 0) this.inc(self.labels, self.n[key]); },
      });
    }
    const failRate = (failed: number, total: number): number => (total === 0 ? 0 : Math.round((failed / total) * 10000) / 10000);
    // [name, help, aggregator across shards, value]
    const gauges: [string, string, 'sum' | 'max' | 'average', () => number][] = [
      ['eventmesh_http_body_decode_cost_avg_milliseconds', 'Average request body decode time', 'average', () => self.cost.decode.avg],
      ['eventmesh_http_request_tps_max_tps', 'Max requests per second over the window', 'sum', () => self.tps.request.max],
      ['eventmesh_http_request_tps_avg_tps', 'Average requests per second over the window', 'sum', () => self.tps.request.avg],
      ['eventmesh_http_request_cost_max_milliseconds', 'Max request to response time', 'max', () => self.cost.request.max],
      ['eventmesh_http_request_cost_avg_tps', 'Average request to response time (ms; upstream unit sic)', 'average', () => self.cost.request.avg],
      ['eventmesh_http_batch_send_message_tps_max_tps', 'Max batch events per second', 'sum', () => self.tps.batch.max],
      ['eventmesh_http_batch_send_message_tps_avg_tps', 'Average batch events per second', 'sum', () => self.tps.batch.avg],
      ['eventmesh_http_batch_send_message_fail_rate_percent', 'Batch fail ratio (0-1, upstream unit sic)', 'average', () => failRate(self.n.batchSendFailed, self.n.batchSend)],
      ['eventmesh_http_send_message_tps_max_tps', 'Max publishes per second', 'sum', () => self.tps.send.max],
      ['eventmesh_http_send_message_tps_avg_tps', 'Average publishes per second', 'sum', () => self.tps.send.avg],
      ['eventmesh_http_send_message_fail_rate_percent', 'Publish fail ratio (0-1; upstream reports the batch ratio here)', 'average', () => failRate(self.n.sendFailed, self.n.send)],
      ['eventmesh_http_push_message_tps_max_tps', 'Max webhook pushes per second', 'sum', () => self.tps.push.max],
      ['eventmesh_http_push_message_tps_avg_tps', 'Average webhook pushes per second', 'sum', () => self.tps.push.avg],
      ['eventmesh_http_push_message_fail_rate_percent', 'Webhook push fail ratio (0-1)', 'average', () => failRate(self.n.pushFailed, self.n.push)],
      ['eventmesh_http_push_latency_max_milliseconds', 'Max webhook round-trip', 'max', () => self.cost.push.max],
      ['eventmesh_http_push_latency_avg_milliseconds', 'Average webhook round-trip (defined but not exported upstream)', 'average', () => self.cost.push.avg],
      ['eventmesh_http_batch_message_queue_size_ratio', 'Batch publishes waiting to be handled', 'sum', () => self.queues().batch],
      ['eventmesh_http_send_message_queue_size_ratio', 'Publishes waiting to be handled', 'sum', () => self.queues().send],
      ['eventmesh_http_push_message_queue_size_ratio', 'Webhook pushes waiting to be sent', 'sum', () => self.queues().push],
      ['eventmesh_http_retry_queue_size_ratio', 'Webhook pushes waiting for a retry', 'sum', () => self.queues().retry],
      ['eventmesh_http_batch_send_message_cost_avg_milliseconds', 'Average batch send to storage time', 'average', () => self.cost.batch.avg],
      ['eventmesh_http_send_message_cost_avg_tps', 'Average send to storage time (ms; upstream unit sic)', 'average', () => self.cost.send.avg],
      ['eventmesh_http_reply_message_cost_avg_tps', 'Average reply time (ms; upstream unit sic)', 'average', () => self.cost.reply.avg],
    ];
    for (const [name, help, aggregator, value] of gauges) {
      new Gauge({
        name, help: `${help} (M6)`, labelNames: HTTP_LABELS, registers: [registry], aggregator,
        collect() { this.reset(); if (self.labels) this.set(self.labels, value()); },
      });
    }
  }
}
