// The supervisor on the main thread (DESIGN §1): spawns one worker per shard, creates every ring
// of the mesh (shards + 1 nodes; the main thread is node `shards` with its own RingMesh), runs
// the lifecycle protocol (protocol.ts), restarts crashed shards with backoff and a cap, and
// stops everything within a bound.
//
// Events: 'peerReset' (nodeId) after a crashed shard's rings were replaced everywhere;
// 'restarted' (nodeId, readyInfo) when its replacement is ready; 'fatal' (WireError) when a shard
// crashed more often than the restart policy allows — with no 'fatal' listener the process
// exits with code 1.
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { EvmeshError, toEvmeshError, type WireError } from '../errors.js';
import { createMeshLayout, type MeshLayout, peerRings, renewNodeRings } from './mesh-layout.js';
import type { FromWorker, ShardWorkerData, ToWorker } from './protocol.js';
import { DEFAULT_RING_BYTES } from './ring.js';
import { type FlushMode, RingMesh } from './ring-mesh.js';
import { spawnWorker } from './spawn.js';

export interface RestartPolicy {
  /** Restarts allowed per shard within `windowMs`; one more is fatal. */
  readonly maxRestarts: number;
  readonly windowMs: number;
  /** Delay before the first restart in a window, doubled for each further one, capped. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { maxRestarts: 5, windowMs: 60_000, backoffMs: 100, maxBackoffMs: 5_000 };

export interface SupervisorOptions {
  readonly restart?: Partial<RestartPolicy>;
  /** One line per event worth an operator's eye (crashes, restarts). Default: stderr. */
  readonly log?: (line: string) => void;
}

export interface StartOptions {
  readonly shards: number;
  /** The worker entry module; it calls runShard (worker-host.ts). */
  readonly workerUrl: URL;
  readonly workerData?: unknown;
  /** Data bytes per ring (power of two); default 1 MiB. */
  readonly ringBytes?: number;
  readonly flush?: FlushMode;
  /** Bound on the wait for every shard's 'ready'; default 30 s. */
  readonly readyTimeoutMs?: number;
  /** Called with the main thread's mesh before any worker is spawned (awaited), so the main
   *  node can serve the shards while they start. */
  readonly onMesh?: (mesh: RingMesh) => unknown;
}

interface Slot {
  readonly nodeId: number;
  worker: Worker | undefined;
  ready: boolean;
  readyInfo: unknown;
  /** The worker's own account of why it is going down ('fatal' message or 'error' event). */
  lastError: string | undefined;
  restarts: number[];
  restartTimer: NodeJS.Timeout | undefined;
  drained: (() => void) | undefined;
  /** Queries sent to this incarnation awaiting its answer, by query id. */
  answers: Map<number, (answer: ShardAnswer) => void>;
}

/** One shard's answer to Supervisor.query: its value, or the error it (or its absence) gave. */
export type ShardAnswer =
  | { readonly shard: number; readonly value: unknown; readonly error?: undefined }
  | { readonly shard: number; readonly error: WireError };

export class Supervisor extends EventEmitter {
  private readonly policy: RestartPolicy;
  private readonly log: (line: string) => void;
  private slots: Slot[] = [];
  private layout: MeshLayout | undefined;
  private mainMesh: RingMesh | undefined;
  private opts: StartOptions | undefined;
  private appHandler: ((nodeId: number, data: unknown) => void) | undefined;
  private readonly askHandlers = new Map<string, (arg: unknown, nodeId: number) => unknown>();
  private stopping = false;
  private nextQueryId = 1;
  private startWaiter: { resolve(): void; reject(err: EvmeshError): void } | undefined;

  constructor(options: SupervisorOptions = {}) {
    super();
    this.policy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
    this.log = options.log ?? ((line) => process.stderr.write(line + '\n'));
  }

  /** The main thread's mesh endpoint (node id = shards). Available after start(). */
  get mesh(): RingMesh {
    if (this.mainMesh === undefined) throw new EvmeshError('EVM_UNAVAILABLE', 'supervisor not started');
    return this.mainMesh;
  }

  get shards(): number {
    return this.slots.length;
  }

  /** Ready info of every shard, by node id (the latest incarnation's). */
  readyInfo(): unknown[] {
    return this.slots.map((s) => s.readyInfo);
  }

