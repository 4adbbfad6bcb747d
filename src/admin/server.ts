// Admin HTTP API on the admin port (default 10106, spec H*: upstream's admin port). Issue 3
// ships the operational basics (health for the Docker HEALTHCHECK and load balancers, broker
// status); issue 5 extends it with client/topic/subscription management.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { EvmeshError, toEvmeshError } from '../errors.js';

export interface AdminHandlers {
  /** true while the broker accepts work; false while starting or draining. */
  healthy(): boolean;
  status(): Promise<unknown>;
  topics(): Promise<unknown>;
  createTopic(name: string, partitions: number | undefined): Promise<unknown>;
  /** Publishes one structured-mode CloudEvent (JSON) to a topic; resolves with its position. */
  publish(topic: string, event: unknown): Promise<unknown>;
  /** Pull: up to `max` events for the group, waiting up to waitMs for the first; the events are
   *  acked once the response has been handed to the kernel. */
  pull(topic: string, group: string, max: number, waitMs: number, from: string | undefined): Promise<{ events: unknown[]; ack(): void; release(): void }>;
  /** Client/subscription/shard management (src/admin/manage.ts); false = not its path. */
  manage?(req: IncomingMessage, url: URL, path: string, body: () => Promise<Record<string, unknown>>, reply: (status: number, body: unknown, contentType?: string) => void): Promise<boolean>;
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface AdminOptions {
  readonly host: string;
  readonly port: number;
  /** Largest request body (a published event in JSON); larger ones get 413 EVM_TOO_LARGE. */
  readonly maxBodyBytes: number;
}

export async function startAdminServer(o: AdminOptions, h: AdminHandlers): Promise<AdminServer> {
  const { host, port } = o;
  const server: Server = createServer((req, res) => {
    route(req, res, h, o.maxBodyBytes).catch((err) => sendError(res, toEvmeshError(err)));
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10000;
  server.requestTimeout = 15000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeIdleConnections(); }),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, h: AdminHandlers, maxBody: number): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (req.method === 'GET' && path === '/health') {
    const up = h.healthy();
    return send(res, up ? 200 : 503, { status: up ? 'UP' : 'DOWN' });
  }
  if (req.method === 'GET' && path === '/status') return send(res, 200, await h.status());
  if (req.method === 'GET' && path === '/topics') return send(res, 200, await h.topics());
  if (req.method === 'POST' && path === '/topics') {
    const body = await readJson(req, maxBody);
    const name = (body as { name?: unknown }).name;
    const partitions = (body as { partitions?: unknown }).partitions;
    if (typeof name !== 'string') throw new EvmeshError('EVM_BAD_REQUEST', 'body must be {"name": string, "partitions"?: integer}');
    if (partitions !== undefined && !Number.isInteger(partitions)) throw new EvmeshError('EVM_BAD_REQUEST', 'partitions must be an integer');
    return send(res, 201, await h.createTopic(name, partitions as number | undefined));
  }
  // H50: CORS preflight on any path, as upstream's admin handlers answer it.
  if (req.method === 'OPTIONS') {
    res.writeHead(200, { 'access-control-allow-origin': '*', 'access-control-allow-methods': '*', 'access-control-allow-headers': '*', 'access-control-max-age': '86400', 'content-length': 0 });
    res.end();
    return;
  }
  const events = /^\/topics\/([^/]+)\/events$/.exec(path);
  if (events) {
    const topic = decodeURIComponent(events[1]!);
    if (req.method === 'POST') return send(res, 201, await h.publish(topic, await readJson(req, maxBody)));
    if (req.method === 'GET') {
      const group = url.searchParams.get('group');
      if (!group) throw new EvmeshError('EVM_BAD_REQUEST', 'query parameter group is required');
      const max = intParam(url, 'max', 100, 1, 10_000);
      const waitMs = intParam(url, 'waitMs', 0, 0, 30_000);
      const batch = await h.pull(topic, group, max, waitMs, url.searchParams.get('from') ?? undefined);
      // Ack only once the response left the process; a failed response releases the events
      // for redelivery.
      res.once('finish', () => batch.ack());
      res.once('close', () => { if (!res.writableFinished) batch.release(); });
      return send(res, 200, { events: batch.events });
    }
  }
  const reply = (status: number, body: unknown, contentType = 'application/json'): void => {
    if (contentType === 'application/json') return send(res, status, body);
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(String(body)), 'access-control-allow-origin': '*' });
    res.end(String(body));
  };
  if (h.manage !== undefined && await h.manage(req, url, path, () => readFields(req, maxBody), reply)) return;
  throw new EvmeshError('EVM_UNSUPPORTED', `no admin endpoint ${req.method} ${path}`, { status: 404 });
}

function intParam(url: URL, name: string, dflt: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new EvmeshError('EVM_BAD_REQUEST', `query parameter ${name}: ${JSON.stringify(raw)} is not an integer in ${min}..${max}`);
  return n;
}

/** A JSON object body, or form fields (upstream's admin POSTs are forms, H50); empty → {}. */
async function readFields(req: IncomingMessage, maxBody: number): Promise<Record<string, unknown>> {
  if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
    const text = await readText(req, maxBody);
    return Object.fromEntries(new URLSearchParams(text));
  }
  const o = await readJson(req, maxBody);
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new EvmeshError('EVM_BAD_REQUEST', 'the body must be a JSON object');
  return o as Record<string, unknown>;
}

async function readJson(req: IncomingMessage, maxBody: number): Promise<unknown> {
  const text = await readText(req, maxBody);
  try { return JSON.parse(text || '{}'); } catch { throw new EvmeshError('EVM_BAD_REQUEST', 'malformed JSON body'); }
}

function readText(req: IncomingMessage, maxBody: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) {
        reject(new EvmeshError('EVM_TOO_LARGE', `request body over ${maxBody} bytes`));
        req.removeAllListeners('data');
        req.resume(); // drain and discard, so the 413 reaches the client
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendError(res: ServerResponse, err: EvmeshError): void {
  const status = typeof err.props?.status === 'number' ? err.props.status : err.spec.http;
  send(res, status, { code: err.code, message: err.message });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) { res.destroy(); return; }
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'access-control-allow-origin': '*' });
  res.end(json);
}
