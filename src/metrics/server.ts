// The metrics port (spec M1: default 19090) on the main thread: `/metrics` (Prometheus text
// 0.0.4, or OpenMetrics when the Accept header asks for it; `name[]=` filters families; gzip
// when accepted), `/-/healthy`, and `/` (a help page). Each scrape gathers every shard (gather()).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { gather, type GatherSources } from './aggregate.js';

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

const HELP_PAGE = `<!doctype html><html><head><title>evmesh metrics</title></head><body>
<h1>evmesh metrics</h1><p><a href="/metrics">/metrics</a> — Prometheus exposition (EventMesh metric names);
<a href="/-/healthy">/-/healthy</a>. Filter with <code>/metrics?name[]=eventmesh_tcp_connection_num_ratio</code>.</p></body></html>\n`;

async function scrape(src: GatherSources, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const openMetrics = /application\/openmetrics-text/.test(req.headers.accept ?? '');
  const reg = await gather(src, openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE);
  const names = url.searchParams.getAll('name[]');
  if (names.length > 0) for (const m of reg.getMetricsAsArray()) if (!names.includes(m.name)) reg.removeSingleMetric(m.name);
  let body: Buffer = Buffer.from(await reg.metrics());
  const headers: Record<string, string> = { 'content-type': reg.contentType };
  if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    body = gzipSync(body);
    headers['content-encoding'] = 'gzip';
  }
  res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
}

export function startMetricsServer(host: string, port: number, src: GatherSources): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return; }
    if (url.pathname === '/metrics') {
      scrape(src, req, res, url).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${err instanceof Error ? err.message : String(err)}\n`);
      });
    } else if (url.pathname === '/-/healthy') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('Exporter is healthy.\n');
    } else if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HELP_PAGE);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}
