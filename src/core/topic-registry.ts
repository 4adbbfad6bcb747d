// Topic metadata on every node. The controller (supervisor node) is the authority: it loads
// topics from its Storage at start, creates topics (explicitly, or automatically with
// defaultPartitions when autoCreateTopics), and broadcasts TOPIC_META to every node. Other
// nodes cache metas and ask the controller (TOPIC_REQUEST) for names they do not know.
import { EvmeshError, fromWire, toEvmeshError } from '../errors.js';
import type { Storage, TopicMeta } from '../storage/types.js';
import { TOPIC_NAME } from '../storage/types.js';
import {
  MSG, TOPIC_ALL, TOPIC_AUTO, TOPIC_CREATE, TOPIC_ENSURE, TOPIC_LOOKUP,
  type Message, type TopicRequestMode, type WireTopicMeta,
} from './messages.js';
import { positiveHash } from './partitioner.js';

export interface TopicInfo extends TopicMeta {
  /** positiveHash(name), for ownerOf. */
  readonly hash: number;
}

interface TopicWaiter { resolve(metas: WireTopicMeta[]): void; reject(err: EvmeshError): void; deadline: number }

export interface TopicRegistryOptions {
  readonly nodeId: number;
  readonly controllerId: number;
  readonly nodes: readonly number[];
  readonly storage: Storage;
  readonly autoCreate: boolean;
  readonly defaultPartitions: number;
  readonly requestTimeoutMs: number;
  readonly now: () => number;
  send(to: number, m: Message): void;
}

export function checkTopicName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !TOPIC_NAME.test(name)) {
    throw new EvmeshError('EVM_BAD_TOPIC', `invalid topic name ${JSON.stringify(name)}: 1-249 of [A-Za-z0-9._-], not "." or ".."`);
  }
}

export class TopicRegistry {
  private readonly metas = new Map<string, TopicInfo>();
  private readonly waiters = new Map<number, TopicWaiter>();
  private readonly creating = new Map<string, Promise<TopicInfo>>();
  /** Controller: topics being deleted; decisions on their names wait for the deletion. */
  private readonly deleting = new Map<string, Promise<void>>();
  private nextId = 1;
  private loaded: Promise<void> | undefined;

  constructor(private readonly o: TopicRegistryOptions) {}

  get isController(): boolean { return this.o.nodeId === this.o.controllerId; }

  get(name: string): TopicInfo | undefined {
    return this.metas.get(name);
  }

  all(): TopicInfo[] {
    return [...this.metas.values()];
  }

  private put(m: WireTopicMeta): TopicInfo {
    const existing = this.metas.get(m.name);
    if (existing && existing.partitions === m.partitions) return existing;
    const info: TopicInfo = { name: m.name, partitions: m.partitions, createdAt: m.createdAt, hash: positiveHash(m.name) };
    this.metas.set(m.name, info);
    return info;
  }

  /** Controller: loads every topic from storage. Others: fetches every meta from the controller. */
  start(): Promise<void> {
    if (this.isController) {
      this.loaded ??= this.o.storage.listTopics().then((list) => { for (const m of list) this.put(m); });
      return this.loaded;
    }
    return this.request('', TOPIC_ALL, 0).then((metas) => { for (const m of metas) this.put(m); });
  }

  /** Resolves a topic's meta. LOOKUP never creates; AUTO creates when autoCreateTopics;
   *  CREATE creates with `partitions` (EVM_TOPIC_EXISTS if it exists with another count);
   *  ENSURE creates with defaultPartitions if absent (dead-letter topics). */
  async resolve(name: string, mode: TopicRequestMode, partitions = 0): Promise<TopicInfo> {
    checkTopicName(name);
    const known = this.metas.get(name);
    if (known && (mode !== TOPIC_CREATE || partitions === 0 || partitions === known.partitions)) return known;
    if (this.isController) return this.decide(name, mode, partitions);
    const metas = await this.request(name, mode, partitions);
    const m = metas.find((x) => x.name === name);
    if (!m) throw new EvmeshError('EVM_UNKNOWN_TOPIC', `unknown topic ${name}`);
    return this.put(m);
  }

