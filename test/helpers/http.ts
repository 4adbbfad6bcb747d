// Minimal JSON-over-HTTP client for tests (real sockets, keep-alive).
import { Agent, request } from 'node:http';

export const agent = new Agent({ keepAlive: true, maxSockets: 16 });

export interface JsonResponse { status: number; body: any }

export function httpJson(port: number, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, method, path, agent, timeout: timeoutMs, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

export function cloudEvent(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { specversion: '1.0', id, source: '/test', type: 'test.event', datacontenttype: 'application/json', data: { id }, ...extra };
}