  /** Spawns the shards and resolves with their ready info once every one is ready. On failure
   *  (a worker's 'fatal', a crash or the timeout) all workers are terminated and it rejects. */
  async start(opts: StartOptions): Promise<unknown[]> {
    if (this.layout !== undefined) throw new EvmeshError('EVM_CONFLICT', 'supervisor already started');
    if (!Number.isInteger(opts.shards) || opts.shards < 1) throw new EvmeshError('EVM_BAD_CONFIG', 'shards must be a positive integer', { shards: opts.shards });
    this.opts = opts;
    this.layout = createMeshLayout(opts.shards + 1, opts.ringBytes ?? DEFAULT_RING_BYTES);
    this.mainMesh = RingMesh.fromLayout(this.layout, opts.shards, opts.flush === undefined ? {} : { flush: opts.flush });
    try {
      await opts.onMesh?.(this.mainMesh);
    } catch (err) {
      this.mainMesh.close();
      throw err;
    }
    for (let id = 0; id < opts.shards; id++) {
      this.slots.push({ nodeId: id, worker: undefined, ready: false, readyInfo: undefined, lastError: undefined, restarts: [], restartTimer: undefined, drained: undefined, answers: new Map() });
    }
    const allReady = new Promise<void>((resolve, reject) => { this.startWaiter = { resolve, reject }; });
    for (const slot of this.slots) this.spawn(slot);
    const timeoutMs = opts.readyTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EvmeshError('EVM_TIMEOUT', `shards not ready within ${timeoutMs} ms`, { notReady: this.slots.filter((s) => !s.ready).map((s) => s.nodeId) })), timeoutMs);
    });
    try {
      await Promise.race([allReady, timeout]);
    } catch (err) {
      this.stopping = true;
      await this.stopWorkers(STOP_BEFORE_TERMINATE_MS);
      this.mainMesh.close();
      throw err;
    } finally {
      clearTimeout(timer);
      this.startWaiter = undefined;
    }
    return this.readyInfo();
  }

  /** Receives app-level control messages posted by workers (ShardContext.postToMain). */
  onWorkerMessage(handler: (nodeId: number, data: unknown) => void): void {
    this.appHandler = handler;
  }

  /** Answers the shards' named request (ShardContext.ask) on the main thread; the value must be
   *  cloneable, a throw or rejection becomes the shard's error. */
  onAsk(name: string, handler: (arg: unknown, nodeId: number) => unknown): void {
    if (this.askHandlers.has(name)) throw new EvmeshError('EVM_CONFLICT', `ask '${name}' is answered twice`);
    this.askHandlers.set(name, handler);
  }

  /** Sends an app-level control message to a shard (ShardApp.onMainMessage). False if it is down. */
  postToWorker(nodeId: number, data: unknown): boolean {
    return this.postTo(this.slots[nodeId], { t: 'app', data });
  }

  /** Asks every shard the named query (ShardApp.query) and resolves with one answer per shard,
   *  in node order. A shard that is down, crashes meanwhile or does not answer within
   *  `timeoutMs` gives an EVM_UNAVAILABLE / EVM_TIMEOUT error answer; this never rejects. */
  query(name: string, arg?: unknown, { timeoutMs = 5_000 }: { timeoutMs?: number } = {}): Promise<ShardAnswer[]> {
    return Promise.all(this.slots.map((slot) => new Promise<ShardAnswer>((resolve) => {
      const shard = slot.nodeId;
      if (slot.worker === undefined || !slot.ready) {
        resolve({ shard, error: new EvmeshError('EVM_UNAVAILABLE', `shard ${shard} is not running`).toWire() });
        return;
      }
      const id = this.nextQueryId++;
      const timer = setTimeout(() => {
        slot.answers.delete(id);
        resolve({ shard, error: new EvmeshError('EVM_TIMEOUT', `shard ${shard} did not answer '${name}' within ${timeoutMs} ms`).toWire() });
      }, timeoutMs);
      slot.answers.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.postTo(slot, { t: 'query', id, name, arg });
    })));
  }

  /** Drains every shard (bounded), then stops them; workers still running when `timeoutMs` has
   *  passed are terminated. */
  async stop({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const deadline = Date.now() + timeoutMs;
    const live = this.slots.filter((s) => s.worker !== undefined);
    for (const s of this.slots) clearTimeout(s.restartTimer);
    const drained = live.map((s) => new Promise<void>((resolve) => {
      s.drained = resolve;
      if (!this.postTo(s, { t: 'drain' })) resolve();
    }));
    await boundedAll(drained, Math.max(0, deadline - Date.now()) / 2);
    const exited = live.map((s) => new Promise<void>((resolve) => {
      const w = s.worker;
      if (w === undefined) return resolve();
      w.once('exit', () => resolve());
      this.postTo(s, { t: 'stop' });
    }));
    await boundedAll(exited, Math.max(0, deadline - Date.now()));
    await Promise.all(live.map((s) => s.worker?.terminate()));
    this.mainMesh?.close();
  }

  // ---- internals ----

  /** Asks the live workers to stop and terminates those still running after `waitMs`. Stopping
   *  first matters: a worker terminated with uWS sockets open aborts the whole process
   *  ("uv_loop_close() while having open handles"); stopping closes its plugins' listeners. */
  private async stopWorkers(waitMs: number): Promise<void> {
    const live = this.slots.filter((s) => s.worker !== undefined);
    const exited = live.map((s) => new Promise<void>((resolve) => {
      s.worker!.once('exit', () => resolve());
      if (!this.postTo(s, { t: 'stop' })) resolve();
    }));
    await boundedAll(exited, waitMs);
    await Promise.all(live.map((s) => s.worker?.terminate()));
  }

  private postTo(slot: Slot | undefined, msg: ToWorker): boolean {
    if (slot?.worker === undefined) return false;
    slot.worker.postMessage(msg);
    return true;
  }

  private spawn(slot: Slot): void {
    const opts = this.opts!;
    const data: ShardWorkerData = {
      evmesh: { nodeId: slot.nodeId, shards: opts.shards, layout: this.layout!, flush: opts.flush ?? 'microtask' },
      app: opts.workerData,
    };
    const worker = spawnWorker(opts.workerUrl, { workerData: data, name: `evmesh-shard-${slot.nodeId}` });
    slot.worker = worker;
    slot.ready = false;
    slot.lastError = undefined;
    worker.on('message', (msg: FromWorker) => this.onWorkerProtocol(slot, worker, msg));
    worker.on('error', (err) => {
      if (slot.worker === worker) slot.lastError = describe(err);
    });
    worker.on('exit', (code) => this.onExit(slot, worker, code));
  }

  private onWorkerProtocol(slot: Slot, worker: Worker, msg: FromWorker): void {
    if (slot.worker !== worker) return;
    switch (msg.t) {
      case 'ready': {
        slot.ready = true;
        slot.readyInfo = msg.info;
        if (this.startWaiter !== undefined) {
          if (this.slots.every((s) => s.ready)) this.startWaiter.resolve();
        } else {
          this.emit('restarted', slot.nodeId, msg.info);
        }
        break;
      }
      case 'drained':
        slot.drained?.();
        break;
      case 'fatal':
        slot.lastError = `${msg.error.code}: ${msg.error.message}`;
        if (this.startWaiter !== undefined) {
          this.startWaiter.reject(new EvmeshError('EVM_UNAVAILABLE', `shard ${slot.nodeId} failed to start: ${slot.lastError}`, { shard: slot.nodeId, cause: msg.error }));
        }
        break;
      case 'app':
        this.appHandler?.(slot.nodeId, msg.data);
        break;
      case 'ask':
        this.answerAsk(slot, worker, msg);
        break;
      case 'answer': {
        const done = slot.answers.get(msg.id);
        slot.answers.delete(msg.id);
        done?.(msg.error === undefined ? { shard: slot.nodeId, value: msg.value } : { shard: slot.nodeId, error: msg.error });
        break;
      }
    }
  }

  /** Runs the shard's ask and replies to the same incarnation (a restarted shard's asks died
   *  with it). */
  private answerAsk(slot: Slot, worker: Worker, msg: Extract<FromWorker, { t: 'ask' }>): void {
    const { id, name, arg } = msg;
    const reply = (r: { value: unknown } | { error: WireError }): void => {
      if (slot.worker !== worker) return;
      try {
        worker.postMessage({ t: 'reply', id, ...r } satisfies ToWorker);
      } catch (err) { // a value that cannot be cloned
        worker.postMessage({ t: 'reply', id, error: toEvmeshError(err).toWire() } satisfies ToWorker);
      }
    };
    Promise.resolve()
      .then(() => {
        const handler = this.askHandlers.get(name);
        if (handler === undefined) throw new EvmeshError('EVM_UNSUPPORTED', `the main thread answers no ask '${name}'`);
        return handler(arg, slot.nodeId);
      })
      .then((value) => reply({ value }), (err: unknown) => reply({ error: toEvmeshError(err).toWire() }));
  }

  private onExit(slot: Slot, worker: Worker, code: number): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.drained?.();
    for (const done of slot.answers.values()) done({ shard: slot.nodeId, error: new EvmeshError('EVM_UNAVAILABLE', `shard ${slot.nodeId} exited (code ${code})`).toWire() });
    slot.answers.clear();
    if (this.stopping) return;
    const why = slot.lastError ?? 'no error reported';
    if (this.startWaiter !== undefined) {
      this.log(`evmesh: shard ${slot.nodeId} exited during start (code ${code}): ${why}`);
      this.startWaiter.reject(new EvmeshError('EVM_UNAVAILABLE', `shard ${slot.nodeId} exited during start (code ${code}): ${why}`, { shard: slot.nodeId, code }));
      return;
    }
    const now = Date.now();
    slot.restarts = slot.restarts.filter((t) => now - t < this.policy.windowMs);
    if (slot.restarts.length >= this.policy.maxRestarts) {
      this.giveUp(slot, why);
      return;
    }
    slot.restarts.push(now);
    const delay = Math.min(this.policy.backoffMs * 2 ** (slot.restarts.length - 1), this.policy.maxBackoffMs);
    const dropped = this.relink(slot.nodeId);
    this.log(`evmesh: shard ${slot.nodeId} crashed (exit code ${code}): ${why}; restart ${slot.restarts.length}/${this.policy.maxRestarts} in ${delay} ms, ${dropped} messages queued to it dropped`);
    this.emit('peerReset', slot.nodeId);
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (!this.stopping) this.spawn(slot);
    }, delay);
  }

  /** Fresh rings for every pair of `nodeId`, handed to every live node (which run their
   *  onPeerReset); the replacement worker gets them through its workerData when spawned. Returns
   *  how many messages the main mesh had queued to the dead node. */
  private relink(nodeId: number): number {
    const layout = this.layout!;
    renewNodeRings(layout, nodeId);
    const mainId = this.slots.length;
    const dropped = this.mainMesh!.replacePeer(nodeId, peerRings(layout, mainId, nodeId));
    for (const s of this.slots) {
      if (s.nodeId !== nodeId) this.postTo(s, { t: 'relink', peer: nodeId, rings: peerRings(layout, s.nodeId, nodeId) });
    }
    return dropped;
  }

  private giveUp(slot: Slot, why: string): void {
    const error: WireError = {
      code: 'EVM_UNAVAILABLE',
      message: `shard ${slot.nodeId} crashed ${this.policy.maxRestarts + 1} times within ${this.policy.windowMs} ms; giving up: ${why}`,
      props: { shard: slot.nodeId },
    };
    this.log(`evmesh: ${error.message}`);
    this.stopping = true;
    for (const s of this.slots) clearTimeout(s.restartTimer);
    // The others stop first: the default reaction, process.exit, with uWS still listening in a
    // worker would abort the process instead of exiting 1.
    void this.stopWorkers(STOP_BEFORE_TERMINATE_MS).then(() => {
      this.mainMesh?.close();
      if (this.listenerCount('fatal') > 0) this.emit('fatal', error);
      else process.exit(1);
    });
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${(err as { code?: unknown }).code ?? err.name}: ${err.message}`;
  return String(err);
}

/** How long a failed start or a give-up waits for the other shards to stop by themselves. */
const STOP_BEFORE_TERMINATE_MS = 3_000;

async function boundedAll(ps: Promise<void>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(ps), new Promise<void>((r) => { timer = setTimeout(r, ms); })]);
  clearTimeout(timer);
}
