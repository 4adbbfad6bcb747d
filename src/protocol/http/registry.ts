// Webhook subscriptions of the whole broker. A subscription request reaches one shard (the
// kernel spreads connections over the SO_REUSEPORT listeners) but pushes and listings must not
// depend on which one, and shards cannot call each other. So every create/delete is an event on
// the one-partition topic `__evmesh.subscriptions`, which every shard (and the admin API on the
// main thread) reads from the start with a group of its own: all hold the same list, in the
// same order, and it survives restarts with the durable log.
// Who pushes: CLUSTERING subscriptions have a member in every shard (core prefers members on
// the partition owner's shard, so pushes start where the events are); BROADCASTING ones one
// member, in the shard the id hashes to, so the URL still gets each event once.
import { randomUUID } from 'node:crypto';
import { EvmeshError } from '../../errors.js';
import { positiveHash } from '../../core/partitioner.js';
import type { Client, GroupMode, MeshEvent, Subscription } from '../../core/types.js';
import { threadMetrics } from '../../metrics/shard.js';
import type { WebhookOptions } from '../webhook/pusher.js';
import type { WebhookFormat } from '../webhook/push-request.js';
import { subscribeWebhook, type WebhookSubscription } from '../webhook/subscribe.js';

export const REGISTRY_TOPIC = '__evmesh.subscriptions';
/** M6: every webhook push attempt of an HTTP subscription, retries included. */
const httpPush = (ok: boolean, ms: number): void => threadMetrics.http.pushMessage(ok, ms);
const PUT = 'evmesh.subscription.put';
const DELETE = 'evmesh.subscription.delete';

export interface SubscriptionSpec {
  readonly id: string;
  readonly topic: string;
  readonly group: string;
  readonly mode: GroupMode;
  readonly url: string;
  readonly format: WebhookFormat;
  /** Where a new group starts (core StartPosition); default latest. */
  readonly from?: 'earliest' | 'latest';
  /** EventMesh SYNC subscription (H13 `type`): pushed with code 106. */
  readonly sync: boolean;
  /** Who created it: the evmesh REST API, EventMesh HTTP (H13/H33) or the admin API. */
  readonly origin: 'rest' | 'eventmesh' | 'admin';
  /** EventMesh client identity (H5 env, idc, sys, pid, ip) for the admin client list. */
  readonly client?: Readonly<Record<string, string>>;
  readonly createdAt: number;
}

function event(type: string, id: string, data: unknown): MeshEvent {
  return {
    attributes: { specversion: '1.0', id: randomUUID(), source: '/evmesh/subscriptions', type, subject: id, datacontenttype: 'application/json' },
    data: Buffer.from(JSON.stringify(data)),
  };
}

export async function publishPut(client: Client, spec: SubscriptionSpec): Promise<void> {
  await client.publish(REGISTRY_TOPIC, event(PUT, spec.id, spec));
}

export async function publishDelete(client: Client, id: string): Promise<void> {
  await client.publish(REGISTRY_TOPIC, event(DELETE, id, { id }));
}

/** Reads the registry topic into a Map (the admin API's copy uses only this part). */
export class RegistryReader {
  readonly specs = new Map<string, SubscriptionSpec>();
  private sub: Subscription | undefined;
  private readonly waiters = new Map<string, { present: boolean; resolve: () => void }[]>();
  /** Ids whose last put (or delete) has been fully applied here. */
  private readonly done = new Set<string>();
  private chain: Promise<void> = Promise.resolve();

  constructor(protected readonly client: Client, private readonly group: string) {}

  async start(): Promise<void> {
    await this.client.createTopic(REGISTRY_TOPIC, 1);
    this.sub = await this.client.subscribe({ topic: REGISTRY_TOPIC, group: this.group, from: 'earliest', replay: true }, (d) => {
      // In order: a delete must not overtake the (async) start of its put.
      this.chain = this.chain.then(() => this.apply(d.event)).finally(() => d.ack());
    });
  }

