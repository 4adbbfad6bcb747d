// The Mesh (src/core/types.ts) over SharedArrayBuffer rings: one outbound and one inbound SPSC
// ring per peer, plus a doorbell per node (mesh-layout.ts).
//
// Sending: `send` copies the message into the peer's ring right away when nothing is queued for
// that peer (staged, not yet visible), otherwise appends a copy to the peer's backlog, so the
// caller may reuse its buffer as soon as `send` returns (core encodes into reused buffers). One flush per
// event-loop turn publishes every staged record with one Atomics.store per peer and rings the
// peer's doorbell. When a ring is full the rest stays queued in order, the ring's
// producer-waiting flag is set, and the consumer rings our doorbell after its next drain.
//
// Size: a message larger than the ring's record limit travels as fragments (records flagged MORE,
// ring.ts), staged in order like any other record and joined again by the receiver, so the Mesh
// carries messages of any size (a 4 MiB event, a large delivery batch).
//
// Waking: a node arms itself with Atomics.waitAsync(doorbell, seen) after setting its sleeping
// flag; a producer that publishes (or a consumer that freed space for a waiting producer) does
// compareExchange(sleeping, 1 → 0) and, only when that succeeds, bumps the doorbell and notifies.
// The bump makes a wait that has not started yet return 'not-equal', so no wake-up is lost; the
// exchange means one notify per sleep, however many producers publish. Nothing spins or polls.
// A notify to a waitAsync waiter costs the notifying thread ~7 µs of CPU (measured on the shared
// 2-core machine); in the 2-shard pubsub bench at 20k events/s per shard there is one per ~40
// events (one per ~4 mesh messages), ~1.5 % of a shard's busy time.
import type { Mesh } from '../core/types.js';
import { EvmeshError } from '../errors.js';
import { type MeshLayout, type PeerRings, peerRings, SIGNAL_DOORBELL, SIGNAL_SLEEPING, SIGNAL_STRIDE } from './mesh-layout.js';
import { Ring } from './ring.js';

/** How sends in one turn are coalesced: 'microtask' flushes at the end of the current task (lowest
 *  latency), 'immediate' after the event loop's poll phase (bigger batches across I/O callbacks). */
export type FlushMode = 'microtask' | 'immediate';

export interface RingMeshOptions {
  readonly flush?: FlushMode;
}

export interface PeerStats {
  readonly peer: number;
  /** Messages/bytes waiting in memory because the outbound ring was full. */
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  /** Bytes published to the peer and not yet drained by it. */
  readonly outRingUsedBytes: number;
  /** Bytes the peer published to us and we have not drained yet. */
  readonly inRingUsedBytes: number;
  readonly ringCapacity: number;
  /** Messages accepted by `send` for this peer (published or still queued). */
  readonly sentMessages: number;
  /** Messages from this peer handed to the handler. */
  readonly receivedMessages: number;
  /** True while waiting for the peer to free ring space. */
  readonly blocked: boolean;
}

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
// ES2024 lib typing; the project compiles against ES2023 (Node 20 has Atomics.waitAsync).
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): WaitAsyncResult }).waitAsync;

class Peer {
  readonly out: Ring;
  readonly in: Ring;
  backlog: Uint8Array[] = [];
  backlogHead = 0;
  backlogBytes = 0;
  /** Records staged in `out` since the last publish. */
  dirty = false;
  /** Backlog non-empty and the ring's producer-waiting flag set. */
  blocked = false;
  sent = 0;
  received = 0;
  /** Backlog entries that are non-final fragments (staged with the MORE flag). */
  readonly fragments = new WeakSet<Uint8Array>();
  /** Fragments received so far of a message that is not complete yet. */
  partial: Uint8Array[] | undefined;
  constructor(readonly id: number, rings: PeerRings) {
    this.out = new Ring(rings.out);
    this.in = new Ring(rings.in);
  }
  get queued(): number {
    return this.backlog.length - this.backlogHead;
  }
}

export class RingMesh implements Mesh {
  readonly nodeId: number;
  readonly nodes: readonly number[];
  /** Largest message that travels as one ring record; larger ones are sent as fragments. */
  readonly maxMessageBytes: number;
  private readonly signals: Int32Array;
  private readonly peers: (Peer | undefined)[] = [];
  private readonly peerList: Peer[] = [];
  private readonly loopback: Uint8Array[] = [];
  private readonly flushMode: FlushMode;
  private handler: ((from: number, message: Uint8Array) => void) | undefined;
  private flushScheduled = false;
  private wakeScheduled = false;
  private waiting = false;
  private closed = false;

