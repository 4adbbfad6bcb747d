// Core's public shapes: the event model, the client API every protocol adapter and the
// in-process client use, and the Mesh boundary through which a node's core talks to the
// other nodes (shards + the supervisor). Core never knows about threads or sockets.

/** A CloudEvents 1.0 attribute value as carried on the wire: String/URI/Timestamp/Binary as
 *  string, Integer as number, Boolean as boolean. Extensions keep their exact JSON type. */
export type AttrValue = string | number | boolean;

/** A CloudEvent: context attributes (required: specversion, id, source, type) + opaque data bytes. */
export interface MeshEvent {
  readonly attributes: Readonly<Record<string, AttrValue>>;
  /** Raw data bytes exactly as the producer sent them (interpretation per `datacontenttype`). */
  readonly data?: Uint8Array | undefined;
}

export interface PublishResult {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export type GroupMode = 'CLUSTERING' | 'BROADCASTING';

/** Where a group starts reading a partition it has no committed offset for (or always, when
 *  `replay` is set on the subscription). */
export type StartPosition =
  | 'latest'
  | 'earliest'
  | { readonly offset: number }
  | { readonly timestamp: number };

export interface SubscribeOptions {
  readonly topic: string;
  readonly group: string;
  /** CLUSTERING: each event to one live member. BROADCASTING: every member gets every event. */
  readonly mode?: GroupMode;
  readonly from?: StartPosition;
  /** Ignore the group's committed offsets and start at `from` (replay). */
  readonly replay?: boolean;
  /** Max unacked deliveries per partition owner for this member (credit). */
  readonly maxInflight?: number;
  readonly ackTimeoutMs?: number;
  /** Deliveries of one event before it goes to the dead-letter topic. */
  readonly maxAttempts?: number;
}

export interface Delivery {
  readonly event: MeshEvent;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** 1 on first delivery, 2 on the first redelivery … */
  readonly attempt: number;
  /** Acknowledges the event; idempotent. Unacked events are redelivered after ackTimeoutMs. */
  ack(): void;
}

export interface Subscription {
  readonly id: string;
  readonly topic: string;
  readonly group: string;
  /** Leaves the group; unacked deliveries go to the remaining members. */
  close(): Promise<void>;
}

/** The in-process client API (DESIGN §2). Protocol adapters are thin layers over it. */
export interface Client {
  publish(topic: string, event: MeshEvent): Promise<PublishResult>;
  /** One storage append per partition touched; results in input order. */
  publishBatch(topic: string, events: readonly MeshEvent[]): Promise<PublishResult[]>;
  subscribe(options: SubscribeOptions, onDelivery: (d: Delivery) => void): Promise<Subscription>;
  /** Publishes a request event and resolves with the reply (correlation id + reply-to are set
   *  by core); rejects with EVM_TIMEOUT after timeoutMs. */
  request(topic: string, event: MeshEvent, timeoutMs: number): Promise<MeshEvent>;
  /** Sends `reply` to the requester of the delivered request event and acks the request. */
  reply(request: Delivery, reply: MeshEvent): Promise<void>;
  createTopic(topic: string, partitions?: number): Promise<{ name: string; partitions: number }>;
}

/** How one node's core reaches the others. Messages are opaque bytes, delivered in order per
 *  (from, to) pair, batched by the transport (SharedArrayBuffer rings between threads). */
export interface Mesh {
  readonly nodeId: number;
  /** Every node id, this one included. Shards are 0..shards-1; the supervisor is `shards`. */
  readonly nodes: readonly number[];
  /** Messages may be of any size (the transport fragments them). `send` copies `message` (into
   *  the transport, or a private copy when it must queue it) before it returns, so the caller
   *  may reuse the buffer at once (core encodes into reused buffers). */
  send(to: number, message: Uint8Array): void;
  /** The handler owns each message it receives: the transport never reuses its bytes. */
  onMessage(handler: (from: number, message: Uint8Array) => void): void;
}
