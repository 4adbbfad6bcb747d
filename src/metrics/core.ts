// evmesh's own core, ring and storage metrics of one node (a shard, or the main thread's
// controller). Core and rings keep their own counters (Core.stats(), RingMesh.stats()); they are
// read only when the registry is collected, so publish/deliver paths pay nothing for them.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CoreStats } from '../core/core.js';
import type { PeerStats } from '../shard/ring-mesh.js';

export interface NodeSources {
  readonly node: string;
  readonly core: () => CoreStats;
  readonly rings?: () => PeerStats[];
}

type CounterKey = 'published' | 'appended' | 'delivered' | 'redelivered' | 'acked' | 'deadLettered' | 'corruptEvents';

const CORE_COUNTERS: [string, CounterKey, string][] = [
  ['evmesh_core_published_events_total', 'published', 'Events published by this node\'s clients and acknowledged by their partition owner'],
  ['evmesh_core_appended_events_total', 'appended', 'Events appended to the partitions this node owns'],
  ['evmesh_core_deliveries_total', 'delivered', 'Deliveries sent from this node\'s partitions (first deliveries and redeliveries)'],
  ['evmesh_core_redeliveries_total', 'redelivered', 'Redeliveries (attempt > 1) after an ack timeout, a reject or a member leaving'],
  ['evmesh_core_acks_total', 'acked', 'Deliveries acknowledged by their consumer'],
  ['evmesh_core_dead_letters_total', 'deadLettered', 'Events moved to their dead-letter topic after delivery.maxAttempts'],
  ['evmesh_core_corrupt_events_total', 'corruptEvents', 'Delivered events that could not be decoded (never handed to a handler)'],
];

/** Per-thread storage timings, observed once per group commit and per fsync. */
export class StorageMetrics {
  readonly appendSeconds: Histogram;
  readonly fsyncSeconds: Histogram;
  readonly appendedBytes: Counter;

  constructor(registry: Registry) {
    // 50 µs .. 2.5 s: an in-page-cache writev is tens of µs, an fdatasync 0.1–100 ms.
    const buckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    this.appendSeconds = new Histogram({ name: 'evmesh_storage_append_duration_seconds', help: 'Time to write one group commit of appends to the embedded log (fsync "always" included)', buckets, registers: [registry] });
    this.fsyncSeconds = new Histogram({ name: 'evmesh_storage_fsync_duration_seconds', help: 'Time of one fdatasync of an embedded log segment', buckets, registers: [registry] });
    this.appendedBytes = new Counter({ name: 'evmesh_storage_appended_bytes_total', help: 'Record batch bytes written to the embedded log', registers: [registry] });
  }
}

export function registerNodeMetrics(registry: Registry, sources: () => readonly NodeSources[]): void {
  const each = (fn: (s: NodeSources, stats: CoreStats) => void): void => {
    for (const s of sources()) fn(s, s.core());
  };
  for (const [name, key, help] of CORE_COUNTERS) {
    new Counter({
      name, help, labelNames: ['shard'], registers: [registry],
      collect() {
        this.reset();
        each((s, st) => this.inc({ shard: s.node }, st[key]));
      },
    });
  }
  new Gauge({
    name: 'evmesh_core_inflight_deliveries', help: 'Deliveries from this node\'s partitions not yet acknowledged', labelNames: ['shard'], registers: [registry],
    collect() { this.reset(); each((s, st) => this.set({ shard: s.node }, st.inflight)); },
  });
  new Gauge({
    name: 'evmesh_core_pending_publishes', help: 'Events published from this node awaiting their owner\'s acknowledgement', labelNames: ['shard'], registers: [registry],
    collect() { this.reset(); each((s, st) => this.set({ shard: s.node }, st.pendingPublishes)); },
  });
  new Gauge({
    name: 'evmesh_consumer_lag_events', help: 'Events of a topic not yet consumed by a consumer group (end offset − committed position, summed over partitions)', labelNames: ['topic', 'group'], registers: [registry],
    collect() {
      this.reset();
      each((_, st) => { for (const g of st.groups) this.inc({ topic: g.topic, group: g.group }, g.lag); });
    },
  });
  const ring = (name: string, help: string, pick: (p: PeerStats) => number): void => {
    new Gauge({
      name, help, labelNames: ['shard', 'peer'], registers: [registry],
      collect() {
        this.reset();
        for (const s of sources()) for (const p of s.rings?.() ?? []) this.set({ shard: s.node, peer: String(p.peer) }, pick(p));
      },
    });
  };
  ring('evmesh_ring_used_bytes', 'Bytes in a cross-shard ring not yet drained by the receiving peer', (p) => p.outRingUsedBytes);
  ring('evmesh_ring_capacity_bytes', 'Capacity of a cross-shard ring (shard.ringBytes)', (p) => p.ringCapacity);
  ring('evmesh_ring_backlog_bytes', 'Bytes waiting in memory because the ring to the peer was full', (p) => p.queuedBytes);
  new Counter({
    name: 'evmesh_ring_messages_sent_total', help: 'Messages sent to a peer through its ring', labelNames: ['shard', 'peer'], registers: [registry],
    collect() {
      this.reset();
      for (const s of sources()) for (const p of s.rings?.() ?? []) this.inc({ shard: s.node, peer: String(p.peer) }, p.sentMessages);
    },
  });
}