  static fromLayout(layout: MeshLayout, nodeId: number, options: RingMeshOptions = {}): RingMesh {
    const peers = new Map<number, PeerRings>();
    for (let n = 0; n < layout.nodes; n++) if (n !== nodeId) peers.set(n, peerRings(layout, nodeId, n));
    return new RingMesh(nodeId, layout.nodes, layout.signals, peers, options);
  }

  constructor(nodeId: number, nodeCount: number, signals: SharedArrayBuffer, peers: ReadonlyMap<number, PeerRings>, options: RingMeshOptions = {}) {
    this.nodeId = nodeId;
    this.nodes = Array.from({ length: nodeCount }, (_, i) => i);
    this.signals = new Int32Array(signals);
    this.flushMode = options.flush ?? 'microtask';
    let max = Infinity;
    for (const [id, rings] of peers) {
      const p = new Peer(id, rings);
      this.peers[id] = p;
      this.peerList.push(p);
      max = Math.min(max, p.out.maxMessageBytes);
    }
    this.maxMessageBytes = max;
    Atomics.store(this.signals, nodeId * SIGNAL_STRIDE + SIGNAL_SLEEPING, 0);
    this.arm();
  }

  send(to: number, message: Uint8Array): void {
    if (this.closed) throw new EvmeshError('EVM_SHUTTING_DOWN', 'mesh is closed');
    if (to === this.nodeId) {
      this.loopback.push(new Uint8Array(message));
    } else {
      const p = this.peers[to];
      if (p === undefined) throw new EvmeshError('EVM_INTERNAL', `no mesh node ${to}`, { to, nodes: this.nodes.length });
      p.sent++;
      if (message.length <= this.maxMessageBytes) this.enqueue(p, message, false);
      else {
        const max = this.maxMessageBytes;
        for (let off = 0; off < message.length; off += max) {
          const end = Math.min(off + max, message.length);
          this.enqueue(p, message.subarray(off, end), end < message.length);
        }
      }
    }
    this.scheduleFlush();
  }

  /** Stages one record now if nothing is queued before it, else appends a copy of it to the
   *  backlog (the caller may reuse its buffer once `send` returns, types.ts). */
  private enqueue(p: Peer, record: Uint8Array, more: boolean): void {
    if (p.queued === 0 && p.out.stage(record, more)) {
      p.dirty = true;
      return;
    }
    const copy = new Uint8Array(record); // a copy (not .slice(): on a Buffer that is a view)
    if (more) p.fragments.add(copy);
    p.backlog.push(copy);
    p.backlogBytes += copy.length;
  }

  onMessage(handler: (from: number, message: Uint8Array) => void): void {
    this.handler = handler;
    this.scheduleWake();
  }

  stats(): PeerStats[] {
    return this.peerList.map((p) => ({
      peer: p.id,
      queuedMessages: p.queued,
      queuedBytes: p.backlogBytes,
      outRingUsedBytes: p.out.usedBytes(),
      inRingUsedBytes: p.in.usedBytes(),
      ringCapacity: p.out.capacity,
      sentMessages: p.sent,
      receivedMessages: p.received,
      blocked: p.blocked,
    }));
  }

  /** Switches to fresh rings for a restarted peer. Whatever was queued for or sitting unread in
   *  the old outbound ring is dropped (the count is returned); unread messages the dead peer
   *  sent us are dropped too. */
  replacePeer(nodeId: number, rings: PeerRings): number {
    const old = this.peers[nodeId];
    if (old === undefined) throw new EvmeshError('EVM_INTERNAL', `no mesh node ${nodeId}`, { nodeId });
    const dropped = old.queued + old.out.pendingMessages();
    const p = new Peer(nodeId, rings);
    this.peers[nodeId] = p;
    this.peerList[this.peerList.indexOf(old)] = p;
    this.scheduleWake();
    return dropped;
  }

