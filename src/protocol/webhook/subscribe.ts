// A webhook subscriber as one core group member: the entry point other protocols use (HTTP
// subscriptions, EventMesh HTTP SUBSCRIBE H13, gRPC webhook subscribe G13).
import type { Client, GroupMode } from '../../core/types.js';
import { ackTimeoutFor, WebhookPusher, type WebhookOptions, type WebhookStats } from './pusher.js';
import type { WebhookFormat } from './push-request.js';
import { validateWebhookUrl } from './url.js';

export interface WebhookSubscribeOptions {
  readonly topic: string;
  readonly group: string;
  readonly mode?: GroupMode;
  /** Where a new group starts reading (default latest). */
  readonly from?: 'earliest' | 'latest';
  readonly url: string;
  readonly format: WebhookFormat;
  readonly sync?: boolean;
  /** Core credit for this member: events queued or in flight to the webhook. */
  readonly maxInflight: number;
  /** Each push attempt (pusher.ts WebhookTarget.onPush). */
  readonly onPush?: (ok: boolean, latencyMs: number) => void;
}

export interface WebhookSubscription {
  readonly stats: WebhookStats;
  close(): Promise<void>;
}

export async function subscribeWebhook(client: Client, s: WebhookSubscribeOptions, o: WebhookOptions): Promise<WebhookSubscription> {
  const url = validateWebhookUrl(s.url);
  const pusher = new WebhookPusher(client, { url, format: s.format, group: s.group, ...(s.sync ? { sync: true } : {}), ...(s.onPush ? { onPush: s.onPush } : {}) }, o);
  let sub;
  try {
    sub = await client.subscribe({
      topic: s.topic, group: s.group, ...(s.mode === undefined ? {} : { mode: s.mode }), ...(s.from === undefined ? {} : { from: s.from }),
      maxInflight: s.maxInflight, ackTimeoutMs: ackTimeoutFor(o, s.maxInflight),
      // Retries and dead-lettering are the pusher's; core's attempts are only the safety net
      // for a member that went away.
      maxAttempts: o.maxAttempts + 1,
    }, (d) => pusher.deliver(d));
  } catch (err) {
    pusher.close();
    throw err;
  }
  return {
    stats: pusher.stats,
    async close() {
      pusher.close();
      await sub.close();
    },
  };
}
