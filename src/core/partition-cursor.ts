// Delivery state of one read position over one owned partition: the records read but not yet
// handled (in flight to a member, waiting for credit, or being dead-lettered), in offset order,
// and the members it may deliver to. A CLUSTERING group has one cursor per partition shared by
// all members; a BROADCASTING group has one cursor per member (group.ts).
import type { MemberSpec } from './messages.js';
import type { OwnedPartition } from './owned-partition.js';
import type { GroupPartition } from './group.js';

export const WAITING = 0, INFLIGHT = 1, DEAD_LETTERING = 2;

/** One unhandled record of a cursor. */
export interface Pending {
  readonly cursor: PartitionCursor;
  readonly offset: number;
  readonly value: Uint8Array;
  /** Deliveries so far. */
  attempt: number;
  state: number;
  member: OwnerMember | null;
  deadline: number;
  /** Delivery sequence number, to recognise stale entries in a member's timeout queue. */
  seq: number;
}

/** A group member as seen by one owner: its credit (maxInflight per owner) and the deliveries
 *  it has in flight here, in delivery order (= deadline order, since its ackTimeoutMs is fixed). */
export class OwnerMember {
  inflight = 0;
  gone = false;
  readonly cursors = new Set<PartitionCursor>();
  private fifo: Pending[] = [];
  private fifoSeq: number[] = [];
  private head = 0;

  constructor(readonly spec: MemberSpec) {}

  get id(): string { return this.spec.memberId; }
  get credit(): number { return this.spec.maxInflight - this.inflight; }

  track(p: Pending): void {
    this.fifo.push(p);
    this.fifoSeq.push(p.seq);
    // Out-of-order acks leave acked entries behind the head: compact when they dominate.
    if (this.fifo.length - this.head > 4 * this.spec.maxInflight + 64) this.compact();
  }

  private isLive(i: number): boolean {
    const p = this.fifo[i]!;
    return p.member === this && p.state === INFLIGHT && p.seq === this.fifoSeq[i];
  }

  /** Drops acked/reassigned entries at the head (called after acks). */
  trim(): void {
    while (this.head < this.fifo.length && !this.isLive(this.head)) this.head++;
    if (this.head === this.fifo.length) { this.fifo = []; this.fifoSeq = []; this.head = 0; }
    else if (this.head > 1024 && this.head * 2 > this.fifo.length) this.compact();
  }

  private compact(): void {
    const f: Pending[] = [], s: number[] = [];
    for (let i = this.head; i < this.fifo.length; i++) if (this.isLive(i)) { f.push(this.fifo[i]!); s.push(this.fifoSeq[i]!); }
    this.fifo = f; this.fifoSeq = s; this.head = 0;
  }

  /** Removes and returns in-flight entries whose deadline passed. */
  expired(now: number): Pending[] {
    const out: Pending[] = [];
    while (this.head < this.fifo.length) {
      if (!this.isLive(this.head)) { this.head++; continue; }
      const p = this.fifo[this.head]!;
      if (p.deadline > now) break;
      out.push(p);
      this.head++;
    }
    this.trim();
    return out;
  }

  /** Every entry currently in flight to this member. */
  live(): Pending[] {
    const out: Pending[] = [];
    for (let i = this.head; i < this.fifo.length; i++) if (this.isLive(i)) out.push(this.fifo[i]!);
    return out;
  }
}

export class PartitionCursor {
  /** Next offset to read from the partition. */
  next: number;
  /** Unhandled records by offset; Map insertion order = offset order (records enter as read). */
  readonly unhandled = new Map<number, Pending>();
  /** Redeliveries waiting for a member with credit (served first). */
  readonly retry: Pending[] = [];
  /** Records read, never delivered yet. */
  readonly fresh: Pending[] = [];
  freshHead = 0;
  readonly members: OwnerMember[] = [];
  private rr = 0;
  reading = false;
  closed = false;

  constructor(readonly part: OwnedPartition, readonly group: GroupPartition, start: number) {
    this.next = start;
  }

  /** The group may commit up to here: every offset below is handled (acked or dead-lettered). */
  commitPosition(): number {
    for (const k of this.unhandled.keys()) return k;
    return this.next;
  }

  addRecord(offset: number, value: Uint8Array): void {
    const p: Pending = { cursor: this, offset, value, attempt: 0, state: WAITING, member: null, deadline: 0, seq: 0 };
    this.unhandled.set(offset, p);
    this.fresh.push(p);
    this.next = offset + 1;
  }

  takeWaiting(): Pending | undefined {
    const r = this.retry.shift();
    if (r) return r;
    if (this.freshHead < this.fresh.length) {
      const p = this.fresh[this.freshHead++]!;
      if (this.freshHead === this.fresh.length) { this.fresh.length = 0; this.freshHead = 0; }
      return p;
    }
    return undefined;
  }

  get waitingCount(): number { return this.retry.length + this.fresh.length - this.freshHead; }

  /** Round robin over members with credit. */
  /** The next member with credit, round robin — members living on `local` (this owner's node)
   *  first: a delivery to them stays on this thread instead of crossing a ring both ways (DELIVER
   *  and ACK), which measured as the main multiplier of the latency tail (docs/core.md). Members
   *  elsewhere get what local members have no credit for, so a slow local member never stalls
   *  the group. */
  pickMember(local: number): OwnerMember | undefined {
    const n = this.members.length;
    let fallback = -1;
    for (let i = 0; i < n; i++) {
      const k = (this.rr + i) % n;
      const m = this.members[k]!;
      if (m.credit <= 0 || m.gone) continue;
      if (m.spec.home === local) { this.rr = (k + 1) % n; return m; }
      if (fallback < 0) fallback = k;
    }
    if (fallback < 0) return undefined;
    this.rr = (fallback + 1) % n;
    return this.members[fallback];
  }

  totalCredit(): number {
    let c = 0;
    for (const m of this.members) if (!m.gone && m.credit > 0) c += m.credit;
    return c;
  }
}
