// wrk (Debian package, scripts/services.sh up wrk) as a POST load generator: fixed headers and
// body from a generated Lua script; returns requests/s and latency percentiles it reports.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WrkResult { requestsPerSec: number; requests: number; non2xx: number; errors: number; latencyMs: Record<string, number> }

function lua(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function ms(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

export async function wrkPost(url: string, headers: Record<string, string>, body: string, opts: { connections: number; threads: number; durationMs: number }): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-wrk-'));
  const script = join(dir, 'post.lua');
  writeFileSync(script, [
    'wrk.method = "POST"',
    `wrk.body = ${lua(body)}`,
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`),
  ].join('\n'));
  try {
    const out = await new Promise<string>((resolve, reject) => {
      execFile('wrk', ['-t', String(opts.threads), '-c', String(opts.connections), '-d', `${Math.max(1, Math.round(opts.durationMs / 1000))}s`, '--latency', '-s', script, url],
        { timeout: opts.durationMs + 30_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
    const total = /(\d+) requests in/.exec(out);
    const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
    const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const latencyMs: Record<string, number> = {};
    for (const m of out.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$/gm)) latencyMs[`p${m[1]}`] = ms(m[2]!, m[3]!);
    if (!rps || !total) throw new Error(`unexpected wrk output:\n${out}`);
    return {
      requestsPerSec: Number(rps[1]), requests: Number(total[1]), non2xx: non2xx ? Number(non2xx[1]) : 0,
      errors: errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0, latencyMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
