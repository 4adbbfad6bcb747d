// The shared memory of a mesh of `nodes` threads: one SPSC ring per ordered pair of nodes and one
// signal block with a doorbell + sleeping flag per node. Made by the supervisor, handed to every
// worker through workerData (SharedArrayBuffers are shared, not copied, by structured clone).
import { Ring } from './ring.js';

/** Int32 stride between nodes in the signal block: one 64-byte line per node. */
export const SIGNAL_STRIDE = 16;
/** Offsets inside a node's line: the doorbell word producers bump, and the consumer's sleeping flag. */
export const SIGNAL_DOORBELL = 0;
export const SIGNAL_SLEEPING = 1;

export interface MeshLayout {
  readonly nodes: number;
  readonly ringBytes: number;
  readonly signals: SharedArrayBuffer;
  /** rings[from][to]: the ring `from` writes and `to` reads; null on the diagonal. */
  readonly rings: (SharedArrayBuffer | null)[][];
}

/** One node's view of its link with a peer. */
export interface PeerRings {
  readonly out: SharedArrayBuffer;
  readonly in: SharedArrayBuffer;
}

export function createMeshLayout(nodes: number, ringBytes: number): MeshLayout {
  const rings: (SharedArrayBuffer | null)[][] = [];
  for (let from = 0; from < nodes; from++) {
    const row: (SharedArrayBuffer | null)[] = [];
    for (let to = 0; to < nodes; to++) row.push(from === to ? null : Ring.create(ringBytes).buffer);
    rings.push(row);
  }
  return { nodes, ringBytes, signals: new SharedArrayBuffer(nodes * SIGNAL_STRIDE * 4), rings };
}

/** Replaces every ring to and from `node` with a fresh, empty one (a restarted node). */
export function renewNodeRings(layout: MeshLayout, node: number): void {
  for (let other = 0; other < layout.nodes; other++) {
    if (other === node) continue;
    layout.rings[node]![other] = Ring.create(layout.ringBytes).buffer;
    layout.rings[other]![node] = Ring.create(layout.ringBytes).buffer;
  }
}

export function peerRings(layout: MeshLayout, self: number, peer: number): PeerRings {
  const out = layout.rings[self]?.[peer];
  const inbound = layout.rings[peer]?.[self];
  if (!out || !inbound) throw new RangeError(`no rings between nodes ${self} and ${peer}`);
  return { out, in: inbound };
}
