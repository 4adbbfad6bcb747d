// Test harness: N shard Cores + the controller Core in ONE thread, connected by an in-memory
// Mesh (per-pair FIFO; delivery asynchronous, in setImmediate batches like the real transport's
// per-turn batching), each with its own MemoryStorage. A node can be killed and restarted with
// the same storage object (a durable restart): the others get peerReset(node).
import { Core, type CoreOptions } from '../../src/core/core.js';
import type { Client, Delivery, Mesh } from '../../src/core/types.js';
import { MemoryStorage } from '../../src/storage/memory.js';

type Handler = (from: number, message: Uint8Array) => void;

export class MeshNetwork {
  private readonly handlers = new Map<number, Handler>();
  private readonly dead = new Set<number>();
  private queue: { from: number; to: number; msg: Uint8Array }[] = [];
  private scheduled = false;
  /** Messages and bytes carried, for the bench. */
  messages = 0;
  bytes = 0;

  constructor(readonly nodes: readonly number[]) {}

  endpoint(nodeId: number): Mesh {
    this.dead.delete(nodeId);
    this.handlers.delete(nodeId);
    return {
      nodeId,
      nodes: this.nodes,
      send: (to, message) => {
        if (this.dead.has(nodeId)) return;
        this.messages++;
        this.bytes += message.length;
        // Mesh contract (types.ts): send copies, the sender may reuse its buffer.
        this.queue.push({ from: nodeId, to, msg: new Uint8Array(message) });
        if (!this.scheduled) { this.scheduled = true; setImmediate(() => this.flush()); }
      },
      onMessage: (handler) => { this.handlers.set(nodeId, handler); },
    };
  }

  private flush(): void {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    for (const { from, to, msg } of q) {
      if (this.dead.has(from) || this.dead.has(to)) continue;
      this.handlers.get(to)?.(from, msg);
    }
  }

  /** The node stops sending and receiving; messages in transit to or from it are dropped. */
  kill(nodeId: number): void {
    this.dead.add(nodeId);
    this.handlers.delete(nodeId);
    this.queue = this.queue.filter((m) => m.from !== nodeId && m.to !== nodeId);
  }
}

export class FakeClock {
  t = 1_700_000_000_000;
  now = (): number => this.t;
  advance(ms: number): void { this.t += ms; }
}

export type ClusterOptions = Partial<Omit<CoreOptions, 'mesh' | 'storage' | 'shards'>> & { shards?: number };

export const DEFAULTS: Omit<CoreOptions, 'mesh' | 'storage' | 'shards'> = {
  defaultPartitions: 4,
  autoCreateTopics: true,
  ackTimeoutMs: 30_000,
  maxAttempts: 3,
  maxInflight: 1000,
  deadLetterTopic: '{topic}.{group}.DLQ',
  requestTimeoutMs: 10_000,
  maxEventBytes: 1 << 20,
  maxBatchEvents: 1000,
  commitIntervalMs: 50,
  tickMs: 5,
};

export class Cluster {
  readonly cores: Core[] = [];
  readonly storages: MemoryStorage[];
  readonly net: MeshNetwork;
  readonly shards: number;
  readonly errors: { node: number; where: string; err: unknown }[] = [];
  /** Core's timers are unref()ed; tests awaiting a timeout need the loop kept alive. */
  private readonly keepAlive = setInterval(() => {}, 1000);

  private constructor(readonly options: ClusterOptions) {
    this.shards = options.shards ?? 2;
    const nodes = Array.from({ length: this.shards + 1 }, (_, i) => i);
    this.net = new MeshNetwork(nodes);
    this.storages = nodes.map(() => new MemoryStorage());
  }

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const c = new Cluster(options);
    for (let id = 0; id <= c.shards; id++) c.cores[id] = c.makeCore(id);
    // Controller first (it answers the shards' topic requests; the mesh queues them anyway).
    await c.cores[c.shards]!.start();
    await Promise.all(c.cores.slice(0, c.shards).map((core) => core.start()));
    return c;
  }

  private makeCore(id: number): Core {
    const { shards: _s, ...rest } = this.options;
    return new Core({
      ...DEFAULTS,
      ...rest,
      mesh: this.net.endpoint(id),
      storage: this.storages[id]!,
      shards: this.shards,
      onError: (err, where) => { this.errors.push({ node: id, where, err }); },
    });
  }

  get controller(): number { return this.shards; }

  client(node: number): Client {
    return this.cores[node]!.client();
  }

  /** Kills node `id` (its in-memory state is lost, its storage survives), tells the others
   *  (peerReset) and starts a fresh Core for it on the same storage. */
  async restart(id: number): Promise<Core> {
    const old = this.cores[id]!;
    this.net.kill(id);
    await old.close();
    const fresh = this.makeCore(id);
    this.cores[id] = fresh;
    for (const core of this.cores) if (core !== fresh) core.peerReset(id);
    await fresh.start();
    return fresh;
  }

  async close(): Promise<void> {
    clearInterval(this.keepAlive);
    await Promise.all(this.cores.map((c) => c.close()));
  }
}

/** Resolves when `pred()` holds, polling each macrotask turn; rejects after `ms` of real time. */
export async function until(pred: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Lets the mesh and microtasks settle for a few turns. */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

export function ev(id: string, extra: Record<string, string | number | boolean> = {}, data?: string) {
  const attributes = { specversion: '1.0', id, source: '/test', type: 'test.event', ...extra };
  return data === undefined ? { attributes } : { attributes, data: new TextEncoder().encode(data) };
}

export function text(d: Delivery): string {
  return d.event.data ? new TextDecoder().decode(d.event.data) : '';
}
