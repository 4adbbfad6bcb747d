// The shard worker side of the supervisor protocol (protocol.ts): builds this worker's RingMesh
// from workerData, starts the app, answers drain/stop, applies relinks for restarted peers, and
// turns anything thrown into a wire error.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { EvmeshError, fromWire, toEvmeshError, type WireError } from '../errors.js';
import type { FromWorker, ShardWorkerData, ToWorker } from './protocol.js';
import { RingMesh } from './ring-mesh.js';

export interface ShardContext {
  readonly nodeId: number;
  /** Number of shard workers; the supervisor is node `shards`. */
  readonly shards: number;
  readonly mesh: RingMesh;
  /** The app's workerData as given to Supervisor.start. */
  readonly workerData: unknown;
  /** Sends an app-level control message to the supervisor (Supervisor.onWorkerMessage). */
  postToMain(data: unknown): void;
  /** Asks the main thread the named request (Supervisor.onAsk) and resolves with its answer;
   *  for what only the main thread can do, e.g. delete a topic (the controller drives it). The
   *  arg must be cloneable; an error answer rejects. */
  ask(name: string, arg?: unknown): Promise<unknown>;
}

export interface ShardApp {
  /** Starts the shard; resolves with ready info for the supervisor (e.g. bound ports). */
  start(ctx: ShardContext): Promise<unknown>;
  /** Stops taking new work and finishes in-flight work. */
  drain(): Promise<void>;
  close(): Promise<void>;
  /** A peer node restarted: its rings are fresh and everything it held is gone. */
  onPeerReset?(nodeId: number): void;
  /** An app-level control message from the supervisor (Supervisor.postToWorker). */
  onMainMessage?(data: unknown): void;
  /** Answers a named query from the supervisor (Supervisor.query): admin listings, metrics. The
   *  value must be cloneable; a throw becomes the answer's error. */
  query?(name: string, arg: unknown): unknown;
}

export function toWireError(err: unknown): WireError {
  return toEvmeshError(err).toWire();
}

function post(msg: FromWorker): void {
  try {
    parentPort!.postMessage(msg);
  } catch (err) {
    // props that cannot be cloned: send the error without them.
    if (msg.t !== 'fatal') throw err;
    parentPort!.postMessage({ t: 'fatal', error: { code: msg.error.code, message: msg.error.message } } satisfies FromWorker);
  }
}

function fatal(err: unknown): never {
  post({ t: 'fatal', error: toWireError(err) });
  process.exit(1);
}

/** Runs `app` as this worker's shard. Call once from the worker entry module. */
export function runShard(app: ShardApp): void {
  if (isMainThread || parentPort === null) throw new EvmeshError('EVM_INTERNAL', 'runShard must run in a shard worker');
  const data = workerData as ShardWorkerData;
  const { nodeId, shards, layout, flush } = data.evmesh;
  const mesh = RingMesh.fromLayout(layout, nodeId, { flush });
  const asked = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  let nextAsk = 1;
  const ctx: ShardContext = {
    nodeId,
    shards,
    mesh,
    workerData: data.app,
    postToMain: (d) => post({ t: 'app', data: d }),
    ask: (name, arg) => new Promise((resolve, reject) => {
      const id = nextAsk++;
      post({ t: 'ask', id, name, arg }); // a throw (arg not cloneable) rejects
      asked.set(id, { resolve, reject }); // the reply comes in a later task
    }),
  };

  parentPort.on('message', (msg: ToWorker) => {
    switch (msg.t) {
      case 'relink':
        mesh.replacePeer(msg.peer, msg.rings);
        app.onPeerReset?.(msg.peer);
        break;
      case 'drain':
        app.drain().then(() => post({ t: 'drained' }), fatal);
        break;
      case 'stop':
        app.close().then(() => {
          mesh.close();
          process.exit(0);
        }, fatal);
        break;
      case 'app':
        app.onMainMessage?.(msg.data);
        break;
      case 'reply': {
        const waiter = asked.get(msg.id);
        asked.delete(msg.id);
        if (msg.error === undefined) waiter?.resolve(msg.value);
        else waiter?.reject(fromWire(msg.error));
        break;
      }
      case 'query': {
        const { id, name, arg } = msg;
        Promise.resolve()
          .then(() => {
            if (app.query === undefined) throw new EvmeshError('EVM_UNSUPPORTED', `shard answers no query '${name}'`);
            return app.query(name, arg);
          })
          .then((value) => post({ t: 'answer', id, value }), (err: unknown) => post({ t: 'answer', id, error: toWireError(err) }));
        break;
      }
    }
  });

  let started: Promise<unknown>;
  try {
    started = app.start(ctx);
  } catch (err) {
    fatal(err);
  }
  started.then((info) => post({ t: 'ready', info }), fatal);
}
