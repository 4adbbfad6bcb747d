// One HTTP request/response on uWS. uWS hands the request object only for the synchronous part
// of the handler, so method, URL and headers are copied out at once; the body arrives as
// ArrayBuffer chunks that uWS reuses after each callback, so each chunk is copied exactly once,
// into a buffer of the announced Content-Length (no concatenation). Responses are written in
// one cork (one syscall) and never after the client aborted.
import { STATUS_CODES } from 'node:http';
import { EvmeshError, toEvmeshError } from '../../errors.js';
import { headerOf } from './cloudevents-http.js';
import { threadMetrics } from '../../metrics/shard.js';
import type { HttpRequest, HttpResponse } from './uws.js';

const EMPTY = Buffer.alloc(0);
const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let s = statusLines.get(status);
  if (s === undefined) { s = `${status} ${STATUS_CODES[status] ?? ''}`.trim(); statusLines.set(status, s); }
  return s;
}

/** The list req.forEach fills: one shared callback instead of a closure per request. */
let collecting: string[] = [];
function collect(name: string, value: string): void { collecting.push(name, value); }

export class Exchange {
  readonly method: string;
  readonly url: string;
  readonly query: string;
  /** The request headers as uWS lists them: name, value, name, value… (lower-case names).
   *  Filling an object per request instead was ~4 % of a shard's samples in megamorphic keyed
   *  stores (bench http-publish, binary mode): the publish path reads this list directly. */
  readonly headerList: string[] = [];
  private dict: Record<string, string> | undefined;
  private aborted = false;
  private done = false;
  /** An answer that reports a failure in a 200 body (EventMesh retCode ≠ 0, H6/H31). */
  private failed = false;
  private readonly t0 = performance.now();

  constructor(readonly res: HttpResponse, req: HttpRequest) {
    this.method = req.getMethod();
    this.url = req.getUrl();
    this.query = req.getQuery() ?? '';
    collecting = this.headerList;
    req.forEach(collect);
    res.onAborted(() => { this.aborted = true; });
  }

  /** The headers by lower-case name; a repeated header keeps its last value. */
  get headers(): Record<string, string> {
    if (this.dict === undefined) {
      this.dict = {};
      const l = this.headerList;
      for (let i = 0; i < l.length; i += 2) this.dict[l[i]!] = l[i + 1]!;
    }
    return this.dict;
  }

  /** One header's value (the last one if repeated), without building `headers`. */
  header(name: string): string | undefined { return headerOf(this.headerList, name); }

  get finished(): boolean { return this.aborted || this.done; }

  /** The peer's address (upstream's `ip` header value, H5; uWS gives no port). Empty once the
   *  client went away (uWS throws on any access to an aborted response). */
  remote(): string {
    if (this.aborted) return '';
    return Buffer.from(this.res.getRemoteAddressAsText()).toString();
  }

