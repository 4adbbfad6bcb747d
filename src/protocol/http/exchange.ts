// One HTTP request/response on uWS. uWS hands the request object only for the synchronous part
// of the handler, so method, URL and headers are copied out at once; the body arrives as
// ArrayBuffer chunks that uWS reuses after each callback, so each chunk is copied exactly once,
// into a buffer of the announced Content-Length (no concatenation). Responses are written in
// one cork (one syscall) and never after the client aborted.
import { STATUS_CODES } from 'node:http';
import { EvmeshError, toEvmeshError } from '../../errors.js';
import type { HttpRequest, HttpResponse } from './uws.js';

const EMPTY = Buffer.alloc(0);
const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let s = statusLines.get(status);
  if (s === undefined) { s = `${status} ${STATUS_CODES[status] ?? ''}`.trim(); statusLines.set(status, s); }
  return s;
}

export class Exchange {
  readonly method: string;
  readonly url: string;
  readonly query: string;
  /** Lower-case names (uWS lower-cases them); a repeated header keeps its last value. */
  readonly headers: Record<string, string> = {};
  private aborted = false;
  private done = false;

  constructor(readonly res: HttpResponse, req: HttpRequest) {
    this.method = req.getMethod();
    this.url = req.getUrl();
    this.query = req.getQuery() ?? '';
    req.forEach((k, v) => { this.headers[k] = v; });
    res.onAborted(() => { this.aborted = true; });
  }

  get finished(): boolean { return this.aborted || this.done; }

  /** The peer as `ip:port` (upstream's `ip` header value, H5). */
  remote(): string {
    return Buffer.from(this.res.getRemoteAddressAsText()).toString();
  }

  /** Reads the whole body, at most `limit` bytes (EVM_TOO_LARGE before reading more), within
   *  `timeoutMs` (uWS stops its own idle timer while a handler reads a body). */
  body(limit: number, timeoutMs: number): Promise<Buffer> {
    const declared = this.headers['content-length'];
    const length = declared === undefined ? undefined : Number(declared);
    if (length !== undefined && length > limit) {
      return Promise.reject(new EvmeshError('EVM_TOO_LARGE', `request body of ${length} bytes is over the limit of ${limit} bytes (http.maxBodyBytes)`));
    }
    return new Promise((resolve, reject) => {
      if (length === 0) { resolve(EMPTY); return; }
      // Chunked bodies (no Content-Length) grow as needed.
      let buf = length !== undefined && Number.isInteger(length) ? Buffer.allocUnsafe(length) : undefined;
      let size = 0;
      let failed = false;
      const timer = setTimeout(() => {
        failed = true;
        reject(new EvmeshError('EVM_TIMEOUT', `the request body did not arrive within ${timeoutMs} ms (http.bodyTimeoutMs)`, { status: 408 }));
      }, timeoutMs);
      this.res.onData((chunk, isLast) => {
        if (failed) return;
        const n = chunk.byteLength;
        if (size + n > limit) {
          failed = true;
          clearTimeout(timer);
          reject(new EvmeshError('EVM_TOO_LARGE', `request body is over the limit of ${limit} bytes (http.maxBodyBytes)`));
          return;
        }
        if (buf === undefined || size + n > buf.length) {
          const grown = Buffer.allocUnsafe(Math.max(size + n, Math.min(limit, (buf?.length ?? 0) * 2 || 16 * 1024)));
          if (buf !== undefined) buf.copy(grown, 0, 0, size);
          buf = grown;
        }
        buf.set(new Uint8Array(chunk), size);
        size += n;
        if (isLast) { clearTimeout(timer); resolve(buf.length === size ? buf : buf.subarray(0, size)); }
      });
    });
  }

  /** Writes the whole response in one cork. `close` ends the connection after it. */
  send(status: number, body: string | Uint8Array, headers?: Readonly<Record<string, string>>, close = false): void {
    if (this.finished) return;
    this.done = true;
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

export const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json' };
