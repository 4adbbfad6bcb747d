// Embedded log append throughput vs its ceiling in the same run (DESIGN §6): a raw vectored
// append of the same bytes, in the same batch sizes and concurrency, to one file, with the same
// fsync cadence. Usage: node --import tsx bench/log-append.ts [--duration ms] [--appenders n]
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LogStorage } from '../src/storage/log/log-storage.js';

export interface LogAppendBenchOptions {
  /** Wall time of each measured run (ms). Default 2000. */
  readonly durationMs?: number;
  readonly eventBytes?: number;
  /** Events per append call. Default 64. */
  readonly batchEvents?: number;
  /** Concurrent appenders (each awaits its append before the next). Default 8. */
  readonly appenders?: number;
  readonly fsyncIntervalMs?: number;
  readonly policies?: readonly ('interval' | 'never')[];
  /** Measured runs of each kind per policy, alternating raw and log. Default 2. */
  readonly rounds?: number;
  /** Parent directory of the temporary data directories. Default os.tmpdir(). */
  readonly dir?: string;
}

export interface Throughput {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSec: number;
  readonly mbPerSec: number;
}

export interface LogAppendBenchCase {
  readonly policy: 'interval' | 'never';
  readonly log: Throughput;
  readonly raw: Throughput;
  /** log.eventsPerSec / raw.eventsPerSec (target >= 0.7). */
  readonly ratio: number;
}

export interface LogAppendBenchResult {
  readonly options: Required<Omit<LogAppendBenchOptions, 'dir'>>;
  readonly cases: LogAppendBenchCase[];
}

function throughput(events: number, ns: bigint, eventBytes: number): Throughput {
  const seconds = Number(ns) / 1e9;
  return { events, seconds, eventsPerSec: events / seconds, mbPerSec: (events * eventBytes) / seconds / (1 << 20) };
}

function combine(runs: readonly Throughput[], eventBytes: number): Throughput {
  const events = runs.reduce((n, r) => n + r.events, 0);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  return { events, seconds, eventsPerSec: events / seconds, mbPerSec: (events * eventBytes) / seconds / (1 << 20) };
}

function makeBatch(events: number, bytes: number, seed: number): Buffer[] {
  return Array.from({ length: events }, (_, i) => Buffer.alloc(bytes, (seed * 31 + i) & 0xff));
}

async function runLog(dir: string, policy: 'interval' | 'never', o: Required<Omit<LogAppendBenchOptions, 'dir'>>): Promise<Throughput> {
  const s = new LogStorage({ dataDir: dir, fsync: policy, fsyncIntervalMs: o.fsyncIntervalMs });
  await s.open();
  await s.createTopic('bench', 1);
  const batches = Array.from({ length: o.appenders }, (_, a) => makeBatch(o.batchEvents, o.eventBytes, a));
  let events = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(o.durationMs) * 1_000_000n;
  await Promise.all(batches.map(async (batch) => {
    while (process.hrtime.bigint() < deadline) {
      await s.append('bench', 0, batch);
      events += batch.length;
    }
  }));
  const ns = process.hrtime.bigint() - start;
  await s.close();
  return throughput(events, ns, o.eventBytes);
}

/** The ceiling: the same buffers, one positional writev per append, one file, fsync on the same cadence. */
async function runRaw(dir: string, policy: 'interval' | 'never', o: Required<Omit<LogAppendBenchOptions, 'dir'>>): Promise<Throughput> {
  const fd = fs.openSync(join(dir, 'raw.bin'), 'w');
  const batches = Array.from({ length: o.appenders }, (_, a) => makeBatch(o.batchEvents, o.eventBytes, a));
  const batchBytes = o.batchEvents * o.eventBytes;
  let position = 0;
  let events = 0;
  let syncing = false;
  const timer = policy === 'interval' ? setInterval(() => {
    if (syncing) return;
    syncing = true;
    fs.fdatasync(fd, () => { syncing = false; });
  }, o.fsyncIntervalMs) : undefined;
  const writev = (bufs: Buffer[], pos: number) => new Promise<void>((resolve, reject) =>
    fs.writev(fd, bufs, pos, (err) => (err ? reject(err) : resolve())));
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(o.durationMs) * 1_000_000n;
  await Promise.all(batches.map(async (batch) => {
    while (process.hrtime.bigint() < deadline) {
      const pos = position;
      position += batchBytes;
      await writev(batch, pos);
      events += batch.length;
    }
  }));
  const ns = process.hrtime.bigint() - start;
  clearInterval(timer);
  while (syncing) await new Promise((r) => setTimeout(r, 1));
  fs.closeSync(fd);
  return throughput(events, ns, o.eventBytes);
}

export async function runLogAppendBench(opts: LogAppendBenchOptions = {}): Promise<LogAppendBenchResult> {
  const o = {
    durationMs: opts.durationMs ?? 2000,
    eventBytes: opts.eventBytes ?? 1024,
    batchEvents: opts.batchEvents ?? 64,
    appenders: opts.appenders ?? 8,
    fsyncIntervalMs: opts.fsyncIntervalMs ?? 1,
    policies: opts.policies ?? ['interval', 'never'],
    rounds: opts.rounds ?? 2,
  };
  const cases: LogAppendBenchCase[] = [];
  // Runs alternate (raw, log, raw, log …) and each deletes its files afterwards: a run must not
  // inherit the previous one's dirty pages (kernel writeback throttling would bias the ratio).
  for (const policy of o.policies) {
    const raws: Throughput[] = [], logs: Throughput[] = [];
    for (let round = 0; round < o.rounds; round++) {
      for (const kind of round % 2 === 0 ? ['raw', 'log'] : ['log', 'raw']) {
        const dir = await mkdtemp(join(opts.dir ?? tmpdir(), 'evmesh-bench-'));
        try {
          if (kind === 'raw') raws.push(await runRaw(dir, policy, o));
          else logs.push(await runLog(dir, policy, o));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
    const raw = combine(raws, o.eventBytes), log = combine(logs, o.eventBytes);
    cases.push({ policy, log, raw, ratio: log.eventsPerSec / raw.eventsPerSec });
  }
  return { options: o, cases };
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const durationMs = arg('--duration'), appenders = arg('--appenders');
  const r = await runLogAppendBench({
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(appenders !== undefined ? { appenders } : {}),
  });
  const o = r.options;
  console.log(`log append: ${o.eventBytes} B events, ${o.batchEvents} per append, ${o.appenders} appenders, ${o.rounds} × ${o.durationMs} ms per kind, interval = ${o.fsyncIntervalMs} ms`);
  console.log('policy    |        log events/s    MB/s |        raw events/s    MB/s | log/raw');
  for (const c of r.cases) {
    const f = (t: Throughput) => `${t.eventsPerSec.toFixed(0).padStart(19)} ${t.mbPerSec.toFixed(1).padStart(7)}`;
    console.log(`${c.policy.padEnd(9)} | ${f(c.log)} | ${f(c.raw)} | ${c.ratio.toFixed(2)}`);
  }
}
