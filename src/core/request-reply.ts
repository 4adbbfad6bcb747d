// Request-reply: the requester's pending requests by correlation id. A request event carries
// two extensions (docs/core.md "Request-reply"):
//   correlationid  string  unique per request: "<requester incarnation>-<request id>"
//   replyto        string  the requester node: "evmesh-node-<nodeId>"
// The responder's reply is sent straight to that node (REPLY message, not through storage) with
// the same correlationid; a reply arriving after the timeout is dropped and counted.
import { randomBytes } from 'node:crypto';
import { EvmeshError } from '../errors.js';
import type { AttrValue, MeshEvent } from './types.js';

export const CORRELATION_ID = 'correlationid';
export const REPLY_TO = 'replyto';
const REPLY_TO_PREFIX = 'evmesh-node-';

export function replyToAddress(nodeId: number): string {
  return REPLY_TO_PREFIX + nodeId;
}

/** The node id in a `replyto` value, or undefined when it is not an evmesh address. */
export function parseReplyTo(v: AttrValue | undefined): number | undefined {
  if (typeof v !== 'string' || !v.startsWith(REPLY_TO_PREFIX)) return undefined;
  const s = v.slice(REPLY_TO_PREFIX.length);
  return /^\d{1,9}$/.test(s) ? Number(s) : undefined;
}

interface PendingRequest { resolve(ev: MeshEvent): void; reject(err: EvmeshError): void; deadline: number; timeoutMs: number }

export class RequestReply {
  /** Replies that arrived after their request timed out (or for unknown requests). */
  lateReplies = 0;
  private readonly incarnation = randomBytes(4).toString('hex');
  private nextId = 1;
  private readonly pending = new Map<string, PendingRequest>();

  constructor(private readonly now: () => number) {}

  newCorrelationId(): string {
    return `${this.incarnation}-${this.nextId++}`;
  }

  wait(correlationId: string, timeoutMs: number): Promise<MeshEvent> {
    return new Promise((resolve, reject) => {
      this.pending.set(correlationId, { resolve, reject, deadline: this.now() + timeoutMs, timeoutMs });
    });
  }

  cancel(correlationId: string, err: EvmeshError): void {
    const p = this.pending.get(correlationId);
    if (!p) return;
    this.pending.delete(correlationId);
    p.reject(err);
  }

  onReply(correlationId: string, ev: () => MeshEvent): void {
    const p = this.pending.get(correlationId);
    if (!p) { this.lateReplies++; return; }
    this.pending.delete(correlationId);
    try { p.resolve(ev()); } catch (err) { p.reject(err instanceof EvmeshError ? err : new EvmeshError('EVM_CORRUPT', String(err))); }
  }

  expire(now: number): void {
    for (const [id, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(id);
      p.reject(new EvmeshError('EVM_TIMEOUT', `no reply within ${p.timeoutMs} ms`));
    }
  }

  failAll(code: 'EVM_SHUTTING_DOWN'): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(new EvmeshError(code, 'the core is closing'));
  }

  get size(): number { return this.pending.size; }
}
