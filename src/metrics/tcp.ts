// The TCP port's metrics: upstream's TCP meter (spec M7) and general counters (M5) for the
// EventMesh TCP protocol and evmesh's binary protocol (both served on ports.tcp, both labelled
// with the TCP set of M4), plus evmesh's own per-protocol connection and subscription gauges.
// Connections call open() once and then only touch plain number fields (TrafficCell).
import { Gauge, type Registry } from 'prom-client';
import { clientAddress, serverIp, TCP_LABELS, tcpLabels, type Labels } from './labels.js';
import type { Presence } from './presence.js';
import { sumCells, type Traffic, type TrafficCell } from './traffic.js';
import { Window } from './window.js';

export const TCP_PORT_PROTOCOLS = ['eventmesh-tcp', 'binary'] as const;
export type TcpPortProtocol = (typeof TCP_PORT_PROTOCOLS)[number];

export interface TcpConnectionMetrics {
  /** This connection's M5 counters; increment the fields directly. */
  readonly traffic: TrafficCell;
  subscribed(topic: string): void;
  unsubscribed(topic: string): void;
  /** The connection closed (idempotent). */
  closed(): void;
}

interface Socketish { readonly localAddress?: string | undefined; readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined }

const TPS = {
  fromClient: { name: 'eventmesh_tcp_client_eventmesh_tps', help: 'TPS from client to EventMesh (M7)' },
  toClient: { name: 'eventmesh_tcp_eventmesh_client_tps', help: 'TPS from EventMesh to client (M7)' },
  toMq: { name: 'eventmesh_tcp_eventmesh_mq_tps', help: 'TPS from EventMesh to storage (M7)' },
  fromMq: { name: 'eventmesh_tcp_mq_eventmesh_tps', help: 'TPS from storage to EventMesh (M7; upstream reports the EventMesh→MQ value here, evmesh the real one)' },
} as const;

export class TcpPortMetrics {
  private labels: Labels | undefined;
  private host = '127.0.0.1';
  private readonly tcpTraffic = new Set<TrafficCell>();
  readonly window: Window<keyof typeof TPS>;

  constructor(private readonly traffic: Traffic, private readonly presence: Presence, windowMs: number) {
    this.window = new Window(() => this.totals(), windowMs);
  }

  /** The TCP port is listening at host:port (config host and the bound port). */
  bind(host: string, port: number): void {
    this.host = serverIp(host);
    this.labels = tcpLabels(this.host, port);
  }

  open(protocol: TcpPortProtocol, socket: Socketish): TcpConnectionMetrics {
    const base = this.labels ?? tcpLabels(this.host, 0);
    // M4: net_host_name is the server IP the connection came in on when the port binds all.
    const local = socket.localAddress === undefined ? this.host : clientAddress(socket.localAddress);
    const cell = this.traffic.cell(protocol, {
      ...base, net_host_name: local, otel_scope_name: 'general', client_protocol_type: 'TCP',
      client_address: clientAddress(socket.remoteAddress, socket.remotePort),
    });
    this.tcpTraffic.add(cell); // a reconnect from the same ip:port shares its cell
    this.presence.connected(protocol, 1);
    const topics = new Map<string, number>();
    let open = true;
    const change = (topic: string, by: number): void => {
      this.presence.subscribed(protocol, topic, by);
      const t = (topics.get(topic) ?? 0) + by;
      if (t > 0) topics.set(topic, t); else topics.delete(topic);
    };
    return {
      traffic: cell,
      subscribed: (topic) => { if (open) change(topic, 1); },
      unsubscribed: (topic) => { if (open && topics.has(topic)) change(topic, -1); },
      closed: () => {
        if (!open) return;
        open = false;
        this.presence.connected(protocol, -1);
        for (const [topic, n] of [...topics]) change(topic, -n);
      },
    };
  }

  private totals(): Record<keyof typeof TPS, number> {
    return sumCells(this.tcpTraffic);
  }

  register(registry: Registry): void {
    const self = this;
    const gaugeLabels = (): Labels | undefined => self.labels;
    new Gauge({
      name: 'eventmesh_tcp_connection_num_ratio', help: 'Number of TCP connections (M7)', labelNames: TCP_LABELS, registers: [registry],
      collect() {
        this.reset();
        const l = gaugeLabels();
        if (l !== undefined) this.set(l, self.presence.count(TCP_PORT_PROTOCOLS));
      },
    });
    for (const [key, { name, help }] of Object.entries(TPS) as [keyof typeof TPS, { name: string; help: string }][]) {
      new Gauge({
        name, help, labelNames: TCP_LABELS, registers: [registry],
        collect() {
          this.reset();
          const l = gaugeLabels();
          if (l !== undefined) this.set(l, self.window.get(key));
        },
      });
    }
  }
}
