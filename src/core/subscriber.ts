// The home side of subscriptions on one node: the members whose client lives here, their JOIN/
// LEAVE handshakes with every owner shard of the topic, turning DELIVER messages into Delivery
// objects for the handler, and batching acks per owner (one ACK message per owner per turn).
// A DELIVER for a member that is gone is answered with REJECT so the owner redelivers elsewhere.
import { EvmeshError, fromWire } from '../errors.js';
import { decodeEvent } from './codec.js';
import { MSG, type AckItem, type MemberSpec, type Message, type RejectItem } from './messages.js';
import type { Delivery, MeshEvent } from './types.js';

export interface SubscriberOptions {
  readonly nodeId: number;
  readonly requestTimeoutMs: number;
  readonly now: () => number;
  send(to: number, m: Message): void;
  onError(err: unknown, where: string): void;
  counters: { received: number; corrupt: number };
}

interface Handshake { pending: Set<number>; error: EvmeshError | undefined; deadline: number; resolve(): void; reject(e: EvmeshError): void }

export class LocalMember {
  closed = false;
  join: Handshake | undefined;
  leave: Handshake | undefined;
  constructor(readonly spec: MemberSpec, readonly owners: readonly number[], readonly handler: (d: Delivery) => void) {}
}

class MeshDelivery implements Delivery {
  private acked = false;
  constructor(
    readonly event: MeshEvent,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly attempt: number,
    private readonly sub: Subscriber,
    private readonly owner: number,
    private readonly member: LocalMember,
  ) {}

  ack(): void {
    if (this.acked) return;
    this.acked = true;
    const spec = this.member.spec;
    this.sub.queueAck(this.owner, spec.memberId, this.topic, spec.group, this.partition, this.offset);
  }
}

export class Subscriber {
  private readonly members = new Map<string, LocalMember>();
  private readonly leaving = new Map<string, LocalMember>();
  private acks = new Map<number, AckItem[]>();
  private ackScheduled = false;

  constructor(private readonly o: SubscriberOptions) {}

