// What a protocol served on the shared TCP port implements (src/protocol/tcp-listener.ts).
import type { Socket } from 'node:net';
import type { EvmeshConfig } from '../config/schema.js';
import type { Client } from '../core/types.js';

export interface ProtocolContext {
  readonly client: Client;
  readonly config: EvmeshConfig;
  readonly nodeId: number;
  readonly shards: number;
}

/** One accepted connection, owned by its protocol. */
export interface Session {
  /** Stop taking new work; finish what is in flight (wait for publish acks, say goodbye). */
  drain(): Promise<void>;
  /** Close the connection now. */
  close(): void;
  /** What the admin API lists for this client (identity the protocol learned, e.g. the
   *  EventMesh UserAgent, T20); cloneable. */
  describe?(): Record<string, unknown>;
}

export interface TcpProtocol {
  readonly name: string;
  /** The connection's first bytes identify the protocol. */
  readonly magic: Uint8Array;
  /** Takes over the (paused) socket; `first` holds the bytes already read (they start with
   *  `magic`) and must be processed before anything read later. */
  accept(socket: Socket, first: Buffer, ctx: ProtocolContext): Session;
}
