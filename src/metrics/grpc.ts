// Upstream's GRPC meter (spec M8) and the gRPC side of the general counters (M5) as a typed API
// the gRPC adapter calls. Counters are plain number cells (TrafficCell) per client address.
import { Gauge, Histogram, type Registry } from 'prom-client';
import { clientAddress, GRPC_LABELS, grpcLabels, serverIp, type Labels } from './labels.js';
import type { Presence } from './presence.js';
import { sumCells, type Traffic, type TrafficCell } from './traffic.js';
import { Window } from './window.js';

const TPS = {
  fromClient: { name: 'eventmesh_grpc_client_eventmesh_tps', help: 'gRPC calls per second from client to EventMesh (M8)' },
  toClient: { name: 'eventmesh_grpc_eventmesh_client_tps', help: 'gRPC responses per second from EventMesh to client (M8)' },
  toMq: { name: 'eventmesh_grpc_eventmesh_mq_tps', help: 'Events per second from EventMesh to storage (M8)' },
  fromMq: { name: 'eventmesh_grpc_mq_eventmesh_tps', help: 'Events per second from storage to EventMesh (M8)' },
} as const;

/** M8: explicit buckets in milliseconds. */
const PUBLISH_BUCKETS_MS = [1, 3, 5, 10, 30, 50, 100, 300, 500, 1000, 3000, 5000, 10000];

export class GrpcMetrics {
  private labels: Labels | undefined;
  private readonly cells = new Set<TrafficCell>();
  private histogram: Histogram | undefined;
  readonly window: Window<keyof typeof TPS>;

  constructor(private readonly traffic: Traffic, private readonly presence: Presence, windowMs: number) {
    this.window = new Window(() => this.totals(), windowMs);
  }

  /** The gRPC listener is up at host:port (config host, bound port). */
  bind(host: string, port: number): void {
    this.labels = grpcLabels(serverIp(host), port);
  }

  /** The M5 cell of a client: `ip` is the event's `ip` attribute (M4), undefined → `unkown`.
   *  Cache it per stream/client; increment its fields: fromClient per call (a batch adds its
   *  event count), toMq per event handed to core, fromMq per event consumed or reply received,
   *  toClient per response or push written. */
  client(ip: string | undefined): TrafficCell {
    const cell = this.traffic.cell('grpc', {
      ...(this.labels ?? grpcLabels('127.0.0.1', 0)), otel_scope_name: 'general', client_protocol_type: 'GRPC', client_address: clientAddress(ip),
    });
    this.cells.add(cell);
    return cell;
  }

  /** A gRPC connection (HTTP/2 session) opened (+1) or closed (-1). */
  connected(by: 1 | -1): void { this.presence.connected('grpc', by); }
  subscribed(topic: string): void { this.presence.subscribed('grpc', topic, 1); }
  unsubscribed(topic: string): void { this.presence.subscribed('grpc', topic, -1); }
  /** One publish handled, call received → response sent (M8 histogram, never recorded upstream). */
  publishHandled(ms: number): void {
    if (this.labels !== undefined) this.histogram?.observe(this.labels, ms);
  }

  private totals(): Record<keyof typeof TPS, number> {
    return sumCells(this.cells);
  }

  register(registry: Registry): void {
    const self = this;
    for (const [key, { name, help }] of Object.entries(TPS) as [keyof typeof TPS, { name: string; help: string }][]) {
      new Gauge({
        name, help, labelNames: GRPC_LABELS, registers: [registry],
        collect() { this.reset(); if (self.labels) this.set(self.labels, self.window.get(key)); },
      });
    }
    this.histogram = new Histogram({
      name: 'eventmesh_grpc_publish_handle_cost_milliseconds', help: 'Publish handling time (M8)', labelNames: GRPC_LABELS,
      buckets: PUBLISH_BUCKETS_MS, registers: [registry],
    });
  }
}