  /** Resolves once this reader applied the put (its member in this shard started) or the
   *  delete of `id` — after publishPut/publishDelete. */
  applied(id: string, present: boolean, timeoutMs = 10_000): Promise<void> {
    if (this.done.has(id) === present) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new EvmeshError('EVM_TIMEOUT', `subscription ${id} was not applied in ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiters.get(id) ?? [];
      list.push({ present, resolve: () => { clearTimeout(t); resolve(); } });
      this.waiters.set(id, list);
    });
  }

  private async apply(ev: MeshEvent): Promise<void> {
    let body: SubscriptionSpec;
    try {
      body = JSON.parse(Buffer.from(ev.data ?? new Uint8Array(0)).toString('utf8')) as SubscriptionSpec;
    } catch {
      return;
    }
    if (typeof body.id !== 'string') return;
    if (ev.attributes.type === PUT) {
      this.specs.set(body.id, body);
      await this.started(body);
      this.done.add(body.id);
    } else if (ev.attributes.type === DELETE) {
      this.specs.delete(body.id);
      await this.stopped(body.id);
      this.done.delete(body.id);
    }
    const list = this.waiters.get(body.id);
    if (list === undefined) return;
    const present = this.done.has(body.id);
    const left = list.filter((w) => { if (w.present !== present) return true; w.resolve(); return false; });
    if (left.length === 0) this.waiters.delete(body.id); else this.waiters.set(body.id, left);
  }

  protected async started(_spec: SubscriptionSpec): Promise<void> {}
  protected async stopped(_id: string): Promise<void> {}

  async close(): Promise<void> {
    await this.sub?.close().catch(() => {});
  }
}

/** A shard's copy of the registry that also runs this shard's webhook members. */
export class ShardRegistry extends RegistryReader {
  private readonly running = new Map<string, WebhookSubscription>();
  /** Subscriptions counted in evmesh_subscriptions by this shard: each once broker-wide, by
   *  the shard its id hashes to (CLUSTERING ones run in every shard). */
  private readonly counted = new Map<string, string>();

  constructor(client: Client, private readonly nodeId: number, private readonly shards: number, private readonly webhook: WebhookOptions,
    private readonly maxInflight: number, private readonly log: (line: string) => void) {
    super(client, `__evmesh.subscriptions.shard${nodeId}`);
  }

  private home(spec: SubscriptionSpec): boolean {
    return positiveHash(spec.id) % this.shards === this.nodeId;
  }

  private runsHere(spec: SubscriptionSpec): boolean {
    return spec.mode === 'CLUSTERING' || this.home(spec);
  }

  protected override async started(spec: SubscriptionSpec): Promise<void> {
    if (this.running.has(spec.id) || !this.runsHere(spec)) return;
    try {
      const sub = await subscribeWebhook(this.client, { ...spec, maxInflight: this.maxInflight, onPush: httpPush }, this.webhook);
      this.running.set(spec.id, sub);
      if (this.home(spec)) { this.counted.set(spec.id, spec.topic); threadMetrics.presence.subscribed('http', spec.topic, 1); }
    } catch (err) {
      this.log(`webhook subscription ${spec.id} (${spec.topic} → ${spec.url}) not started: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  protected override async stopped(id: string): Promise<void> {
    const sub = this.running.get(id);
    if (sub === undefined) return;
    this.running.delete(id);
    this.uncount(id);
    await sub.close().catch(() => {});
  }

  private uncount(id: string): void {
    const topic = this.counted.get(id);
    if (topic === undefined) return;
    this.counted.delete(id);
    threadMetrics.presence.subscribed('http', topic, -1);
  }

  /** Pushes waiting in this shard's members: queued, and waiting for a retry (M6 gauges). */
  queues(): { queued: number; retrying: number } {
    let queued = 0, retrying = 0;
    for (const s of this.running.values()) { queued += s.stats.queued; retrying += s.stats.retrying; }
    return { queued, retrying };
  }

  /** Push counters of this shard's members. */
  stats(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [id, s] of this.running) out[id] = { ...s.stats };
    return out;
  }

  override async close(): Promise<void> {
    await super.close();
    await Promise.all([...this.running.values()].map((s) => s.close().catch(() => {})));
    this.running.clear();
    for (const id of [...this.counted.keys()]) this.uncount(id);
  }
}
