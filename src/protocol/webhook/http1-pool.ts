// A small pipelining HTTP/1.1 client for webhook pushes. Measured (docs/http.md "Performance"):
// with node:http's client one push cost a ClientRequest, an agent lookup and one writev per
// request, and those dominated a pushing shard. Here each subscriber has up to `connections`
// keep-alive sockets; once each has a request in flight, further requests are pipelined behind
// (the pusher's concurrency bounds the total) and every request queued in one tick leaves in one
// corked write per socket. Responses come back in
// order (RFC 9112 §9.3.2), each with Content-Length, chunked, or close-delimited body.
// Pipelined POSTs are not idempotent: when a connection breaks, its unanswered requests fail and
// the pusher retries them (webhook delivery is at-least-once anyway).
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface PushResponse {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

interface Pending {
  readonly data: Uint8Array[];
  readonly timeoutMs: number;
  timer?: NodeJS.Timeout;
  resolve(r: PushResponse): void;
  reject(err: Error): void;
}

/** Largest response head or body kept (webhook answers are small). */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');
/** Header names and values a request must not carry (request splitting). */
const BAD_HEADER = /[\r\n\0]/;

class Connection {
  readonly socket: Socket;
  readonly waiting: Pending[] = [];
  closed = false;
  private buf: Buffer = Buffer.alloc(0);
  private head: { status: number; headers: Record<string, string> } | undefined;
  private corked = false;

  constructor(url: URL, private readonly onClose: (c: Connection) => void) {
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    this.socket = url.protocol === 'https:' ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => { /* 'close' follows */ });
    this.socket.on('end', () => this.onEnd());
    this.socket.on('close', () => this.fail(new Error('webhook connection closed')));
  }

  send(p: Pending): void {
    this.waiting.push(p);
    // A request without its answer in time breaks its connection: the requests pipelined behind
    // it fail too and are retried on a fresh one.
    p.timer = setTimeout(() => this.socket.destroy(), p.timeoutMs);
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => { this.corked = false; this.socket.uncork(); });
    }
    for (const b of p.data) this.socket.write(b);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.waiting.splice(0)) { clearTimeout(p.timer); p.reject(err); }
    this.onClose(this);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    try {
      while (this.parseOne());
    } catch (err) {
      this.socket.destroy();
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Parses one response from `buf`; false when more bytes are needed. */
  private parseOne(): boolean {
    if (this.head === undefined) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) {
        if (this.buf.length > MAX_RESPONSE_BYTES) throw new Error('webhook response head too large');
        return false;
      }
      const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
      if (m === null) throw new Error(`bad webhook status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
      const headers: Record<string, string> = {};
      for (let i = 1; i < lines.length; i++) {
        const c = lines[i]!.indexOf(':');
        if (c > 0) headers[lines[i]!.slice(0, c).trim().toLowerCase()] = lines[i]!.slice(c + 1).trim();
      }
      this.head = { status: Number(m[1]), headers };
      this.buf = this.buf.subarray(end + 4);
    }
    const { status, headers } = this.head;
    // 1xx answers precede the real one (RFC 9112 §6.3): skip them.
    if (status >= 100 && status < 200) { this.head = undefined; return true; }
    let body: Buffer;
    if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const r = dechunk(this.buf);
      if (r === undefined) return false;
      body = r.body;
      this.buf = this.buf.subarray(r.used);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (!Number.isInteger(n) || n < 0 || n > MAX_RESPONSE_BYTES) throw new Error('bad webhook Content-Length');
      if (this.buf.length < n) return false;
      body = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
    } else if (status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else {
      return false; // close-delimited body: complete at 'end' (onEnd)
    }
    this.head = undefined;
    this.settle({ status, headers, body: Buffer.from(body) });
    if (headers.connection?.toLowerCase() === 'close') { this.socket.end(); this.fail(new Error('webhook connection closed by the server')); return false; }
    return true;
  }

  private settle(r: PushResponse): void {
    const p = this.waiting.shift();
    if (p === undefined) return;
    clearTimeout(p.timer);
    p.resolve(r);
  }

  /** The server closed: a close-delimited body is complete; anything else unanswered fails. */
  private onEnd(): void {
    const h = this.head;
    if (h !== undefined && h.headers['content-length'] === undefined && !h.headers['transfer-encoding']) {
      this.head = undefined;
      this.settle({ status: h.status, headers: h.headers, body: Buffer.from(this.buf) });
    }
    this.socket.end();
    this.fail(new Error('webhook connection closed by the server'));
  }
}

/** Chunked body (RFC 9112 §7.1) at the start of `buf`: the body and bytes used, or undefined. */
function dechunk(buf: Buffer): { body: Buffer; used: number } | undefined {
  const parts: Buffer[] = [];
  let pos = 0, total = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) return undefined;
    const size = parseInt(buf.subarray(pos, eol).toString('latin1').split(';', 1)[0]!.trim(), 16);
    if (!Number.isInteger(size) || size < 0) throw new Error('bad chunk size in webhook response');
    pos = eol + 2;
    if (size === 0) {
      // Trailers end with an empty line.
      const end = buf.indexOf(CRLF2, pos - 2);
      if (end < 0) return undefined;
      return { body: Buffer.concat(parts), used: end + 4 };
    }
    if (buf.length < pos + size + 2) return undefined;
    total += size;
    if (total > MAX_RESPONSE_BYTES) throw new Error('webhook response body too large');
    parts.push(buf.subarray(pos, pos + size));
    pos += size + 2;
  }
}

export class Http1Pool {
  private readonly conns: Connection[] = [];
  private next = 0;
  private closed = false;
  private readonly hostHeader: string;
  private readonly path: string;

  /** Up to `connections` sockets. */
  constructor(private readonly url: URL, private readonly connections: number) {
    this.hostHeader = url.host;
    this.path = `${url.pathname}${url.search}` || '/';
  }

  /** POSTs `body`; rejects on connection errors, after `timeoutMs` without the answer, and on
   *  headers that cannot be sent. */
  post(headers: Readonly<Record<string, string>>, body: Uint8Array, timeoutMs: number): Promise<PushResponse> {
    if (this.closed) return Promise.reject(new Error('webhook pool closed'));
    let head = `POST ${this.path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nContent-Length: ${body.byteLength}\r\n`;
    for (const k in headers) {
      const v = headers[k]!;
      if (BAD_HEADER.test(k) || BAD_HEADER.test(v) || k.includes(':')) return Promise.reject(new Error(`header ${JSON.stringify(k)} cannot be sent`));
      head += `${k}: ${v}\r\n`;
    }
    head += '\r\n';
    const headBytes = Buffer.from(head, 'latin1');
    // Characters outside ISO-8859-1 would be mangled by the latin1 encoding: refuse them.
    if (headBytes.toString('latin1') !== head) return Promise.reject(new Error('a header value is not ISO-8859-1'));
    const data: Uint8Array[] = [headBytes];
    if (body.byteLength > 0) data.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    return new Promise((resolve, reject) => this.connection().send({ data, timeoutMs, resolve, reject }));
  }

  /** The least loaded open connection, opening one while under `connections`. */
  private connection(): Connection {
    let best: Connection | undefined;
    for (let i = 0; i < this.conns.length; i++) {
      const c = this.conns[(this.next + i) % this.conns.length]!;
      if (best === undefined || c.waiting.length < best.waiting.length) best = c;
      if (c.waiting.length === 0) break;
    }
    this.next++;
    if (best === undefined || (best.waiting.length > 0 && this.conns.length < this.connections)) {
      const c = new Connection(this.url, (gone) => { const i = this.conns.indexOf(gone); if (i >= 0) this.conns.splice(i, 1); });
      this.conns.push(c);
      return c;
    }
    return best;
  }

  close(): void {
    this.closed = true;
    for (const c of this.conns.splice(0)) c.destroy();
  }
}
