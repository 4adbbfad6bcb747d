// The owner side of delivery on one shard: the partitions this shard owns (owned-partition.ts),
// the consumer groups reading them (group.ts), members' credit and ack timeouts
// (partition-cursor.ts), redelivery, dead-lettering and offset commits.
//
// Flow: a JOIN adds a member to a cursor of every partition of its topic this shard owns; the
// dispatcher (run once per microtask over the cursors that changed) reads records (tail cache or
// one storage read per cursor), hands them to members with credit, and sends one DELIVER per
// member with every record it got in that pass. ACKs release credit and advance the commit
// position; the timer (Core's tick) expires deliveries past their deadline and requeues them
// (attempt + 1 on the next delivery) or dead-letters them after maxAttempts.
import { EvmeshError, toEvmeshError } from '../errors.js';
import { storedSpans, tracingOn } from '../metrics/tracing.js';
import type { Storage } from '../storage/types.js';
import { decodeEvent } from './codec.js';
import { withAttributes } from './event.js';
import { GroupPartition, startOffset } from './group.js';
import { MSG, type AckItem, type DeliverItem, type MemberSpec, type Message } from './messages.js';
import { OwnedPartition } from './owned-partition.js';
import { ownerOf } from './partitioner.js';
import {
  DEAD_LETTERING, INFLIGHT, OwnerMember, WAITING, type PartitionCursor, type Pending,
} from './partition-cursor.js';
import { TOPIC_LOOKUP, type TopicInfo, type TopicRegistry } from './topic-registry.js';
import type { MeshEvent } from './types.js';

const HANDLED = 3;

/** Extensions added to a dead-lettered event (docs/core.md "Dead letters"). */
export const DLQ_EXT = {
  topic: 'dlqtopic',
  partition: 'dlqpartition',
  offset: 'dlqoffset',
  group: 'dlqgroup',
  attempts: 'dlqattempts',
  reason: 'dlqreason',
} as const;

export type DeadLetterReason = 'acktimeout' | 'memberleft';

export interface OwnerCounters {
  appended: number;
  delivered: number;
  acked: number;
  redelivered: number;
  deadLettered: number;
}

export interface GroupLag {
  readonly topic: string;
  readonly partition: number;
  readonly group: string;
  readonly members: number;
  readonly committed: number | undefined;
  readonly position: number;
  readonly end: number;
  readonly lag: number;
  readonly inflight: number;
}

export interface OwnerOptions {
  readonly nodeId: number;
  readonly shards: number;
  /** Every partition is owned by the controller (partitioner.ts ownerOf). */
  readonly onController: boolean;
  /** Re-read the bounds of partitions with consumer groups this often (ms), to deliver records
   *  other writers of a shared storage appended (Kafka: kcat, other nodes). Undefined: never. */
  readonly refreshMs: number | undefined;
  readonly storage: Storage;
  readonly topics: TopicRegistry;
  readonly now: () => number;
  readonly maxBatchEvents: number;
  readonly tailCacheRecords: number;
  readonly deadLetterTopic: string;
  send(to: number, m: Message): void;
  /** Publishes a dead-letter event (creating its topic if needed); resolves once appended. */
  publishDeadLetter(topic: string, ev: MeshEvent): Promise<unknown>;
  /** Reports an unexpected background error (logged by Core). */
  onError(err: unknown, where: string): void;
}

/** Name of the dead-letter topic from the template: {topic} and {group} are substituted; group
 *  characters outside [A-Za-z0-9._-] become '_' so the name stays a valid topic name. */
export function deadLetterTopicName(template: string, topic: string, group: string): string {
  return template.replaceAll('{topic}', topic).replaceAll('{group}', group.replace(/[^A-Za-z0-9._-]/g, '_'));
}

export class PartitionOwner {
  readonly counters: OwnerCounters = { appended: 0, delivered: 0, acked: 0, redelivered: 0, deadLettered: 0 };
  private readonly parts = new Map<string, OwnedPartition[]>();
  private readonly members = new Map<string, OwnerMember>();
  /** Members with deliveries in flight (scanned by the timer). */
  private readonly active = new Set<OwnerMember>();
  private readonly dirtyCursors = new Set<PartitionCursor>();
  private dispatchScheduled = false;
  private outbox = new Map<OwnerMember, DeliverItem[]>();
  private readonly dirtyGroups = new Set<GroupPartition>();
  /** Cursors whose read failed; retried on the next tick. */
  private readonly stalled = new Set<PartitionCursor>();
  /** Dead letters whose publish failed; retried on the next tick. */
  private dlqRetry: { p: Pending; reason: DeadLetterReason }[] = [];
  private seq = 0;
  private lastRefresh = 0;