  /** Reads the whole body, at most `limit` bytes (EVM_TOO_LARGE before reading more), within
   *  `timeoutMs` (uWS stops its own idle timer while a handler reads a body). */
  body(limit: number, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => this.readBody(limit, timeoutMs, (err, body) => (err === undefined ? resolve(body) : reject(err))));
  }

  /** `body()` without a promise: `done` gets exactly one call (the publish hot path). */
  readBody(limit: number, timeoutMs: number, done: (err: EvmeshError | undefined, body: Buffer) => void): void {
    const declared = this.header('content-length');
    const length = declared === undefined ? undefined : Number(declared);
    if (length !== undefined && length > limit) {
      done(new EvmeshError('EVM_TOO_LARGE', `request body of ${length} bytes is over the limit of ${limit} bytes (http.maxBodyBytes)`), EMPTY);
      return;
    }
    if (length === 0) { done(undefined, EMPTY); return; }
    // Chunked bodies (no Content-Length) grow as needed.
    let buf = length !== undefined && Number.isInteger(length) ? Buffer.allocUnsafe(length) : undefined;
    let size = 0;
    const queue = deadlines(timeoutMs);
    const read: BodyRead = {
      deadline: performance.now() + timeoutMs,
      failed: false,
      expire: () => {
        read.failed = true;
        done(new EvmeshError('EVM_TIMEOUT', `the request body did not arrive within ${timeoutMs} ms (http.bodyTimeoutMs)`, { status: 408 }), EMPTY);
      },
    };
    queue.add(read);
    this.res.onData((chunk, isLast) => {
      if (read.failed) return;
      const n = chunk.byteLength;
      if (size + n > limit) {
        read.failed = true;
        queue.delete(read);
        done(new EvmeshError('EVM_TOO_LARGE', `request body is over the limit of ${limit} bytes (http.maxBodyBytes)`), EMPTY);
        return;
      }
      if (buf === undefined || size + n > buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(size + n, Math.min(limit, (buf?.length ?? 0) * 2 || 16 * 1024)));
        if (buf !== undefined) buf.copy(grown, 0, 0, size);
        buf = grown;
      }
      buf.set(new Uint8Array(chunk), size);
      size += n;
      if (isLast) { queue.delete(read); done(undefined, buf.length === size ? buf : buf.subarray(0, size)); }
    });
  }

  /** The answer about to be sent reports a failure although its status is 200 (M6 discard). */
  fail(): void { this.failed = true; }

  /** Writes the whole response in one cork. `close` ends the connection after it. Every answer
   *  counts in M6 (request TPS and cost); error statuses and failure bodies are also discards. */
  send(status: number, body: string | Uint8Array, headers?: Readonly<Record<string, string>>, close = false): void {
    if (this.finished) return;
    this.done = true;
    threadMetrics.http.request(performance.now() - this.t0);
    if (status >= 400 || this.failed) threadMetrics.http.requestDiscarded();
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      if (headers !== undefined) for (const k in headers) this.res.writeHeader(k, headers[k]!);
      this.res.end(body, close);
    });
  }

  json(status: number, value: unknown, headers?: Readonly<Record<string, string>>): void {
    this.send(status, JSON.stringify(value), headers === undefined ? JSON_HEADERS : { ...JSON_HEADERS, ...headers });
  }

  /** The catalog's JSON error `{code, message}` with its HTTP status (DESIGN §4). A body that
   *  was not read (413, 408) closes the connection, so its unread bytes are never parsed as a request. */
  error(err: unknown): void {
    const e = toEvmeshError(err);
    const status = typeof e.props?.status === 'number' ? e.props.status : e.spec.http;
    this.send(status, JSON.stringify({ code: e.code, message: e.message }), JSON_HEADERS, e.code === 'EVM_TOO_LARGE' || status === 408);
  }
}

interface BodyRead { readonly deadline: number; failed: boolean; expire(): void }

/** Bodies being read with one timeout, oldest first. Every caller passes http.bodyTimeoutMs, so
 *  insertion order is deadline order and one timer (for the oldest) serves them all: a
 *  setTimeout/clearTimeout pair per request was ~1.4 µs of timer work per publish in shard
 *  profiles (bench http-publish). */
class Deadlines {
  private readonly pending = new Set<BodyRead>();
  private timer: NodeJS.Timeout | undefined;

  add(read: BodyRead): void {
    this.pending.add(read);
    if (this.timer === undefined) this.arm(read.deadline);
  }

  delete(read: BodyRead): void { this.pending.delete(read); }

  private arm(deadline: number): void {
    this.timer = setTimeout(this.sweep, Math.max(0, deadline - performance.now()));
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    const now = performance.now();
    for (const read of this.pending) {
      if (read.deadline > now) { this.arm(read.deadline); return; }
      this.pending.delete(read);
      read.expire();
    }
  };
}

const queues = new Map<number, Deadlines>();
function deadlines(timeoutMs: number): Deadlines {
  let q = queues.get(timeoutMs);
  if (q === undefined) { q = new Deadlines(); queues.set(timeoutMs, q); }
  return q;
}

export const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json' };
