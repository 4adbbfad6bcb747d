// Core: the broker's brain on one node (a shard 0..shards-1 or the controller = node `shards`).
// No threads, no sockets: it talks to the other nodes only through the Mesh and to data only
// through its Storage. Routing: publishes go to the partition's owner shard (publisher.ts),
// subscriptions join on every owner of their topic (subscriber.ts ↔ owner.ts), deliveries and
// acks flow between owner and the member's home node, replies go straight to the requester.
import { EvmeshError, toEvmeshError } from '../errors.js';
import { publishSpans, tracingOn } from '../metrics/tracing.js';
import type { Storage, TopicMeta } from '../storage/types.js';
import { ByteWriter } from './bytes.js';
import { decodeEvent, encodeEvent, encodedSize } from './codec.js';
import { validateEvent, withAttributes } from './event.js';
import { decodeMessage, encodeMessage, MSG, type MemberSpec, type Message } from './messages.js';
import { PartitionOwner, type GroupLag } from './owner.js';
import { ownerOf, Partitioner } from './partitioner.js';
import { Publisher } from './publisher.js';
import { CORRELATION_ID, parseReplyTo, REPLY_TO, replyToAddress, RequestReply } from './request-reply.js';
import { LocalMember, Subscriber } from './subscriber.js';
import { checkTopicName, TOPIC_AUTO, TOPIC_CREATE, TOPIC_ENSURE, type TopicInfo, TopicRegistry } from './topic-registry.js';
import type { Client, Delivery, MeshEvent, Mesh, PublishResult, StartPosition, SubscribeOptions, Subscription } from './types.js';

export interface CoreOptions {
  readonly mesh: Mesh;
  readonly storage: Storage;
  /** Number of shard nodes (ids 0..shards-1); the controller is node `shards`. */
  readonly shards: number;
  readonly defaultPartitions: number;
  readonly autoCreateTopics: boolean;
  /** Defaults for SubscribeOptions.ackTimeoutMs / maxAttempts / maxInflight. */
  readonly ackTimeoutMs: number;
  readonly maxAttempts: number;
  readonly maxInflight: number;
  /** Dead-letter topic template; `{topic}` and `{group}` are substituted. */
  readonly deadLetterTopic: string;
  /** Timeout of node-to-node requests (publish acks, topic requests, joins/leaves). */
  readonly requestTimeoutMs: number;
  /** Limit on one encoded event (codec.ts size: attributes + data). */
  readonly maxEventBytes: number;
  /** Limit on one publishBatch call and on one storage read for delivery. */
  readonly maxBatchEvents: number;
  /** Every partition lives on the controller (storage=kafka: its clients run on the main thread
   *  only); the shards own none. Default false. */
  readonly partitionsOnController?: boolean;
  /** See OwnerOptions.refreshMs (storage shared with other writers). Default: never. */
  readonly boundsRefreshMs?: number;
  /** Consumer offsets are persisted at most this often (and on drain/close/member leave). Default 1000. */
  readonly commitIntervalMs?: number;
  /** Injectable clock (ms) for timeouts and append timestamps. Default Date.now. */
  readonly now?: () => number;
  /** Bound on events published from this node and not yet acknowledged. Default 100 000. */
  readonly maxPendingPublishes?: number;
  /** Period of the timer that checks ack/request timeouts. Default clamp(min timeout / 10, 5, 100). */
  readonly tickMs?: number;
  /** Records kept per owned partition in the tail cache for live cursors (at least the latest
   *  append). Default 512: with 4096 every cached view outlived several scavenges and was
   *  promoted (docs/core.md "Reads"). */
  readonly tailCacheRecords?: number;
  /** Background errors (a failed read, a failed commit). Default: console.error. */
  readonly onError?: (err: unknown, where: string) => void;
}

export interface CoreStats {
  readonly nodeId: number;
  /** Events published by this node's clients and acknowledged by their owner. */
  readonly published: number;
  /** Events appended to partitions this node owns. */
  readonly appended: number;
  /** Deliveries sent by this node as owner (first deliveries + redeliveries). */
  readonly delivered: number;
  readonly redelivered: number;
  readonly acked: number;
  readonly deadLettered: number;
  /** Deliveries from this node's partitions not yet acked. */
  readonly inflight: number;
  /** Events published from this node awaiting their owner's ack. */
  readonly pendingPublishes: number;
  /** Deliveries handed to this node's subscription handlers. */
  readonly received: number;
  readonly pendingRequests: number;
  readonly lateReplies: number;
  readonly corruptEvents: number;
  readonly badMessages: number;
  readonly groups: readonly GroupLag[];
}