  constructor(private readonly o: OwnerOptions) {}

  owns(info: TopicInfo, partition: number): boolean {
    return ownerOf(info.name, partition, this.o.shards, info.hash, this.o.onController) === this.o.nodeId;
  }

  private part(info: TopicInfo, partition: number): OwnedPartition {
    let arr = this.parts.get(info.name);
    if (!arr) { arr = []; this.parts.set(info.name, arr); }
    let p = arr[partition];
    if (!p) {
      p = new OwnedPartition(info.name, partition, info.partitions, this.o.storage, this.o.tailCacheRecords, this.o.now, (part) => this.onAppended(part));
      arr[partition] = p;
    }
    return p;
  }

  // ---- appends ----

  append(info: TopicInfo, partition: number, values: Uint8Array[]): Promise<number> {
    if (!this.owns(info, partition)) {
      return Promise.reject(new EvmeshError('EVM_UNAVAILABLE', `node ${this.o.nodeId} does not own ${info.name}/${partition}`));
    }
    if (!Number.isInteger(partition) || partition < 0 || partition >= info.partitions) {
      return Promise.reject(new EvmeshError('EVM_BAD_REQUEST', `topic ${info.name} has no partition ${partition}`));
    }
    const end = tracingOn ? storedSpans('store', info.name, partition, values) : undefined;
    return this.part(info, partition).append(values).then(
      (base) => { end?.(); this.counters.appended += values.length; return base; },
      (err: unknown) => { end?.(err); throw err; },
    );
  }

  async onPublish(from: number, m: Extract<Message, { type: typeof MSG.PUBLISH }>): Promise<void> {
    try {
      const info = this.o.topics.get(m.topic) ?? await this.o.topics.resolve(m.topic, TOPIC_LOOKUP);
      const base = await this.append(info, m.partition, m.events);
      this.o.send(from, { type: MSG.PUBLISH_ACK, id: m.id, baseOffset: base });
    } catch (err) {
      this.o.send(from, { type: MSG.PUBLISH_ACK, id: m.id, baseOffset: 0, error: toEvmeshError(err).toWire() });
    }
  }

  /** Partitions with groups and no append in flight learn their storage's end; records another
   *  writer appended are then read and delivered like any behind cursor. */
  private refreshWatched(): void {
    for (const arr of this.parts.values()) {
      for (const part of arr) {
        if (!part || part.groups.size === 0 || part.busy) continue;
        const before = part.end;
        part.refreshBounds().then(() => { if (part.end > before) this.onAppended(part); }, () => {});
      }
    }
  }

  private onAppended(part: OwnedPartition): void {
    for (const gp of part.groups.values()) for (const c of gp.cursors.values()) this.schedule(c);
  }

