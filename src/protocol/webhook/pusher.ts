// Webhook push engine (issue 5 item 4), protocol-neutral: it takes core Deliveries for one
// subscriber URL and POSTs them, with
//   - at most `concurrency` requests in flight per subscriber, over its own keep-alive,
//     pipelining connection pool (http1-pool.ts; a slow or dead webhook only fills its own
//     queue, bounded by core's credit maxInflight);
//   - retries with exponential backoff and jitter (a numeric Retry-After on 429/503 wins);
//   - after `maxAttempts` pushes the event goes to the dead-letter topic (the same template and
//     dlq* extensions as core's own dead letters) and is acked; the delivery stays unacked in
//     core until then, so a shard that dies mid-retry hands it to the group's other members.
import { deadLetterTopicName, DLQ_EXT } from '../../core/owner.js';
import { withAttributes } from '../../core/event.js';
import type { Client, Delivery } from '../../core/types.js';
import { Http1Pool } from './http1-pool.js';
import { judge, pushMessage, type Verdict, type WebhookFormat } from './push-request.js';

export interface WebhookOptions {
  /** Pushes in flight per subscriber URL (and keep-alive sockets in its pool). */
  readonly concurrency: number;
  /** A push that has no complete answer in this time failed (and is retried). */
  readonly timeoutMs: number;
  /** Pushes of one event before it is dead-lettered. */
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Dead-letter topic template ({topic}, {group}), normally config delivery.deadLetterTopic. */
  readonly deadLetterTopic: string;
}

export interface WebhookTarget {
  readonly url: URL;
  readonly format: WebhookFormat;
  /** Consumer group, for the dead-letter topic name. */
  readonly group: string;
  /** EventMesh SYNC subscriptions push with code 106 (H40). */
  readonly sync?: boolean;
  /** Every push attempt, retries included, and its round-trip: the subscribing protocol's
   *  metrics (HTTP M6 push counters, gRPC M5 cells). */
  readonly onPush?: (ok: boolean, latencyMs: number) => void;
}

export interface WebhookStats {
  pushed: number;
  retried: number;
  failed: number;
  dropped: number;
  deadLettered: number;
  queued: number;
  inflight: number;
  /** Events waiting for their backoff before the next push (M6 retry queue). */
  retrying: number;
}

interface Job { delivery: Delivery; tries: number }

/** Backoff before push number `tries + 1`: base·2^(tries-1) capped at max, "equal jitter"
 *  (half fixed, half random) so retries of many events spread out. */
export function backoffMs(tries: number, baseMs: number, maxMs: number): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.max(0, tries - 1));
  return d / 2 + Math.random() * (d / 2);
}