const GROUP_MODES = new Set(['CLUSTERING', 'BROADCASTING']);

function positiveInt(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new EvmeshError('EVM_BAD_REQUEST', `${name} must be an integer >= 1, got ${String(v)}`);
  return v;
}

function checkStart(from: unknown): StartPosition {
  if (from === undefined) return 'latest';
  if (from === 'latest' || from === 'earliest') return from;
  if (from && typeof from === 'object') {
    const f = from as { offset?: unknown; timestamp?: unknown };
    if (typeof f.offset === 'number' && Number.isSafeInteger(f.offset) && f.offset >= 0) return { offset: f.offset };
    if (typeof f.timestamp === 'number' && Number.isFinite(f.timestamp)) return { timestamp: f.timestamp };
  }
  throw new EvmeshError('EVM_BAD_REQUEST', `invalid start position ${JSON.stringify(from)}: 'latest' | 'earliest' | {offset} | {timestamp}`);
}

export class Core {
  readonly nodeId: number;
  readonly controllerId: number;
  private readonly o: CoreOptions;
  private readonly now: () => number;
  private readonly topics: TopicRegistry;
  private readonly publisher: Publisher;
  private readonly owner: PartitionOwner;
  private readonly subscriber: Subscriber;
  private readonly rr: RequestReply;
  private readonly partitioner: Partitioner;
  private readonly timer: NodeJS.Timeout;
  private readonly commitIntervalMs: number;
  private lastCommit: number;
  private published = 0;
  private badMessages = 0;
  private readonly subCounters = { received: 0, corrupt: 0 };
  private nextMember = 1;
  private readonly writer = new ByteWriter(64 * 1024);
  private readonly incarnation = Math.floor(Math.random() * 0xffffffff).toString(36);
  private draining = false;
  /** Client calls (publish/publishBatch) accepted before drain started and not finished. */
  private readonly calls = new Set<Promise<unknown>>();
  private closed = false;
  private readonly onError: (err: unknown, where: string) => void;

  constructor(options: CoreOptions) {
    this.o = options;
    const { mesh, shards } = options;
    if (!Number.isInteger(shards) || shards < 1) throw new EvmeshError('EVM_BAD_CONFIG', `shards must be an integer >= 1, got ${shards}`);
    this.nodeId = mesh.nodeId;
    this.controllerId = shards;
    this.partitioner = new Partitioner(this.nodeId, shards, options.partitionsOnController === true);
    this.now = options.now ?? Date.now;
    this.commitIntervalMs = options.commitIntervalMs ?? 1000;
    this.lastCommit = this.now();
    this.onError = options.onError ?? ((err, where) => console.error(`[evmesh core ${this.nodeId}] ${where}:`, err));
    const send = (to: number, m: Message): void => this.send(to, m);
    this.topics = new TopicRegistry({
      nodeId: this.nodeId, controllerId: this.controllerId, nodes: mesh.nodes, storage: options.storage,
      autoCreate: options.autoCreateTopics, defaultPartitions: options.defaultPartitions,
      requestTimeoutMs: options.requestTimeoutMs, now: this.now, send,
    });
    this.owner = new PartitionOwner({
      nodeId: this.nodeId, shards, onController: options.partitionsOnController === true, refreshMs: options.boundsRefreshMs,
      storage: options.storage, topics: this.topics, now: this.now,
      maxBatchEvents: options.maxBatchEvents, tailCacheRecords: options.tailCacheRecords ?? 512,
      deadLetterTopic: options.deadLetterTopic, send, onError: this.onError,
      publishDeadLetter: (topic, ev) => this.publishInternal(topic, ev),
    });
    this.publisher = new Publisher({
      nodeId: this.nodeId, shards, onController: options.partitionsOnController === true, maxPending: options.maxPendingPublishes ?? 100_000,
      requestTimeoutMs: options.requestTimeoutMs, now: this.now,
      sendBytes: (to, message) => { if (!this.closed) this.o.mesh.send(to, message); },
      appendLocal: (info, p, values) => this.owner.append(info, p, values),
    });
    this.subscriber = new Subscriber({
      nodeId: this.nodeId, requestTimeoutMs: options.requestTimeoutMs, now: this.now, send,
      onError: this.onError, counters: this.subCounters,
    });
    this.rr = new RequestReply(this.now);
    mesh.onMessage((from, bytes) => this.receive(from, bytes));
    const tick = options.tickMs ?? Math.min(100, Math.max(5, Math.floor(Math.min(options.ackTimeoutMs, options.requestTimeoutMs) / 10)));
    this.timer = setInterval(() => this.tick(), tick);
    this.timer.unref();
  }