  /** Publishes what can be published now and stops listening. Later sends throw. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    const db = this.nodeId * SIGNAL_STRIDE + SIGNAL_DOORBELL;
    Atomics.add(this.signals, db, 1);
    Atomics.notify(this.signals, db);
  }

  // ---- sending ----

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (this.flushMode === 'microtask') queueMicrotask(this.flush);
    else setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const p of this.peerList) {
      if (p.queued > 0) this.writeBacklog(p);
      if (p.dirty) {
        p.dirty = false;
        p.out.publish();
        this.wakeNode(p.id);
      }
    }
    if (this.loopback.length > 0) this.deliverLoopback();
  };

  /** Stages backlog messages until the ring is full; leaves the peer blocked (flag set) if some remain. */
  private writeBacklog(p: Peer): void {
    for (;;) {
      const q = p.backlog;
      let i = p.backlogHead;
      while (i < q.length && p.out.stage(q[i]!, p.fragments.has(q[i]!))) {
        p.backlogBytes -= q[i]!.length;
        i++;
      }
      if (i > p.backlogHead) p.dirty = true;
      if (i === q.length) {
        p.backlog = [];
        p.backlogHead = 0;
        p.blocked = false;
        return;
      }
      p.backlogHead = i;
      if (i > 1024 && i * 2 > q.length) {
        p.backlog = q.slice(i);
        p.backlogHead = 0;
      }
      if (p.blocked) return;
      // Publish what fits, then ask for a wake-up and look once more: the consumer may have
      // drained between our last look and the flag (it checks the flag after storing its head).
      if (p.dirty) {
        p.dirty = false;
        p.out.publish();
        this.wakeNode(p.id);
      }
      p.out.markProducerWaiting();
      p.blocked = true;
      const next = p.backlog[p.backlogHead]!;
      if (!p.out.stage(next, p.fragments.has(next))) return;
      p.backlogBytes -= p.backlog[p.backlogHead]!.length;
      p.backlogHead++;
      p.dirty = true;
      p.blocked = false;
    }
  }

  private deliverLoopback(): void {
    const msgs = this.loopback.splice(0);
    const h = this.handler;
    if (h === undefined) {
      this.loopback.unshift(...msgs);
      return;
    }
    for (const m of msgs) h(this.nodeId, m);
  }

  private wakeNode(node: number): void {
    const base = node * SIGNAL_STRIDE;
    if (Atomics.compareExchange(this.signals, base + SIGNAL_SLEEPING, 1, 0) === 1) {
      Atomics.add(this.signals, base + SIGNAL_DOORBELL, 1);
      Atomics.notify(this.signals, base + SIGNAL_DOORBELL);
    }
  }

  // ---- receiving ----

  /** True when a wake-up would find work: inbound data (once a handler exists) or a blocked
   *  outbound ring whose consumer has drained since. */
  private hasWork(): boolean {
    for (const p of this.peerList) {
      if (this.handler !== undefined && p.in.hasData()) return true;
      if (p.blocked && !p.out.isProducerWaiting()) return true;
    }
    return false;
  }

  private scheduleWake(): void {
    if (this.wakeScheduled || this.closed) return;
    this.wakeScheduled = true;
    setImmediate(this.onWake);
  }

  /** Sleeps on our doorbell unless there is work already (then yields one turn and runs). A wait
   *  that is still pending is reused: whoever clears our sleeping flag notifies it. */
  private arm(): void {
    if (this.closed) return;
    const base = this.nodeId * SIGNAL_STRIDE;
    const seen = Atomics.load(this.signals, base + SIGNAL_DOORBELL);
    Atomics.store(this.signals, base + SIGNAL_SLEEPING, 1);
    if (this.hasWork()) {
      Atomics.store(this.signals, base + SIGNAL_SLEEPING, 0);
      this.scheduleWake();
      return;
    }
    if (this.waiting) return;
    const r = waitAsync(this.signals, base + SIGNAL_DOORBELL, seen);
    if (!r.async) {
      Atomics.store(this.signals, base + SIGNAL_SLEEPING, 0);
      this.scheduleWake();
      return;
    }
    this.waiting = true;
    r.value.then(this.onDoorbell);
  }

  private readonly onDoorbell = (): void => {
    this.waiting = false;
    if (this.closed) return;
    Atomics.store(this.signals, this.nodeId * SIGNAL_STRIDE + SIGNAL_SLEEPING, 0);
    if (!this.wakeScheduled) this.onWake();
  };

  private readonly onWake = (): void => {
    this.wakeScheduled = false;
    if (this.closed) return;
    try {
      this.pump();
    } finally {
      if (!this.wakeScheduled) this.arm();
    }
  };

  /** Drains every inbound ring into the handler and retries blocked outbound rings. */
  private pump(): void {
    for (const p of this.peerList) {
      if (p.blocked && !p.out.isProducerWaiting()) {
        p.blocked = false;
        this.scheduleFlush();
      }
    }
    const h = this.handler;
    if (h === undefined) return;
    for (const p of this.peerList) {
      if (!p.in.hasData()) continue;
      const from = p.id;
      // Wake a producer waiting for space as soon as the space is free, before delivering.
      // drainCopy's views are private copies, so fragments can be kept until the last arrives.
      p.in.drainCopy((m, more) => {
        if (more) { (p.partial ??= []).push(m); return; }
        if (p.partial !== undefined) {
          p.partial.push(m);
          m = join(p.partial);
          p.partial = undefined;
        }
        p.received++;
        h(from, m);
      }, () => {
        if (p.in.takeProducerWaiting()) this.wakeNode(from);
      });
    }
  }
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const part of parts) { out.set(part, off); off += part.length; }
  return out;
}