export class WebhookPusher {
  readonly stats: WebhookStats = { pushed: 0, retried: 0, failed: 0, dropped: 0, deadLettered: 0, queued: 0, inflight: 0, retrying: 0 };
  private readonly pool: Http1Pool;
  private readonly queue: Job[] = [];
  /** Redeliveries of an event already being retried here are ignored (core's ack timeout is
   *  longer than the retries, see ackTimeoutFor; this covers a re-join). */
  private readonly retrying = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly client: Client, private readonly target: WebhookTarget, private readonly o: WebhookOptions) {
    this.pool = new Http1Pool(target.url, connectionsFor(o.concurrency));
  }

  deliver(delivery: Delivery): void {
    if (this.closed) return; // unacked: core hands it to another member
    if (delivery.attempt > 1 && this.retrying.has(key(delivery))) return;
    this.queue.push({ delivery, tries: delivery.attempt - 1 });
    this.pump();
  }

  /** Stops pushing; queued and retrying events stay unacked in core (redelivered elsewhere). */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.stats.retrying = 0;
    this.queue.length = 0;
    this.pool.close();
  }

  private pump(): void {
    while (!this.closed && this.stats.inflight < this.o.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.stats.inflight++;
      this.push(job);
    }
    this.stats.queued = this.queue.length;
  }

  private push(job: Job): void {
    job.tries++;
    const d = job.delivery;
    let msg;
    try {
      msg = pushMessage(this.target.format, d.topic, d.event, this.target.sync);
    } catch {
      this.finish(job, 'retry', undefined);
      return;
    }
    const body = typeof msg.body === 'string' ? Buffer.from(msg.body) : msg.body;
    const t0 = performance.now();
    const onPush = this.target.onPush;
    const pushed = (verdict: Verdict): Verdict => { onPush?.(verdict !== 'retry', performance.now() - t0); return verdict; };
    // A header value that cannot be sent (e.g. a control character in a datacontenttype) fails
    // like a refused push, so such an event ends in the dead-letter topic.
    this.pool.post(msg.headers, body, this.o.timeoutMs).then(
      (res) => this.finish(job, pushed(judge(this.target.format, res.status, res.body.toString('utf8'))), retryAfter(res.status, res.headers['retry-after'])),
      () => this.finish(job, pushed('retry'), undefined),
    );
  }

  private finish(job: Job, verdict: Verdict, retryAfterMs: number | undefined): void {
    this.stats.inflight--;
    const d = job.delivery;
    if (!this.closed) {
      if (verdict === 'done') { this.stats.pushed++; this.settled(d); d.ack(); }
      else if (verdict === 'dropped') { this.stats.dropped++; this.settled(d); d.ack(); }
      else {
        this.stats.failed++;
        if (job.tries >= this.o.maxAttempts) this.deadLetter(d, job.tries);
        else {
          this.stats.retried++;
          this.retrying.add(key(d));
          const t = setTimeout(() => { this.timers.delete(t); this.stats.retrying = this.timers.size; if (!this.closed) { this.queue.push(job); this.pump(); } },
            retryAfterMs ?? backoffMs(job.tries, this.o.backoffBaseMs, this.o.backoffMaxMs));
          this.timers.add(t);
          this.stats.retrying = this.timers.size;
        }
      }
    }
    this.pump();
  }

  private settled(d: Delivery): void {
    if (this.retrying.size > 0) this.retrying.delete(key(d));
  }

  private deadLetter(d: Delivery, attempts: number): void {
    const topic = deadLetterTopicName(this.o.deadLetterTopic, d.topic, this.target.group);
    const ev = withAttributes(d.event, {
      [DLQ_EXT.topic]: d.topic, [DLQ_EXT.partition]: d.partition, [DLQ_EXT.offset]: String(d.offset),
      [DLQ_EXT.group]: this.target.group, [DLQ_EXT.attempts]: attempts, [DLQ_EXT.reason]: 'webhook',
    });
    // A failed dead-letter publish leaves the event unacked: core redelivers it later.
    this.client.publish(topic, ev).then(() => { this.stats.deadLettered++; this.settled(d); d.ack(); }, () => {});
  }
}

/** Keep-alive sockets per subscriber and shard: a quarter of the concurrency, so pushes beyond
 *  them are pipelined (up to ~4 deep) and written together. */
export function connectionsFor(concurrency: number): number {
  return Math.max(1, Math.ceil(concurrency / 4));
}

function key(d: Delivery): string {
  return `${d.topic}/${d.partition}/${d.offset}`;
}

/** Retry-After in seconds (RFC 9110 §10.2.3) on 429/503; HTTP dates are not honoured. */
function retryAfter(status: number, v: string | undefined): number | undefined {
  if (status !== 429 && status !== 503) return undefined;
  return typeof v === 'string' && /^\d{1,6}$/.test(v) ? Number(v) * 1000 : undefined;
}

/** Core's ack timeout for a webhook member: longer than every retry of an event (so core does
 *  not redeliver what the pusher still retries) plus the queue ahead of it. */
export function ackTimeoutFor(o: WebhookOptions, maxInflight: number): number {
  const retries = o.maxAttempts * (o.timeoutMs + o.backoffMaxMs);
  const queue = Math.ceil(maxInflight / o.concurrency) * o.timeoutMs;
  return Math.min(24 * 3_600_000, retries + queue);
}