  get isController(): boolean { return this.nodeId === this.controllerId; }

  /** Controller: loads topics from storage. Shards: fetch every topic meta from the controller. */
  start(): Promise<void> {
    return this.topics.start();
  }

  // ---- mesh ----

  private send(to: number, m: Message): void {
    if (this.closed) return;
    if (to === this.nodeId) { queueMicrotask(() => this.handle(to, m)); return; }
    // One reused buffer for every outgoing message: Mesh.send copies before it returns.
    this.o.mesh.send(to, encodeMessage(m, this.writer));
  }

  private receive(from: number, bytes: Uint8Array): void {
    if (this.closed) return;
    let m: Message;
    try {
      // The Mesh hands over ownership of the bytes (types.ts), so events decoded from them may
      // be retained (tail cache, handlers) without a copy.
      m = decodeMessage(bytes);
    } catch (err) {
      this.badMessages++;
      this.onError(err, `undecodable message from node ${from}`);
      return;
    }
    this.handle(from, m);
  }

  private handle(from: number, m: Message): void {
    if (this.closed) return;
    switch (m.type) {
      case MSG.PUBLISH: void this.owner.onPublish(from, m); break;
      case MSG.PUBLISH_ACK: this.publisher.onAck(m); break;
      case MSG.TOPIC_REQUEST:
        if (this.isController) void this.topics.onRequest(from, m);
        else this.send(from, { type: MSG.TOPIC_META, id: m.id, metas: [], error: { code: 'EVM_INTERNAL', message: `node ${this.nodeId} is not the controller` } });
        break;
      case MSG.TOPIC_META: this.topics.onMeta(m); break;
      case MSG.JOIN: void this.owner.onJoin(from, m.member); break;
      case MSG.LEAVE: this.owner.onLeave(from, m.memberId); break;
      case MSG.MEMBER_ACK: this.subscriber.onMemberAck(from, m); break;
      case MSG.DELIVER: this.subscriber.onDeliver(from, m); break;
      case MSG.ACK: this.owner.onAck(m.items); break;
      case MSG.REJECT: this.owner.onReject(m); break;
      case MSG.REPLY: { const bytes = m.event; this.rr.onReply(m.correlationId, () => decodeEvent(bytes)); break; }
    }
  }

  private tick(): void {
    if (this.closed) return;
    const now = this.now();
    this.owner.tick(now);
    this.publisher.expire(now);
    this.topics.expire(now);
    this.subscriber.expire(now);
    this.rr.expire(now);
    if (now - this.lastCommit >= this.commitIntervalMs) {
      this.lastCommit = now;
      this.owner.flushCommits().catch((err) => this.onError(err, 'commit'));
    }
  }

  // ---- publish ----

  /** Encoded size of a validated event; EVM_TOO_LARGE above maxEventBytes. */
  private sizeOf(event: MeshEvent): number {
    const size = encodedSize(event), limit = this.o.maxEventBytes;
    if (size > limit) throw new EvmeshError('EVM_TOO_LARGE', `event is ${size} bytes encoded, the limit is ${limit}`, { size, limit });
    return size;
  }

  private checkOpen(): void {
    if (this.closed || this.draining) throw new EvmeshError('EVM_SHUTTING_DOWN', `node ${this.nodeId} is shutting down`);
  }

  /** Tracks an accepted client call so drain() waits for it. */
  private track<T>(p: Promise<T>): Promise<T> {
    this.calls.add(p);
    const done = (): void => { this.calls.delete(p); };
    p.then(done, done);
    return p;
  }

  publish(topic: string, ev: MeshEvent): Promise<PublishResult> {
    try { this.checkOpen(); } catch (err) { return Promise.reject(err); }
    return this.track(this.doPublish(topic, ev));
  }

  publishBatch(topic: string, events: readonly MeshEvent[]): Promise<PublishResult[]> {
    try { this.checkOpen(); } catch (err) { return Promise.reject(err); }
    return this.track(this.doPublishBatch(topic, events));
  }

