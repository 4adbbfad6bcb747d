// evmesh binary protocol (docs/protocol-binary.md): frame types and the header shapes each one
// carries. A frame is `length:u32be type:u8 hlen:u32be header:hlen payload`, `length` counting
// every byte after itself; the header is one msgpack value (header-codec.ts), the payload raw
// bytes (event data, events.ts).
import type { AttrValue } from '../../core/types.js';

/** Sent first by both sides: the 4 magic bytes then the protocol version byte. */
export const MAGIC = new Uint8Array([0x45, 0x56, 0x4d, 0x42]); // "EVMB"
export const VERSION = 1;
export const PREAMBLE = new Uint8Array([...MAGIC, VERSION]);

/** Bytes before the header: length u32, type u8, hlen u32. */
export const FRAME_OVERHEAD = 9;
/** Payload length word of an event without data. */
export const NO_DATA = 0xffffffff;

export const F = {
  HELLO: 0x01,
  HELLO_OK: 0x02,
  PUBLISH: 0x10,
  PUBLISH_ACK: 0x11,
  SUBSCRIBE: 0x20,
  SUBSCRIBED: 0x21,
  UNSUBSCRIBE: 0x22,
  CREDIT: 0x23,
  DELIVER: 0x24,
  ACK: 0x25,
  REQUEST: 0x30,
  REPLY: 0x31,
  OK: 0x3f,
  HEARTBEAT: 0x40,
  HEARTBEAT_OK: 0x41,
  ERROR: 0x50,
  GOODBYE: 0x51,
} as const;

export type FrameType = (typeof F)[keyof typeof F];

export const FRAME_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(F).map(([name, type]) => [type, name]));

export function isFrameType(t: number): t is FrameType {
  return FRAME_NAMES.has(t);
}

/** Event attributes as carried in a header: one msgpack map (a record when its shape is known). */
export type Attributes = Record<string, AttrValue>;

export interface HelloHeader {
  /** Free-form client id (logs, admin). */
  client: string;
  /** Opaque credentials checked by the server's authenticate hook (server.ts). */
  auth?: unknown;
  /** Extra msgpack record structures (key lists) both directions use after HELLO. */
  structures?: string[][];
}
export interface HelloOkHeader {
  server: string;
  /** Send something (a HEARTBEAT when idle) at least this often. */
  heartbeatMs: number;
  /** The server closes a connection that sent nothing for this long. */
  idleTimeoutMs: number;
  maxFrameBytes: number;
  /** PUBLISH frames the server works on at once per connection (it stops reading beyond). */
  maxInflightPublishes: number;
  maxBatchEvents: number;
}
export interface PublishHeader { id: number; topic: string; events: Attributes[] }
export interface PublishAckHeader {
  id: number;
  /** Flat triples [partition, baseOffset, count] covering the successful events in input order. */
  runs: number[];
  /** Flat triples [index, code, message] for events that failed (absent when none). */
  errors?: (number | string)[];
}
export type StartPositionWire = 'latest' | 'earliest' | { offset: number } | { timestamp: number };
export interface SubscribeHeader {
  id: number;
  topic: string;
  group: string;
  mode?: 'CLUSTERING' | 'BROADCASTING';
  from?: StartPositionWire;
  replay?: boolean;
  ackTimeoutMs?: number;
  maxAttempts?: number;
  /** Initial credit: deliveries the server may push before the next CREDIT. */
  credit?: number;
  /** Unacked deliveries the broker holds for this member per partition owner (default: the
   *  initial credit): bounds what the server buffers beyond the granted credit. */
  maxInflight?: number;
}
export interface SubscribedHeader { id: number; sub: number }
export interface UnsubscribeHeader { id: number; sub: number }
export interface CreditHeader { sub: number; n: number }
/** One delivered event: [partition, offset, attempt, attributes]. Its data is in the payload. */
export type DeliveredEvent = [number, number, number, Attributes];
export interface DeliverHeader {
  sub: number;
  topic: string;
  /** Delivery tag of the first event; event k has tag + k. Tags are per connection. */
  tag: number;
  d: DeliveredEvent[];
}
/** Flat pairs [firstTag, count]. */
export interface AckHeader { tags: number[] }
export interface RequestHeader { id: number; topic: string; timeoutMs: number; event: Attributes }
/** Server → client: the reply to REQUEST `id`. Client → server: the reply to the delivered
 *  request event `tag`, answered with OK `id`. */
export interface ReplyHeader { id: number; tag?: number; event: Attributes }
export interface OkHeader { id: number }
export interface ErrorHeader {
  code: string;
  message: string;
  /** The request (PUBLISH, SUBSCRIBE, REQUEST, …) that failed; absent for connection errors. */
  id?: number;
  /** The sender closes the connection after this frame. */
  fatal?: boolean;
}
export interface GoodbyeHeader { reason?: string }
