// The main ↔ shard worker lifecycle protocol (postMessage; small and typed, like piscina's).
// Errors cross as plain WireError objects, never Error instances (DESIGN §4).
//
//   main → worker                         worker → main
//   relink {peer, rings}  new rings for a  ready {info}    app.start resolved (info: e.g. ports)
//                         restarted peer   drained         app.drain resolved
//   drain                 stop taking work fatal {error}   start/drain/close failed; exits non-zero
//   stop                  close and exit 0 app {data}      app-level control message
//   app {data}            app-level control message
//   query {id,name,arg}   ask the shard    answer {id,value|error}  reply to a query
//   reply {id,value|error} answer an ask  ask {id,name,arg}        ask main what only it can do
//                                                                   (delete a topic: the controller)
import type { WireError } from '../errors.js';
import type { MeshLayout, PeerRings } from './mesh-layout.js';
import type { FlushMode } from './ring-mesh.js';

export type ToWorker =
  | { readonly t: 'relink'; readonly peer: number; readonly rings: PeerRings }
  | { readonly t: 'drain' }
  | { readonly t: 'stop' }
  | { readonly t: 'app'; readonly data: unknown }
  | { readonly t: 'query'; readonly id: number; readonly name: string; readonly arg: unknown }
  | { readonly t: 'reply'; readonly id: number; readonly value?: unknown; readonly error?: WireError };

export type FromWorker =
  | { readonly t: 'ready'; readonly info: unknown }
  | { readonly t: 'drained' }
  | { readonly t: 'fatal'; readonly error: WireError }
  | { readonly t: 'app'; readonly data: unknown }
  | { readonly t: 'answer'; readonly id: number; readonly value?: unknown; readonly error?: WireError }
  | { readonly t: 'ask'; readonly id: number; readonly name: string; readonly arg: unknown };

/** What a shard worker receives as workerData. */
export interface ShardWorkerData {
  readonly evmesh: {
    readonly nodeId: number;
    readonly shards: number;
    readonly layout: MeshLayout;
    readonly flush: FlushMode;
  };
  /** The application's own workerData, passed through untouched. */
  readonly app: unknown;
}
