// HTTP load generators for the HTTP scenarios (DESIGN §6): wrk when it is installed (Debian's
// package, `scripts/services.sh up wrk`; STACK.md: autocannon saturates before uWS does, so wrk
// measures ceilings better), else autocannon. Both report the same shape: requests/s, 2xx count,
// non-2xx, errors, and latency percentiles in ms. Load only ever targets the given URL, bounded
// in time.
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { LatencySummary } from './histogram.js';

export interface HttpLoad {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly connections?: number;
  readonly durationMs: number;
}

export interface HttpLoadResult {
  readonly tool: 'wrk' | 'autocannon';
  readonly requestsPerSec: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly latency: LatencySummary;
}

export function wrkInstalled(): boolean {
  return spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error === undefined;
}

export async function runAutocannon(o: HttpLoad): Promise<HttpLoadResult> {
  const r = await autocannon({
    url: o.url, method: o.method ?? 'GET', ...(o.headers ? { headers: o.headers } : {}), ...(o.body !== undefined ? { body: o.body } : {}),
    connections: o.connections ?? 32, duration: Math.max(1, Math.round(o.durationMs / 1000)),
  });
  return {
    tool: 'autocannon', requestsPerSec: r.requests.total / r.duration, ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts,
    latency: { count: r.requests.total, p50Ms: r.latency.p50, p90Ms: r.latency.p90, p99Ms: r.latency.p99, p999Ms: r.latency.p99_9, maxMs: r.latency.max },
  };
}

/** wrk's `--latency` output → numbers (units us, ms, s). */
export function parseWrk(out: string): { requestsPerSec: number; requests: number; non2xx: number; errors: number; latency: LatencySummary } {
  const ms = (v: string, unit: string): number => Number(v) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 1);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p.replace('.', '\\.')}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? ms(m[1]!, m[2]!) : NaN;
  };
  const max = /^\s*Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)/m.exec(out);
  const total = /^\s*(\d+) requests in/m.exec(out);
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (!total || !rps) throw new Error(`unexpected wrk output:\n${out}`);
  return {
    requestsPerSec: Number(rps[1]), requests: Number(total[1]), non2xx: non2xx ? Number(non2xx[1]) : 0,
    errors: socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    // wrk prints 50/75/90/99 %; it has no 99.9 % line, so p99.9 is left out (NaN).
    latency: { count: Number(total[1]), p50Ms: pct('50'), p90Ms: pct('90'), p99Ms: pct('99'), p999Ms: NaN, maxMs: max ? ms(max[1]!, max[2]!) : NaN },
  };
}

export async function runWrk(o: HttpLoad): Promise<HttpLoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-wrk-'));
  try {
    const script = join(dir, 'req.lua');
    const headers = Object.entries(o.headers ?? {}).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join('\n');
    writeFileSync(script, `wrk.method = ${JSON.stringify(o.method ?? 'GET')}\n${o.body !== undefined ? `wrk.body = ${JSON.stringify(o.body)}\n` : ''}${headers}\n`);
    const args = ['-t2', `-c${o.connections ?? 32}`, `-d${Math.max(1, Math.round(o.durationMs / 1000))}s`, '--latency', '-s', script, o.url];
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (c: Buffer) => { text += c; });
      p.stderr.on('data', (c: Buffer) => { text += c; });
      p.once('error', reject);
      p.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
    });
    const r = parseWrk(out);
    return { tool: 'wrk', requestsPerSec: r.requestsPerSec, ok: r.requests - r.non2xx, non2xx: r.non2xx, errors: r.errors, latency: r.latency };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** wrk when installed, else autocannon. */
export function runHttpLoad(o: HttpLoad): Promise<HttpLoadResult> {
  return wrkInstalled() ? runWrk(o) : runAutocannon(o);
}
