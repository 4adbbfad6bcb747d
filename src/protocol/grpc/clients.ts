// The shard's gRPC consumer client records (spec G13, G14, G16–G18): one per (group, topic,
// mode) and client — a stream client is identified by (ip, pid), a webhook client by its url.
// Each record is one member of the core consumer group (topic, group, mode); removing the
// record closes that membership, so core hands its unacked events to the other members.
// Webhook records are members through the shared webhook push engine (src/protocol/webhook).
// Records live in the shard that accepted the subscribe; a heartbeat reaches them when it uses
// the same connection, as the Java SDK does (one channel per client; docs/grpc.md).
import type { Client, Delivery, GroupMode } from '../../core/types.js';
import type { WebhookOptions } from '../webhook/pusher.js';
import { subscribeWebhook } from '../webhook/subscribe.js';
import type { SubscriptionType } from './checks.js';
import { cellOf, grpcMetrics } from './metrics.js';

export interface ClientInfo {
  readonly env: string;
  readonly idc: string;
  readonly sys: string;
  readonly ip: string;
  readonly pid: string;
  readonly group: string;
}

/** Where a record's deliveries go: a subscribeStream call (`deliver`), or a webhook url (the
 *  push engine delivers). */
export interface Sink {
  readonly kind: 'stream' | 'webhook';
  deliver?(record: ClientRecord, d: Delivery): void;
  /** The record was removed (unsubscribe, expiry, replaced by a newer stream). */
  removed(record: ClientRecord): void;
}

export interface ClientRecord {
  readonly key: string;
  readonly info: ClientInfo;
  readonly topic: string;
  readonly mode: GroupMode;
  type: SubscriptionType;
  readonly url: string | undefined;
  sink: Sink;
  lastUpTime: number;
  subscription: { close(): Promise<void> } | undefined;
  closed: boolean;
}

export interface ClientView {
  readonly kind: 'stream' | 'webhook';
  readonly group: string;
  readonly topic: string;
  readonly mode: GroupMode;
  readonly type: SubscriptionType;
  readonly ip: string;
  readonly pid: string;
  readonly sys: string;
  readonly idc: string;
  readonly url?: string;
  readonly lastUpTime: number;
}

/** M5 for a gRPC webhook subscriber: every push attempt is a message EventMesh→client, each
 *  accepted one an event delivered from storage. */
function webhookPushMetrics(ip: string): (ok: boolean) => void {
  const cell = cellOf(ip === '' ? undefined : ip);
  return (ok) => { cell.toClient++; if (ok) cell.fromMq++; };
}

export function recordKey(info: ClientInfo, topic: string, mode: GroupMode, url: string | undefined): string {
  // G16: webhook clients are deduplicated by (topic, url, mode), stream clients by (topic, ip, pid, mode).
  return [info.group, topic, mode, url === undefined ? `s\0${info.ip}\0${info.pid}` : `w\0${url}`].join('\0');
}

export class ClientRegistry {
  private readonly records = new Map<string, ClientRecord>();

  constructor(private readonly client: Client, private readonly webhook: { readonly options: WebhookOptions; readonly maxInflight: number },
    private readonly now: () => number = Date.now) {}

  /** Adds or refreshes a record (a re-subscribe refreshes the sink and lastUpTime, G16). */
  async add(info: ClientInfo, topic: string, mode: GroupMode, type: SubscriptionType, url: string | undefined, sink: Sink): Promise<ClientRecord> {
    const key = recordKey(info, topic, mode, url);
    const old = this.records.get(key);
    if (old !== undefined && !old.closed) {
      old.lastUpTime = this.now();
      old.type = type;
      if (old.sink !== sink) { const prev = old.sink; old.sink = sink; prev.removed(old); }
      return old;
    }
    const record: ClientRecord = { key, info, topic, mode, type, url, sink, lastUpTime: this.now(), subscription: undefined, closed: false };
    this.records.set(key, record);
    // M8 sub-topic gauge: one per record while it exists (remove() or the failure below undo it).
    grpcMetrics.subscribed(topic);
    try {
      record.subscription = url === undefined
        ? await this.client.subscribe({ topic, group: info.group, mode }, (d) => { if (!record.closed) record.sink.deliver?.(record, d); })
        // G26 pushes in upstream's EventMesh webhook form (code 105, form body; docs/grpc.md).
        : await subscribeWebhook(this.client, {
          topic, group: info.group, mode, url, format: 'eventmesh', sync: type === 'SYNC', maxInflight: this.webhook.maxInflight, onPush: webhookPushMetrics(info.ip),
        }, this.webhook.options);
    } catch (err) {
      if (this.records.get(key) === record) this.records.delete(key);
      if (!record.closed) grpcMetrics.unsubscribed(topic);
      record.closed = true;
      throw err;
    }
    if (record.closed) await record.subscription.close().catch(() => {});
    return record;
  }

  /** Closes the record's group membership; its unacked events go to the other members. */
  async remove(record: ClientRecord): Promise<void> {
    if (record.closed) return;
    record.closed = true;
    grpcMetrics.unsubscribed(record.topic);
    if (this.records.get(record.key) === record) this.records.delete(record.key);
    record.sink.removed(record);
    await record.subscription?.close().catch(() => {});
  }

  get(info: ClientInfo, topic: string, mode: GroupMode, url: string | undefined): ClientRecord | undefined {
    return this.records.get(recordKey(info, topic, mode, url));
  }

  /** G17: the records of (group, topic, ip, pid, sys) get lastUpTime = now (url ignored).
   *  Returns false when there is none. */
  heartbeat(info: ClientInfo, topic: string): boolean {
    let found = false;
    const now = this.now();
    for (const r of this.records.values()) {
      if (r.info.group === info.group && r.topic === topic && r.info.ip === info.ip && r.info.pid === info.pid && r.info.sys === info.sys) {
        r.lastUpTime = now;
        found = true;
      }
    }
    return found;
  }

  /** G18: removes the records not refreshed for `expiryMs` (only those: not the whole group as upstream). */
  async expire(expiryMs: number): Promise<number> {
    const limit = this.now() - expiryMs;
    const stale = [...this.records.values()].filter((r) => r.lastUpTime < limit);
    await Promise.all(stale.map((r) => this.remove(r)));
    return stale.length;
  }

  /** H51 DELETE /client/grpc: removes the webhook records pushing to `url`; returns how many. */
  async removeUrl(url: string): Promise<number> {
    const hit = [...this.records.values()].filter((r) => r.url === url);
    await Promise.all(hit.map((r) => this.remove(r)));
    return hit.length;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.records.values()].map((r) => this.remove(r)));
  }

  list(): ClientView[] {
    return [...this.records.values()].map((r) => ({
      kind: r.sink.kind, group: r.info.group, topic: r.topic, mode: r.mode, type: r.type,
      ip: r.info.ip, pid: r.info.pid, sys: r.info.sys, idc: r.info.idc,
      ...(r.url !== undefined ? { url: r.url } : {}), lastUpTime: r.lastUpTime,
    }));
  }
}