  private request(name: string, mode: TopicRequestMode, partitions: number): Promise<WireTopicMeta[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiters.set(id, { resolve, reject, deadline: this.o.now() + this.o.requestTimeoutMs });
      this.o.send(this.o.controllerId, { type: MSG.TOPIC_REQUEST, id, name, mode, partitions });
    });
  }

  /** Controller-side decision for a name. */
  private async decide(name: string, mode: TopicRequestMode, partitions: number): Promise<TopicInfo> {
    await this.start();
    // After a deletion the name is decided afresh (a publish may recreate it, empty).
    for (let d = this.deleting.get(name); d !== undefined; d = this.deleting.get(name)) await d;
    const known = this.metas.get(name);
    if (known) {
      if (mode === TOPIC_CREATE && partitions !== 0 && partitions !== known.partitions) {
        throw new EvmeshError('EVM_TOPIC_EXISTS', `topic ${name} exists with ${known.partitions} partitions, not ${partitions}`);
      }
      return known;
    }
    if (mode === TOPIC_LOOKUP || (mode === TOPIC_AUTO && !this.o.autoCreate)) {
      throw new EvmeshError('EVM_UNKNOWN_TOPIC', `unknown topic ${name} (auto-creation is ${this.o.autoCreate ? 'on' : 'off'})`);
    }
    let p = this.creating.get(name);
    if (!p) {
      const count = mode === TOPIC_CREATE && partitions > 0 ? partitions : this.o.defaultPartitions;
      p = this.o.storage.createTopic(name, count).then((meta) => {
        const info = this.put(meta);
        for (const n of this.o.nodes) if (n !== this.o.nodeId) this.o.send(n, { type: MSG.TOPIC_META, id: 0, metas: [meta] });
        return info;
      }).finally(() => this.creating.delete(name));
      this.creating.set(name, p);
    }
    const info = await p;
    if (mode === TOPIC_CREATE && partitions !== 0 && partitions !== info.partitions) {
      throw new EvmeshError('EVM_TOPIC_EXISTS', `topic ${name} exists with ${info.partitions} partitions, not ${partitions}`);
    }
    return info;
  }

  /** Not the controller: a round trip to the controller, after which everything it sent before
   *  has been applied here (per-pair FIFO), and every meta is fresh. The controller: nothing. */
  async sync(): Promise<void> {
    if (this.isController) return;
    for (const m of await this.request('', TOPIC_ALL, 0)) this.put(m);
  }

  /** This node stops knowing the topic (it is being deleted); a later use asks the controller. */
  forget(name: string): void {
    this.metas.delete(name);
  }

  /** Controller: deletes a topic. While `release` runs (every node lets go of the topic, Core
   *  releaseTopic) the name is unknown here and decisions on it wait; then storage deletes it.
   *  If `release` fails, nothing was deleted and the topic is known again. */
  async delete(name: string, release: () => Promise<void>): Promise<void> {
    checkTopicName(name);
    await this.start();
    const pending = this.deleting.get(name);
    if (pending !== undefined) throw new EvmeshError('EVM_CONFLICT', `topic ${name} is being deleted`);
    const known = this.metas.get(name);
    if (known === undefined) throw new EvmeshError('EVM_UNKNOWN_TOPIC', `unknown topic ${name}`);
    let done!: () => void;
    this.deleting.set(name, new Promise<void>((resolve) => { done = resolve; }));
    this.metas.delete(name);
    try {
      await release();
      await this.o.storage.deleteTopic(name);
    } catch (err) {
      this.metas.set(name, known);
      throw err;
    } finally {
      this.deleting.delete(name);
      done();
    }
  }

  /** Controller: answers a TOPIC_REQUEST. */
  async onRequest(from: number, m: Extract<Message, { type: typeof MSG.TOPIC_REQUEST }>): Promise<void> {
    try {
      let metas: WireTopicMeta[];
      if (m.mode === TOPIC_ALL) { await this.start(); metas = this.all().map(wireMeta); }
      else metas = [wireMeta(await this.decide(m.name, m.mode, m.partitions))];
      this.o.send(from, { type: MSG.TOPIC_META, id: m.id, metas });
    } catch (err) {
      this.o.send(from, { type: MSG.TOPIC_META, id: m.id, metas: [], error: toEvmeshError(err).toWire() });
    }
  }

  onMeta(m: Extract<Message, { type: typeof MSG.TOPIC_META }>): void {
    for (const meta of m.metas) this.put(meta);
    if (m.id === 0) return;
    const w = this.waiters.get(m.id);
    if (!w) return;
    this.waiters.delete(m.id);
    if (m.error) w.reject(fromWire(m.error)); else w.resolve(m.metas);
  }

  /** Controller: sends every meta to `node` (after it restarted). */
  announceTo(node: number): void {
    if (this.isController) this.o.send(node, { type: MSG.TOPIC_META, id: 0, metas: this.all().map(wireMeta) });
  }

  /** Fails pending requests (the controller restarted, or timeouts). */
  failPending(code: 'EVM_UNAVAILABLE' | 'EVM_SHUTTING_DOWN', why: string): void {
    const w = [...this.waiters.values()];
    this.waiters.clear();
    for (const x of w) x.reject(new EvmeshError(code, why));
  }

  expire(now: number): void {
    for (const [id, w] of this.waiters) {
      if (w.deadline <= now) {
        this.waiters.delete(id);
        w.reject(new EvmeshError('EVM_TIMEOUT', `the controller did not answer a topic request within ${this.o.requestTimeoutMs} ms`));
      }
    }
  }
}

export function wireMeta(t: TopicMeta): WireTopicMeta {
  return { name: t.name, partitions: t.partitions, createdAt: t.createdAt };
}

export { TOPIC_AUTO, TOPIC_CREATE, TOPIC_ENSURE, TOPIC_LOOKUP };
