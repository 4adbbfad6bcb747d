// The four upstream general counters (spec M5), fed from plain number cells: a connection holds
// its cell and does `cell.fromClient++` per frame (no label hashing on the hot path); the cells
// become labelled counter series only when the registry is collected (a scrape).
import { Counter, type Registry } from 'prom-client';
import { GENERAL_LABELS, type Labels } from './labels.js';

export interface TrafficCell {
  /** Frames client → EventMesh (M5: every decoded frame, heartbeats and acks included). */
  fromClient: number;
  /** Events handed to storage (accepted publishes, replies). */
  toMq: number;
  /** Events received from storage (pushes, request-reply replies). */
  fromMq: number;
  /** Frames EventMesh → client (responses and pushes). */
  toClient: number;
}

interface Entry { readonly labels: Labels; readonly protocol: string; readonly cell: TrafficCell }

const FIELDS = ['fromClient', 'toMq', 'fromMq', 'toClient'] as const;

/** M5 names (instrument `eventmesh.general.*`, unit `1` → `_ratio`, counter → `_total`). */
export const GENERAL_COUNTERS: Record<(typeof FIELDS)[number], { name: string; help: string }> = {
  fromClient: { name: 'eventmesh_general_client_eventmesh_message_num_ratio_total', help: 'Number of messages from client to EventMesh (M5)' },
  toMq: { name: 'eventmesh_general_eventmesh_mq_message_num_ratio_total', help: 'Number of messages from EventMesh to storage (M5)' },
  fromMq: { name: 'eventmesh_general_mq_eventmesh_message_num_ratio_total', help: 'Number of messages from storage to EventMesh (M5)' },
  toClient: { name: 'eventmesh_general_eventmesh_client_message_num_ratio_total', help: 'Number of messages from EventMesh to client (M5)' },
};

/** Field-wise sum of traffic cells (TPS windows, per-protocol totals). */
export function sumCells(cells: Iterable<TrafficCell>, into: TrafficCell = { fromClient: 0, toMq: 0, fromMq: 0, toClient: 0 }): TrafficCell {
  for (const c of cells) for (const f of FIELDS) into[f] += c[f];
  return into;
}

export class Traffic {
  private readonly entries = new Map<string, Entry>();

  /** The cell of one label set, created on first use and kept (counters are cumulative, as
   *  upstream's OpenTelemetry sums are: a closed connection's series stays). `protocol` is
   *  evmesh's own (eventmesh-tcp, binary, grpc) for the per-protocol totals. */
  cell(protocol: string, labels: Labels): TrafficCell {
    const key = `${protocol}\0${GENERAL_LABELS.map((l) => labels[l] ?? '').join('\0')}`;
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { labels, protocol, cell: { fromClient: 0, toMq: 0, fromMq: 0, toClient: 0 } };
      this.entries.set(key, e);
    }
    return e.cell;
  }

  /** Sums of every cell of each protocol. */
  byProtocol(): Map<string, TrafficCell> {
    const out = new Map<string, TrafficCell>();
    for (const e of this.entries.values()) {
      const t = out.get(e.protocol);
      if (t === undefined) out.set(e.protocol, sumCells([e.cell]));
      else sumCells([e.cell], t);
    }
    return out;
  }

  /** Registers the four M5 counters on `registry`. */
  register(registry: Registry): void {
    const entries = this.entries;
    for (const f of FIELDS) {
      const { name, help } = GENERAL_COUNTERS[f];
      new Counter({
        name, help, labelNames: GENERAL_LABELS, registers: [registry],
        collect() {
          this.reset();
          // M3: a series appears only after its first recording.
          for (const e of entries.values()) if (e.cell[f] > 0) this.inc(e.labels, e.cell[f]);
        },
      });
    }
  }
}