  private handshake(member: LocalMember, kind: 'join' | 'leave'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const h: Handshake = { pending: new Set(member.owners), error: undefined, deadline: this.o.now() + this.o.requestTimeoutMs, resolve, reject };
      member[kind] = h;
      if (h.pending.size === 0) { resolve(); return; }
      for (const n of member.owners) {
        this.o.send(n, kind === 'join'
          ? { type: MSG.JOIN, member: member.spec }
          : { type: MSG.LEAVE, memberId: member.spec.memberId, topic: member.spec.topic, group: member.spec.group });
      }
    });
  }

  /** Registers the member and joins it on every owner; resolves once every owner confirmed. */
  async join(member: LocalMember): Promise<void> {
    this.members.set(member.spec.memberId, member);
    try {
      await this.handshake(member, 'join');
    } catch (err) {
      await this.leave(member).catch(() => {});
      throw err;
    }
  }

  /** Leaves the group on every owner (they redeliver its unacked events to other members). */
  leave(member: LocalMember): Promise<void> {
    if (member.closed) return Promise.resolve();
    member.closed = true;
    // Acks queued this turn must reach the owners before the LEAVE, or the owners would hand
    // the acked events to other members (per-pair FIFO keeps them in this order).
    this.flushAcks();
    this.members.delete(member.spec.memberId);
    this.leaving.set(member.spec.memberId, member);
    return this.handshake(member, 'leave').finally(() => this.leaving.delete(member.spec.memberId));
  }

  onMemberAck(from: number, m: Extract<Message, { type: typeof MSG.MEMBER_ACK }>): void {
    const member = m.join ? this.members.get(m.memberId) : this.leaving.get(m.memberId);
    const h = member?.[m.join ? 'join' : 'leave'];
    if (!h || !h.pending.has(from)) return;
    h.pending.delete(from);
    if (m.error && !h.error) h.error = fromWire(m.error);
    this.settle(member!, m.join ? 'join' : 'leave');
  }

  private settle(member: LocalMember, kind: 'join' | 'leave'): void {
    const h = member[kind];
    if (!h || h.pending.size > 0) return;
    member[kind] = undefined;
    if (h.error) h.reject(h.error); else h.resolve();
  }

  onDeliver(from: number, m: Extract<Message, { type: typeof MSG.DELIVER }>): void {
    const member = this.members.get(m.memberId);
    if (!member || member.closed) {
      const items: RejectItem[] = m.items.map((it) => ({ topic: it.topic, partition: it.partition, offset: it.offset }));
      this.o.send(from, { type: MSG.REJECT, memberId: m.memberId, items });
      return;
    }
    for (const it of m.items) {
      let event: MeshEvent;
      try {
        event = decodeEvent(it.event);
      } catch (err) {
        // A record that cannot be decoded would be redelivered forever: ack it and report.
        this.o.counters.corrupt++;
        this.o.onError(err, `undecodable record ${it.topic}/${it.partition}@${it.offset} skipped`);
        this.queueAck(from, m.memberId, it.topic, member.spec.group, it.partition, it.offset);
        continue;
      }
      this.o.counters.received++;
      const d = new MeshDelivery(event, it.topic, it.partition, it.offset, it.attempt, this, from, member);
      try {
        member.handler(d);
      } catch (err) {
        this.o.onError(err, `subscription handler of ${member.spec.memberId}`);
      }
    }
  }

  /** Queues an ack for the owner's next ACK message. Acks usually come in delivery order, so
   *  consecutive offsets of one partition are merged into one run (one item, one owner lookup). */
  queueAck(owner: number, memberId: string, topic: string, group: string, partition: number, offset: number): void {
    let list = this.acks.get(owner);
    if (!list) { list = []; this.acks.set(owner, list); }
    const last = list.length > 0 ? list[list.length - 1]! : undefined;
    if (last !== undefined && last.offset + last.count === offset && last.partition === partition && last.memberId === memberId && last.topic === topic) last.count++;
    else list.push({ memberId, topic, group, partition, offset, count: 1 });
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      queueMicrotask(() => this.flushAcks());
    }
  }

  private flushAcks(): void {
    this.ackScheduled = false;
    const acks = this.acks;
    if (acks.size === 0) return;
    this.acks = new Map();
    for (const [to, items] of acks) this.o.send(to, { type: MSG.ACK, items });
  }

  /** `node` restarted: re-announce our members to it, forget handshakes waiting on it for leaves. */
  peerReset(node: number): void {
    this.acks.delete(node);
    for (const member of this.members.values()) {
      if (member.owners.includes(node)) this.o.send(node, { type: MSG.JOIN, member: member.spec });
    }
    for (const member of this.leaving.values()) {
      member.leave?.pending.delete(node);
      this.settle(member, 'leave');
    }
  }

  expire(now: number): void {
    for (const member of [...this.members.values(), ...this.leaving.values()]) {
      for (const kind of ['join', 'leave'] as const) {
        const h = member[kind];
        if (h && h.deadline <= now) {
          member[kind] = undefined;
          h.reject(new EvmeshError('EVM_TIMEOUT', `owners ${[...h.pending].join(',')} did not confirm the ${kind} of ${member.spec.memberId} within ${this.o.requestTimeoutMs} ms`));
        }
      }
    }
  }

  failAll(code: 'EVM_SHUTTING_DOWN'): void {
    for (const member of [...this.members.values(), ...this.leaving.values()]) {
      for (const kind of ['join', 'leave'] as const) {
        const h = member[kind];
        if (h) { member[kind] = undefined; h.reject(new EvmeshError(code, 'the core is closing')); }
      }
    }
  }

  get size(): number { return this.members.size; }

  /** Groups of the members here (joined, joining or leaving) subscribed to `topic`. */
  groupsOn(topic: string): string[] {
    return [...this.members.values(), ...this.leaving.values()].filter((m) => m.spec.topic === topic).map((m) => m.spec.group);
  }
}

