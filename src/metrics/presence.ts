// Who is connected and subscribed in this thread, per protocol: evmesh's own gauges, and the
// source of upstream's connection and sub-topic gauges (M7, M8; distinct topics are counted on
// the main thread after the shards' values are summed, aggregate.ts).
import { Gauge, type Registry } from 'prom-client';

export class Presence {
  readonly connections = new Map<string, number>();
  /** protocol \0 topic → subscriptions */
  readonly subscriptions = new Map<string, number>();

  connected(protocol: string, by: number): void {
    this.connections.set(protocol, (this.connections.get(protocol) ?? 0) + by);
  }

  subscribed(protocol: string, topic: string, by: number): void {
    const key = `${protocol}\0${topic}`;
    const n = (this.subscriptions.get(key) ?? 0) + by;
    if (n > 0) this.subscriptions.set(key, n); else this.subscriptions.delete(key);
  }

  count(protocols: readonly string[]): number {
    let n = 0;
    for (const p of protocols) n += this.connections.get(p) ?? 0;
    return n;
  }

  register(registry: Registry): void {
    const self = this;
    new Gauge({
      name: 'evmesh_connections', help: 'Open client connections per protocol', labelNames: ['protocol'], registers: [registry],
      collect() {
        this.reset();
        for (const [protocol, n] of self.connections) this.set({ protocol }, n);
      },
    });
    new Gauge({
      name: 'evmesh_subscriptions', help: 'Subscriptions of connected clients per protocol and topic', labelNames: ['protocol', 'topic'], registers: [registry],
      collect() {
        this.reset();
        for (const [key, n] of self.subscriptions) {
          const [protocol, topic] = key.split('\0') as [string, string];
          this.set({ protocol, topic }, n);
        }
      },
    });
  }
}