  private async doPublish(topic: string, ev: MeshEvent): Promise<PublishResult> {
    const [r] = await this.doPublishBatch(topic, [ev]);
    return r!;
  }

  private async doPublishBatch(topic: string, events: readonly MeshEvent[]): Promise<PublishResult[]> {
    checkTopicName(topic);
    if (!Array.isArray(events)) throw new EvmeshError('EVM_BAD_REQUEST', 'events must be an array');
    const n = events.length;
    if (n > this.o.maxBatchEvents) {
      throw new EvmeshError('EVM_TOO_LARGE', `batch of ${n} events exceeds maxBatchEvents ${this.o.maxBatchEvents}`);
    }
    if (n === 0) return [];
    // Every event is checked before any is queued: a bad event fails the whole batch.
    const valid: MeshEvent[] = new Array(n);
    const sizes: number[] = new Array(n);
    this.checkAll(events, valid, sizes);
    let info = this.topics.get(topic);
    if (info === undefined) {
      info = await this.topics.resolve(topic, TOPIC_AUTO);
      // The caller may have changed the events meanwhile: the publisher encodes them right
      // below (synchronously), and must see exactly what was validated.
      this.checkAll(events, valid, sizes);
    }
    const partitions: number[] = new Array(n);
    const unkeyed = this.unkeyedPartition(info);
    for (let i = 0; i < n; i++) partitions[i] = this.partitioner.partitionOf(topic, info.partitions, valid[i]!, unkeyed);
    // Tracing (src/metrics/tracing.ts): each event gets its publish span's traceparent.
    const spans = tracingOn ? publishSpans(topic, valid) : undefined;
    if (spans !== undefined) for (let i = 0; i < n; i++) { valid[i] = spans.events[i]!; sizes[i] = encodedSize(valid[i]!); }
    let offsets: number[];
    try {
      offsets = await this.publisher.publish(info, valid, sizes, partitions);
    } catch (err) {
      spans?.end(err);
      throw err;
    }
    spans?.end();
    this.published += n;
    const out: PublishResult[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = { topic, partition: partitions[i]!, offset: offsets[i]! };
    return out;
  }

  /** The partition of one publish call's unkeyed events, chosen on first use (partitioner.ts). */
  private unkeyedPartition(info: TopicInfo): () => number {
    let p = -1;
    return () => (p >= 0 ? p : (p = this.partitioner.nextUnkeyed(info.name, info.partitions, info.hash)));
  }

  private checkAll(events: readonly MeshEvent[], valid: MeshEvent[], sizes: number[]): void {
    for (let i = 0; i < events.length; i++) {
      const event = validateEvent(events[i]);
      sizes[i] = this.sizeOf(event);
      valid[i] = event;
    }
  }

  /** Internal publish (dead letters): no size limit, creates the topic if needed, allowed while draining. */
  private async publishInternal(topic: string, ev: MeshEvent): Promise<PublishResult> {
    if (this.closed) throw new EvmeshError('EVM_SHUTTING_DOWN', `node ${this.nodeId} is closed`);
    const info = this.topics.get(topic) ?? await this.topics.resolve(topic, TOPIC_ENSURE);
    const partition = this.partitioner.partitionOf(topic, info.partitions, ev, this.unkeyedPartition(info));
    const [offset] = await this.publisher.publish(info, [ev], [encodedSize(ev)], [partition]);
    return { topic, partition, offset: offset! };
  }

  // ---- subscribe ----

  async subscribe(options: SubscribeOptions, onDelivery: (d: Delivery) => void): Promise<Subscription> {
    if (this.closed) throw new EvmeshError('EVM_SHUTTING_DOWN', `node ${this.nodeId} is closed`);
    if (!options || typeof options !== 'object') throw new EvmeshError('EVM_BAD_REQUEST', 'subscribe options must be an object');
    checkTopicName(options.topic);
    if (typeof options.group !== 'string' || options.group.length === 0 || options.group.length > 249) {
      throw new EvmeshError('EVM_BAD_REQUEST', 'group must be a non-empty string of at most 249 characters');
    }
    if (typeof onDelivery !== 'function') throw new EvmeshError('EVM_BAD_REQUEST', 'onDelivery must be a function');
    const mode = options.mode ?? 'CLUSTERING';
    if (!GROUP_MODES.has(mode)) throw new EvmeshError('EVM_BAD_REQUEST', `mode must be CLUSTERING or BROADCASTING, got ${String(mode)}`);
    const spec: MemberSpec = {
      memberId: `${this.nodeId}.${this.incarnation}.${this.nextMember++}`,
      topic: options.topic,
      group: options.group,
      mode,
      from: checkStart(options.from),
      replay: options.replay === true,
      maxInflight: positiveInt(options.maxInflight, 'maxInflight', this.o.maxInflight),
      ackTimeoutMs: positiveInt(options.ackTimeoutMs, 'ackTimeoutMs', this.o.ackTimeoutMs),
      maxAttempts: positiveInt(options.maxAttempts, 'maxAttempts', this.o.maxAttempts),
      home: this.nodeId,
    };
    const info = this.topics.get(options.topic) ?? await this.topics.resolve(options.topic, TOPIC_AUTO);
    const owners = new Set<number>();
    for (let p = 0; p < info.partitions; p++) owners.add(ownerOf(info.name, p, this.o.shards, info.hash, this.o.partitionsOnController));
    const member = new LocalMember(spec, [...owners].sort((a, b) => a - b), onDelivery);
    await this.subscriber.join(member);
    return {
      id: spec.memberId,
      topic: spec.topic,
      group: spec.group,
      close: () => this.subscriber.leave(member),
    };
  }

  // ---- request-reply ----

  async request(topic: string, ev: MeshEvent, timeoutMs: number): Promise<MeshEvent> {
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw new EvmeshError('EVM_BAD_REQUEST', `timeoutMs must be > 0, got ${String(timeoutMs)}`);
    this.checkOpen();
    const correlationId = this.rr.newCorrelationId();
    const req = withAttributes(ev, { [CORRELATION_ID]: correlationId, [REPLY_TO]: replyToAddress(this.nodeId) });
    const reply = this.rr.wait(correlationId, timeoutMs);
    reply.catch(() => {});
    try {
      await this.publish(topic, req);
    } catch (err) {
      this.rr.cancel(correlationId, toEvmeshError(err));
    }
    return reply;
  }

  async reply(request: Delivery, replyEvent: MeshEvent): Promise<void> {
    const attrs = request?.event?.attributes;
    const correlationId = attrs?.[CORRELATION_ID];
    const node = parseReplyTo(attrs?.[REPLY_TO]);
    if (typeof correlationId !== 'string' || node === undefined || !this.o.mesh.nodes.includes(node)) {
      throw new EvmeshError('EVM_BAD_REQUEST', `the delivered event is not a request (needs ${CORRELATION_ID} and ${REPLY_TO} extensions)`);
    }
    const event = validateEvent(withAttributes(replyEvent, { [CORRELATION_ID]: correlationId }));
    this.send(node, { type: MSG.REPLY, correlationId, event: encodeEvent(event, this.sizeOf(event)) });
    request.ack();
  }

  async createTopic(topic: string, partitions?: number): Promise<{ name: string; partitions: number }> {
    this.checkOpen();
    checkTopicName(topic);
    const n = positiveInt(partitions, 'partitions', this.o.defaultPartitions);
    const info = await this.topics.resolve(topic, TOPIC_CREATE, n);
    return { name: info.name, partitions: info.partitions };
  }

  /** Controller: deletes a topic (docs/admin.md "Deleting a topic"). Every node (this one first)
   *  runs releaseTopic — any refusal or missing answer aborts with the topic intact — then every
   *  node runs releaseTopicStorage, then this node's storage deletes the topic. `shards` runs one
   *  of the two on every shard and fails if one does. */
  async deleteTopic(topic: string, shards: (step: 'releaseTopic' | 'releaseTopicStorage') => Promise<void>): Promise<void> {
    this.checkOpen();
    if (!this.isController) throw new EvmeshError('EVM_INTERNAL', `node ${this.nodeId} is not the controller`);
    await this.topics.delete(topic, async () => {
      await this.releaseTopic(topic);
      await shards('releaseTopic');
      await shards('releaseTopicStorage');
      await this.releaseTopicStorage(topic);
    });
  }

  /** Deleting a topic, step 1 on every node: refuses with EVM_CONFLICT while a subscription on
   *  it lives here (its client here, or its partitions owned here); otherwise forgets the topic's
   *  meta and partitions. Resolves once no storage call for the topic is in flight here. Storage
   *  is untouched, so an aborted deletion leaves the topic intact. */
  async releaseTopic(topic: string): Promise<void> {
    checkTopicName(topic);
    // First apply whatever the controller sent before the deletion began (a meta in flight
    // must not be cached after the forget below).
    await this.topics.sync();
    const groups = [...new Set([...this.subscriber.groupsOn(topic), ...this.owner.groupsOn(topic)])].sort();
    if (groups.length > 0) {
      throw new EvmeshError('EVM_CONFLICT', `topic ${topic} has subscribers (consumer groups ${groups.join(', ')}): end them first`, { groups });
    }
    this.topics.forget(topic);
    await this.owner.dropTopic(topic);
  }

  /** Deleting a topic, step 2 on every node, once every node let go of it (releaseTopic): the
   *  storage closes what it holds for the topic (memory: drops its records). */
  async releaseTopicStorage(topic: string): Promise<void> {
    checkTopicName(topic);
    await this.o.storage.releaseTopic(topic);
  }

  /** Every topic this node knows (on the controller: all topics, loaded at start()). */
  async listTopics(): Promise<TopicMeta[]> {
    return this.topics.all().map(({ name, partitions, createdAt }) => ({ name, partitions, createdAt }));
  }

  /** Records retained per topic in the partitions this node owns (summed over the nodes: the
   *  admin port's messageCount, H51 GET /topic). A topic unknown here, deleted meanwhile or
   *  whose storage failed is left out. */
  async retained(topics: readonly string[]): Promise<Record<string, number>> {
    await this.topics.sync(); // a shard owns partitions of topics it never used
    const out: Record<string, number> = {};
    await Promise.all(topics.map(async (name) => {
      const info = this.topics.get(name);
      if (info === undefined) return;
      try { out[name] = await this.owner.retained(info); } catch { /* left out: unknown count */ }
    }));
    return out;
  }

  client(): Client {
    return {
      publish: (topic, event) => this.publish(topic, event),
      publishBatch: (topic, events) => this.publishBatch(topic, events),
      subscribe: (options, onDelivery) => this.subscribe(options, onDelivery),
      request: (topic, event, timeoutMs) => this.request(topic, event, timeoutMs),
      reply: (request, reply) => this.reply(request, reply),
      createTopic: (topic, partitions) => this.createTopic(topic, partitions),
    };
  }

  // ---- lifecycle ----

  /** Node `nodeId` restarted (its state is gone): drop its members and redeliver their unacked
   *  events, fail publishes/topic requests waiting on it with EVM_UNAVAILABLE, re-announce this
   *  node's members to it and, on the controller, every topic meta. */
  peerReset(nodeId: number): void {
    if (nodeId === this.nodeId || this.closed) return;
    this.owner.peerReset(nodeId);
    this.publisher.failRoutedTo(nodeId);
    if (nodeId === this.controllerId) this.topics.failPending('EVM_UNAVAILABLE', `the controller (node ${nodeId}) restarted`);
    this.topics.announceTo(nodeId);
    this.subscriber.peerReset(nodeId);
  }

  /** Rejects new publishes (EVM_SHUTTING_DOWN), waits for publishes in flight and appends in
   *  flight on this node's partitions, commits consumer offsets, flushes storage. */
  async drain(): Promise<void> {
    this.draining = true;
    while (this.calls.size > 0) await Promise.allSettled([...this.calls]);
    await this.publisher.idle();
    await this.owner.idle();
    await this.owner.flushCommits();
    await this.o.storage.flush();
  }

  /** Stops timers, commits offsets, fails pending requests. Does not close the Storage (its
   *  owner does). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.draining = true;
    clearInterval(this.timer);
    try { await this.owner.flushCommits(); } catch (err) { this.onError(err, 'commit on close'); }
    this.closed = true;
    this.rr.failAll('EVM_SHUTTING_DOWN');
    this.topics.failPending('EVM_SHUTTING_DOWN', `node ${this.nodeId} is closing`);
    this.subscriber.failAll('EVM_SHUTTING_DOWN');
  }

  stats(): CoreStats {
    const c = this.owner.counters;
    return {
      nodeId: this.nodeId,
      published: this.published,
      appended: c.appended,
      delivered: c.delivered,
      redelivered: c.redelivered,
      acked: c.acked,
      deadLettered: c.deadLettered,
      inflight: this.owner.inflight(),
      pendingPublishes: this.publisher.pending,
      received: this.subCounters.received,
      pendingRequests: this.rr.size,
      lateReplies: this.rr.lateReplies,
      corruptEvents: this.subCounters.corrupt,
      badMessages: this.badMessages,
      groups: this.owner.lag(),
    };
  }
}
