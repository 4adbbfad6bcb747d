// A real OTLP/HTTP (JSON) trace collector on 127.0.0.1 for the tracing tests (issue 8, M30): it
// records every span the broker's exporter posts to /v1/traces.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string }

export function collector() {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { spans, server, listen: () => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port))) };
}
