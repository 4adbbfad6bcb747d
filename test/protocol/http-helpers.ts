// Shared by the HTTP port tests: a 2-shard broker on port 0 and a real webhook sink server.
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';

export async function httpBroker(flags: Record<string, unknown> = {}): Promise<RunningBroker> {
  return startBroker(loadConfig({
    flags: { shards: 2, storage: 'memory', host: '127.0.0.1', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, ...flags },
  }));
}

export interface Received { headers: IncomingHttpHeaders; body: Buffer; at: number }

/** A webhook receiver; `answer` decides each response (default 200 {"retCode":0}). */
export async function sink(answer?: (r: Received, n: number) => { status: number; body?: string; delayMs?: number; headers?: Record<string, string> }): Promise<{ url: string; got: Received[]; server: Server; waitFor(n: number, timeoutMs?: number): Promise<Received[]>; close(): Promise<void> }> {
  const got: Received[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      got.push(r);
      for (const w of waiters.splice(0)) w();
      const a = answer?.(r, got.length) ?? { status: 200, body: '{"retCode":0}' };
      const reply = (): void => { res.writeHead(a.status, a.headers ?? {}); res.end(a.body ?? ''); };
      if (a.delayMs) setTimeout(reply, a.delayMs); else reply();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url, got, server,
    waitFor(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`sink got ${got.length} of ${n} pushes`)), timeoutMs);
        const check = (): void => { if (got.length >= n) { clearTimeout(t); resolve(got); } else waiters.push(check); };
        check();
      });
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

export interface RawResponse { status: number; headers: IncomingHttpHeaders; text: string; json: any }

/** One HTTP request with explicit headers and raw body bytes (no keep-alive agent). */
export function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: body === undefined ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
