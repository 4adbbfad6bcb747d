// This thread's metrics: one prom-client Registry per thread (each shard worker, and the main
// thread), holding every instrument. Protocol adapters import `threadMetrics` and record into
// it; the main thread gathers every shard's registry with the 'metrics' shard query and sums
// them (aggregate.ts). Module state is per thread, so this is per shard by construction.
import { Counter, Registry } from 'prom-client';
import { registerNodeMetrics, StorageMetrics, type NodeSources } from './core.js';
import { GrpcMetrics } from './grpc.js';
import { HttpMetrics } from './http.js';
import { Presence } from './presence.js';
import { TcpPortMetrics } from './tcp.js';
import { Traffic } from './traffic.js';

/** Upstream's TPS windows (M7: TCP 30 s, M8: gRPC 60 s); config metrics.*TpsWindowMs. */
const TCP_WINDOW_MS = 30_000;
const GRPC_WINDOW_MS = 60_000;

export class ThreadMetrics {
  readonly registry = new Registry();
  readonly traffic = new Traffic();
  readonly presence = new Presence();
  readonly tcp = new TcpPortMetrics(this.traffic, this.presence, TCP_WINDOW_MS);
  readonly http = new HttpMetrics();
  readonly grpc = new GrpcMetrics(this.traffic, this.presence, GRPC_WINDOW_MS);
  readonly storage: StorageMetrics;
  private readonly nodes: NodeSources[] = [];

  constructor() {
    this.traffic.register(this.registry);
    this.presence.register(this.registry);
    this.tcp.register(this.registry);
    this.http.register(this.registry);
    this.grpc.register(this.registry);
    this.storage = new StorageMetrics(this.registry);
    registerNodeMetrics(this.registry, () => this.nodes);
    const traffic = this.traffic;
    const perProtocol = (name: string, help: string, pick: (t: { fromClient: number; toClient: number; toMq: number; fromMq: number }) => number): void => {
      new Counter({
        name, help, labelNames: ['protocol'], registers: [this.registry],
        collect() {
          this.reset();
          for (const [protocol, t] of traffic.byProtocol()) this.inc({ protocol }, pick(t));
        },
      });
    };
    perProtocol('evmesh_protocol_frames_received_total', 'Frames (or calls) received from clients per protocol', (t) => t.fromClient);
    perProtocol('evmesh_protocol_frames_sent_total', 'Frames (or responses) sent to clients per protocol', (t) => t.toClient);
    perProtocol('evmesh_protocol_events_published_total', 'Events accepted from clients and handed to core per protocol', (t) => t.toMq);
    perProtocol('evmesh_protocol_events_pushed_total', 'Events pushed to clients per protocol (deliveries and request-reply replies)', (t) => t.fromMq);
  }

  /** Starts the TPS windows (config metrics.tcpTpsWindowMs / metrics.grpcTpsWindowMs). */
  start(windows: { tcpTpsWindowMs: number; grpcTpsWindowMs: number } = { tcpTpsWindowMs: TCP_WINDOW_MS, grpcTpsWindowMs: GRPC_WINDOW_MS }): void {
    this.tcp.window.start(windows.tcpTpsWindowMs);
    this.grpc.window.start(windows.grpcTpsWindowMs);
  }

  /** A core (and its rings) living in this thread; read at collection time only. */
  addNode(node: NodeSources): () => void {
    this.nodes.push(node);
    return () => { const i = this.nodes.indexOf(node); if (i >= 0) this.nodes.splice(i, 1); };
  }

  stop(): void {
    this.tcp.window.stop();
    this.grpc.window.stop();
  }
}

export const threadMetrics = new ThreadMetrics();