  /** Resolves when no append is queued or in flight on any owned partition. */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.parts.values()].flat().filter((p) => p?.busy);
      if (busy.length === 0) return;
      await Promise.all(busy.map((p) => p.idle()));
    }
  }

  /** Records retained (end − start, bounds fresh from storage) in the partitions of `info` this
   *  node owns. The partitions are taken synchronously, so a deletion that begins later drops
   *  them (dropTopic) and waits for their storage calls instead of racing them. */
  retained(info: TopicInfo): Promise<number> {
    const parts: OwnedPartition[] = [];
    for (let p = 0; p < info.partitions; p++) if (this.owns(info, p)) parts.push(this.part(info, p));
    return Promise.all(parts.map(async (part) => {
      await part.ready;
      await part.refreshBounds(); // retention may have moved start since
      return part.end - part.start;
    })).then((counts) => counts.reduce((a, b) => a + b, 0));
  }

  /** Groups of the members reading `topic` here. */
  groupsOn(topic: string): string[] {
    return [...this.members.values()].filter((om) => om.spec.topic === topic).map((om) => om.spec.group);
  }

  /** The topic is being deleted and has no member here (Core checked): forgets its partitions
   *  and their pending work; resolves once no storage call for them is in flight. */
  async dropTopic(topic: string): Promise<void> {
    const parts = this.parts.get(topic);
    if (parts === undefined) return;
    this.parts.delete(topic);
    for (const gp of this.dirtyGroups) if (gp.part.topic === topic) this.dirtyGroups.delete(gp);
    for (const c of this.stalled) if (c.part.topic === topic) this.stalled.delete(c);
    this.dlqRetry = this.dlqRetry.filter((r) => r.p.cursor.part.topic !== topic);
    await Promise.all(parts.filter((p) => p !== undefined).map((p) => p.drop()));
  }

  // ---- membership ----

  async onJoin(from: number, spec: MemberSpec): Promise<void> {
    try {
      const info = this.o.topics.get(spec.topic) ?? await this.o.topics.resolve(spec.topic, TOPIC_LOOKUP);
      let om = this.members.get(spec.memberId);
      if (!om) { om = new OwnerMember(spec); this.members.set(spec.memberId, om); }
      const member = om;
      for (let p = 0; p < info.partitions; p++) {
        if (!this.owns(info, p)) continue;
        const part = this.part(info, p);
        await part.ready;
        await part.serial(() => this.joinPartition(part, member));
      }
      this.o.send(from, { type: MSG.MEMBER_ACK, memberId: spec.memberId, join: true });
    } catch (err) {
      this.o.send(from, { type: MSG.MEMBER_ACK, memberId: spec.memberId, join: true, error: toEvmeshError(err).toWire() });
    }
  }

  private async joinPartition(part: OwnedPartition, om: OwnerMember): Promise<void> {
    if (om.gone) return;
    const spec = om.spec;
    let gp = part.groups.get(spec.group);
    if (!gp) {
      gp = new GroupPartition(part, spec.group, spec.mode);
      gp.committed = await part.fetchCommitted(spec.group);
      if (om.gone) return;
      part.groups.set(spec.group, gp);
    }
    if (gp.mode !== spec.mode) {
      throw new EvmeshError('EVM_CONFLICT', `group ${spec.group} on ${part.topic} is ${gp.mode}, cannot join it as ${spec.mode}`);
    }
    let c = gp.cursorFor(spec.memberId);
    if (!c) {
      const start = await startOffset(part, spec.from, spec.replay, gp.committed);
      if (gp.committed === undefined) {
        // Persist the group's first position right away: if this owner restarts before the
        // first commit, the group resumes here (and redelivers) instead of at a new 'latest'.
        await part.commit(gp.name, start);
        gp.committed = start;
      }
      if (om.gone) return;
      c = gp.cursorFor(spec.memberId) ?? gp.addCursor(spec.memberId, start);
    }
    if (!c.members.includes(om)) { c.members.push(om); om.cursors.add(c); }
    this.schedule(c);
  }

  onLeave(from: number, memberId: string): void {
    const om = this.members.get(memberId);
    const done = om ? this.removeMember(om, 'memberleft') : Promise.resolve();
    done.catch((err) => this.o.onError(err, 'commit on leave')).finally(() => {
      this.o.send(from, { type: MSG.MEMBER_ACK, memberId, join: false });
    });
  }

  /** The member's home says it is gone: those deliveries never reached anyone, so they do not
   *  count as attempts; everything in flight to it goes to the other members. */
  onReject(m: Extract<Message, { type: typeof MSG.REJECT }>): void {
    const om = this.members.get(m.memberId);
    if (!om) return;
    const cursors: PartitionCursor[] = [...om.cursors];
    for (const it of m.items) {
      for (const c of cursors) {
        if (c.part.topic !== it.topic || c.part.partition !== it.partition) continue;
        const p: Pending | undefined = c.unhandled.get(it.offset);
        if (p && p.member === om && p.state === INFLIGHT && p.attempt > 0) p.attempt--;
      }
    }
    this.removeMember(om, 'memberleft').catch((err) => this.o.onError(err, 'commit on reject'));
  }

  /** Drops every member whose client lived on `node` (it restarted). */
  peerReset(node: number): void {
    for (const om of [...this.members.values()]) {
      if (om.spec.home === node) this.removeMember(om, 'memberleft').catch((err) => this.o.onError(err, 'commit on peer reset'));
    }
  }

  private removeMember(om: OwnerMember, reason: DeadLetterReason): Promise<void> {
    om.gone = true;
    this.members.delete(om.id);
    this.active.delete(om);
    this.outbox.delete(om);
    const live = om.live();
    for (const p of live) { om.inflight--; p.member = null; p.state = WAITING; }
    for (const c of om.cursors) {
      const i = c.members.indexOf(om);
      if (i >= 0) c.members.splice(i, 1);
    }
    // CLUSTERING: the leaving member's unacked records go to the remaining members at once.
    for (const p of live) {
      const c = p.cursor;
      if (!c.closed && c.group.mode === 'CLUSTERING' && c.members.length > 0) this.requeue(p, om.spec.maxAttempts, reason);
    }
    const commits: Promise<void>[] = [];
    for (const c of om.cursors) {
      const gp = c.group;
      if (gp.mode === 'CLUSTERING' && c.members.length > 0) { commits.push(this.commit(gp)); continue; }
      // BROADCASTING: the member's own cursor goes. CLUSTERING without members: persist the
      // handled prefix and forget the state; a later member resumes from the committed offset
      // (records that were in flight are read again).
      if (gp.mode === 'CLUSTERING') commits.push(this.commit(gp));
      gp.removeCursor(om.id);
      if (gp.mode === 'BROADCASTING') commits.push(this.commit(gp));
      if (gp.cursors.size === 0 && gp.part.groups.get(gp.name) === gp) gp.part.groups.delete(gp.name);
    }
    om.cursors.clear();
    return Promise.all(commits).then(() => {});
  }

  // ---- dispatch ----

  schedule(c: PartitionCursor): void {
    if (c.closed) return;
    this.dirtyCursors.add(c);
    if (!this.dispatchScheduled) {
      this.dispatchScheduled = true;
      queueMicrotask(() => this.runDispatch());
    }
  }

  private runDispatch(): void {
    this.dispatchScheduled = false;
    for (const c of this.dirtyCursors) {
      this.dirtyCursors.delete(c);
      try { this.dispatch(c); } catch (err) { this.o.onError(err, 'dispatch'); }
    }
    const out = this.outbox;
    this.outbox = new Map();
    for (const [om, items] of out) {
      if (!om.gone) this.o.send(om.spec.home, { type: MSG.DELIVER, memberId: om.id, items });
    }
  }

  private dispatch(c: PartitionCursor): void {
    const part = c.part;
    for (;;) {
      if (c.closed) return;
      const m = c.pickMember(this.o.nodeId);
      if (!m) return;
      let p = c.takeWaiting();
      while (p && p.state !== WAITING) p = c.takeWaiting();
      if (!p) {
        if (c.reading || c.next >= part.end) return;
        const want = Math.min(this.o.maxBatchEvents, c.totalCredit());
        if (!part.readTail(c, want)) { this.readAsync(c, want); return; }
        continue;
      }
      this.deliver(c, p, m);
    }
  }

  private readAsync(c: PartitionCursor, want: number): void {
    c.reading = true;
    const from = c.next;
    c.part.read(from, want).then(
      (recs) => {
        c.reading = false;
        if (c.closed || c.next !== from) return;
        for (const r of recs) c.addRecord(r.offset, r.value);
        if (recs.length === 0) { this.stalled.add(c); c.part.refreshBounds().catch(() => {}); return; }
        this.schedule(c);
      },
      (err) => {
        c.reading = false;
        if (c.closed) return;
        if (err instanceof EvmeshError && err.code === 'EVM_BAD_OFFSET') {
          // Retention removed records below `next`: skip to the first retained one.
          c.part.refreshBounds().then(() => { if (c.next < c.part.start) c.next = c.part.start; this.schedule(c); }, () => this.stalled.add(c));
          return;
        }
        this.o.onError(err, `read ${c.part.topic}/${c.part.partition}`);
        this.stalled.add(c);
      },
    );
  }

  private deliver(c: PartitionCursor, p: Pending, m: OwnerMember): void {
    p.attempt++;
    p.state = INFLIGHT;
    p.member = m;
    p.deadline = this.o.now() + m.spec.ackTimeoutMs;
    p.seq = ++this.seq;
    m.inflight++;
    m.track(p);
    this.active.add(m);
    let items = this.outbox.get(m);
    if (!items) { items = []; this.outbox.set(m, items); }
    items.push({ topic: c.part.topic, partition: c.part.partition, offset: p.offset, attempt: p.attempt, event: p.value });
    this.counters.delivered++;
    if (p.attempt > 1) this.counters.redelivered++;
    if (tracingOn) storedSpans('deliver', c.part.topic, c.part.partition, [p.value], { 'evmesh.attempt': p.attempt })?.();
  }

  private requeue(p: Pending, maxAttempts: number, reason: DeadLetterReason): void {
    if (p.attempt >= maxAttempts) { this.deadLetter(p, reason); return; }
    p.cursor.retry.push(p);
    this.schedule(p.cursor);
  }

  // ---- acks, timeouts, dead letters ----

  onAck(items: readonly AckItem[]): void {
    const released = new Set<OwnerMember>();
    for (const it of items) {
      const part = this.parts.get(it.topic)?.[it.partition];
      const gp = part?.groups.get(it.group);
      const c = gp?.cursorFor(it.memberId);
      if (!c) continue;
      // Offsets at or past `next` were never read, so never delivered: bounds a bogus count.
      const end = Math.min(it.offset + it.count, c.next);
      for (let offset = it.offset; offset < end; offset++) {
        const p = c.unhandled.get(offset);
        if (!p || p.state === DEAD_LETTERING || p.state === HANDLED) continue;
        if (p.state === INFLIGHT) { const m = p.member!; m.inflight--; released.add(m); }
        p.member = null;
        p.state = HANDLED;
        c.unhandled.delete(offset);
        this.dirtyGroups.add(gp!);
        this.counters.acked++;
      }
    }
    for (const m of released) {
      m.trim();
      for (const c of m.cursors) this.schedule(c);
    }
  }

  /** Timer: expires deliveries past their deadline, retries stalled reads and dead letters. */
  tick(now: number): void {
    for (const m of this.active) {
      if (m.inflight === 0) { this.active.delete(m); continue; }
      const expired = m.expired(now);
      for (const p of expired) {
        m.inflight--;
        p.member = null;
        p.state = WAITING;
        if (!p.cursor.closed) this.requeue(p, m.spec.maxAttempts, 'acktimeout');
      }
      if (expired.length > 0) for (const c of m.cursors) this.schedule(c);
    }
    if (this.stalled.size > 0) {
      const s = [...this.stalled];
      this.stalled.clear();
      for (const c of s) this.schedule(c);
    }
    if (this.o.refreshMs !== undefined && now - this.lastRefresh >= this.o.refreshMs) {
      this.lastRefresh = now;
      this.refreshWatched();
    }
    if (this.dlqRetry.length > 0) {
      const r = this.dlqRetry;
      this.dlqRetry = [];
      for (const { p, reason } of r) this.deadLetter(p, reason);
    }
  }

  private deadLetter(p: Pending, reason: DeadLetterReason): void {
    p.state = DEAD_LETTERING;
    const c = p.cursor, gp = c.group, part = c.part;
    let ev: MeshEvent;
    try {
      ev = decodeEvent(p.value);
    } catch (err) {
      this.o.onError(err, `dead-letter ${part.topic}/${part.partition}@${p.offset}: undecodable record skipped`);
      this.handled(p);
      return;
    }
    const dlq = withAttributes(ev, {
      [DLQ_EXT.topic]: part.topic,
      [DLQ_EXT.partition]: part.partition,
      // A string: offsets exceed the CloudEvents Integer range (signed 32-bit).
      [DLQ_EXT.offset]: String(p.offset),
      [DLQ_EXT.group]: gp.name,
      [DLQ_EXT.attempts]: p.attempt,
      [DLQ_EXT.reason]: reason,
    });
    this.o.publishDeadLetter(deadLetterTopicName(this.o.deadLetterTopic, part.topic, gp.name), dlq).then(
      () => { if (p.state === DEAD_LETTERING) { this.handled(p); this.counters.deadLettered++; } },
      (err) => { this.o.onError(err, 'dead-letter publish'); this.dlqRetry.push({ p, reason }); },
    );
  }

  private handled(p: Pending): void {
    p.state = HANDLED;
    p.cursor.unhandled.delete(p.offset);
    this.dirtyGroups.add(p.cursor.group);
  }

  // ---- commits ----

  private commit(gp: GroupPartition): Promise<void> {
    this.dirtyGroups.delete(gp);
    const pos = gp.commitPosition();
    if (pos === undefined || pos === gp.committed) return Promise.resolve();
    gp.committed = pos;
    return gp.part.commit(gp.name, pos);
  }

  /** Persists the commit position of every group that changed (coalesced; Core calls it every
   *  commitIntervalMs and on drain/close). */
  flushCommits(): Promise<void> {
    const groups = [...this.dirtyGroups];
    return Promise.all(groups.map((gp) => this.commit(gp))).then(() => {});
  }

  inflight(): number {
    let n = 0;
    for (const m of this.members.values()) n += m.inflight;
    return n;
  }

  lag(): GroupLag[] {
    const out: GroupLag[] = [];
    for (const arr of this.parts.values()) {
      for (const part of arr) {
        if (!part) continue;
        for (const gp of part.groups.values()) {
          const position = gp.commitPosition() ?? part.end;
          let inflight = 0;
          for (const c of gp.cursors.values()) for (const p of c.unhandled.values()) if (p.state === INFLIGHT) inflight++;
          out.push({
            topic: part.topic, partition: part.partition, group: gp.name, members: gp.memberCount,
            committed: gp.committed, position, end: part.end, lag: part.end - position, inflight,
          });
        }
      }
    }
    return out;
  }
}
