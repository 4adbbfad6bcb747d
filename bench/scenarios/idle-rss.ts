// Memory of an idle broker (issue 3: ≤ 150 MiB with 2 shards): the real CLI as a child
// process, embedded log, measured from /proc after it settles.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioResult } from '../lib/report.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The CLI next to this file: dist/src/cli/main.js when compiled, src/cli/main.ts under tsx. */
function cliCommand(): string[] {
  if (import.meta.url.endsWith('.ts')) return ['--import', 'tsx', join(here, '../../src/cli/main.ts')];
  return [join(here, '../../src/cli/main.js')];
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function idleRssScenario(settleMs = 3000): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-rss-'));
  const child = spawn(process.execPath, [...cliCommand(), 'start', '--shards', '2', '--data-dir', dir, '--admin-port', '0', '--metrics-port', '0', '--tcp-port', '0', '--http-port', '0', '--grpc-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => { out += c; if (out.includes('evmesh ready')) resolve(); });
      child.once('exit', (code) => reject(new Error(`broker exited with ${code} before ready`)));
    });
    await new Promise((r) => setTimeout(r, settleMs));
    const rss = rssMiB(child.pid!);
    return {
      scenario: 'idle-rss',
      description: 'RSS of an idle broker (CLI, 2 shards, embedded log) after it settled',
      rows: [{ metric: 'idle RSS', value: Math.round(rss * 10) / 10, unit: 'MiB', target: { op: '<=', value: 150 } }],
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
