// `npm run bench -- [scenario…] [--duration S] [--target URL] [--target-metrics URL]
// [--compare FILE] [--threshold F]`: runs each scenario against a fresh broker with its same-run
// ceiling (DESIGN §6), shows progress on stderr, prints a Markdown table on stdout and writes
// bench/results/<scenario>.json, results.json (all), summary.md and report.html (docs/bench.md).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, compareTable, readResults } from './lib/compare.js';
import type { BenchContext } from './lib/context.js';
import { htmlReport } from './lib/html.js';
import { markdownTable, type ScenarioResult } from './lib/report.js';

const here = dirname(fileURLToPath(import.meta.url));
// Results live in the source tree's bench/results, also when running from dist/bench.
const resultsDir = join(here, here.includes(`${'/'}dist${'/'}`) ? '../../bench/results' : 'results');

type Scenario = (durationMs: number, ctx: BenchContext) => Promise<ScenarioResult>;
type TargetKind = 'tcp' | 'http' | 'grpc';

/** One entry per scenario. `targets`: the --target URL schemes it can drive (EventMesh
 *  protocols); a scenario without it needs evmesh itself and is skipped under --target. */
const SCENARIOS: Record<string, { about: string; run: Scenario; targets?: readonly TargetKind[] }> = {
  'log-append': {
    about: 'embedded log append of 1 KiB events vs raw fs append (fsync interval 1 ms and never)',
    run: async (d) => (await import('./scenarios/log-append.js')).logAppendScenario(d),
  },
  'pubsub-2-shards': {
    about: 'in-process publish → deliver across 2 worker-thread shards',
    run: async (d, ctx) => (await import('./scenarios/pubsub.js')).pubsubScenario(d, ctx),
  },
  'tcp-binary': {
    about: 'evmesh binary protocol: batched publish from 16 connections vs raw TCP sink; publish → push latency at 50k/s',
    run: async (d, ctx) => (await import('./scenarios/tcp-binary.js')).tcpBinaryScenario(d, ctx),
  },
  'tcp-eventmesh': {
    about: 'EventMesh TCP protocol: pipelined publish from 16 connections; publish → push latency at 10k/s',
    run: async (d, ctx) => (await import('./scenarios/tcp-eventmesh.js')).tcpEventMeshScenario(d, ctx),
    targets: ['tcp'],
  },
  kafka: {
    about: 'storage=kafka: SDK binary-TCP publish into a real Kafka broker vs a raw node-rdkafka producer; publish → push latency through Kafka',
    run: async (d) => (await import('./scenarios/kafka.js')).kafkaScenario(d),
  },
  'http-publish': {
    about: 'HTTP publish, binary and structured mode and EventMesh code 104, 100 connections (wrk) vs bare uWS; p99 at half peak (autocannon)',
    run: async (d, ctx) => (await import('./scenarios/http-publish.js')).httpPublishScenario(d, ctx),
    targets: ['http'],
  },
  'http-webhook': {
    about: 'webhook push rate into a bare uWS sink vs wrk into the same sink',
    run: async (d, ctx) => (await import('./scenarios/http-webhook.js')).httpWebhookScenario(d, ctx),
  },
  grpc: {
    about: 'EventMesh gRPC: batchPublish, subscribeStream delivery, unary publish rate + p99 (16 clients) vs a bare grpc-js service',
    run: async (d) => (await import('./scenarios/grpc-load.js')).grpcScenario(d),
  },
  'idle-rss': {
    about: 'RSS of an idle 2-shard broker',
    run: async () => (await import('./scenarios/idle-rss.js')).idleRssScenario(),
  },
  micro: {
    about: 'tinybench micro benchmarks: CRC32C native vs JS, codecs, ring write+drain',
    run: async (d) => (await import('./scenarios/micro.js')).microScenario(d),
  },
};

export interface BenchArgs {
  names: string[];
  durationMs: number;
  target?: URL;
  targetMetrics?: string;
  compare?: string;
  threshold: number;
}

const USAGE = `usage: npm run bench -- [scenario…] [--duration SECONDS] [--target URL] [--target-metrics URL] [--compare FILE] [--threshold FRACTION]`;

export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { names: [], durationMs: 5000, threshold: 0.2 };
  const value = (i: number, flag: string): string => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--duration') {
      const s = Number(value(++i, a));
      if (!(s > 0)) throw new Error('--duration takes a positive number of seconds');
      args.durationMs = s * 1000;
    } else if (a === '--target') {
      const url = new URL(value(++i, a));
      const kind = url.protocol.slice(0, -1);
      if (kind !== 'tcp' && kind !== 'http' && kind !== 'grpc') throw new Error(`--target ${url.href}: the scheme must be tcp:, http: or grpc:`);
      args.target = url;
    } else if (a === '--target-metrics') {
      args.targetMetrics = new URL(value(++i, a)).href;
    } else if (a === '--compare') {
      args.compare = value(++i, a);
    } else if (a === '--threshold') {
      const t = Number(value(++i, a));
      if (!(t >= 0 && t < 1)) throw new Error('--threshold takes a fraction from 0 to 1 (0.2 = 20 %)');
      args.threshold = t;
    } else if (a === '--help' || a === '-h') {
      console.log(`${USAGE}\n\nscenarios:\n${Object.entries(SCENARIOS).map(([n, s]) => `  ${n.padEnd(16)} ${s.about}${s.targets ? ` [--target ${s.targets.join('|')}]` : ''}`).join('\n')}`);
      process.exit(0);
    } else if (SCENARIOS[a]) args.names.push(a);
    else throw new Error(`unknown scenario ${a} (known: ${Object.keys(SCENARIOS).join(', ')})`);
  }
  if (args.names.length === 0) args.names = Object.keys(SCENARIOS);
  return args;
}

/** A progress line on stderr every 2 s while a scenario runs: elapsed time and its last note. */
function progressTicker(name: string): { ctxProgress: (note: string) => void; stop: () => void } {
  const t0 = Date.now();
  let note = 'running';
  const line = () => process.stderr.write(`bench: ${name} ${((Date.now() - t0) / 1000).toFixed(0)} s — ${note}\n`);
  const timer = setInterval(line, 2000);
  return { ctxProgress: (n) => { note = n; line(); }, stop: () => clearInterval(timer) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const baseline = args.compare === undefined ? undefined : readResults(JSON.parse(readFileSync(args.compare, 'utf8')));
  mkdirSync(resultsDir, { recursive: true });
  const results: ScenarioResult[] = [];
  const skipped: string[] = [];
  for (const name of args.names) {
    const s = SCENARIOS[name]!;
    if (args.target !== undefined && !s.targets?.includes(args.target.protocol.slice(0, -1) as TargetKind)) {
      skipped.push(`${name} (${s.targets ? `drives ${s.targets.join('|')} targets only` : 'needs evmesh itself'})`);
      continue;
    }
    process.stderr.write(`bench: ${name} (${s.about}) …\n`);
    const t0 = Date.now();
    const ticker = progressTicker(name);
    let r: ScenarioResult;
    try {
      r = await s.run(args.durationMs, { durationMs: args.durationMs, target: args.target, targetMetrics: args.targetMetrics, progress: ticker.ctxProgress });
    } finally {
      ticker.stop();
    }
    process.stderr.write(`bench: ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    results.push(r);
    writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify({ ...r, at: new Date().toISOString(), node: process.version }, null, 2));
  }
  if (skipped.length > 0) process.stderr.write(`bench: skipped under --target: ${skipped.join(', ')}\n`);
  const meta = { at: new Date().toISOString(), node: process.version, durationMs: args.durationMs, target: args.target?.href };
  const table = markdownTable(results);
  writeFileSync(join(resultsDir, 'results.json'), JSON.stringify({ ...meta, results }, null, 2));
  writeFileSync(join(resultsDir, 'summary.md'), table + '\n');
  writeFileSync(join(resultsDir, 'report.html'), htmlReport(results, meta));
  console.log(table);
  process.stderr.write(`bench: wrote ${join(resultsDir, 'results.json')}, summary.md, report.html\n`);
  if (baseline !== undefined) {
    const changes = compare(baseline, results, args.threshold);
    console.log(`\nCompared with ${args.compare} (threshold ${(args.threshold * 100).toFixed(0)} %):\n\n${compareTable(changes)}`);
    const regressed = changes.filter((c) => c.regressed);
    if (regressed.length > 0) {
      process.stderr.write(`bench: ${regressed.length} regression(s) past ${(args.threshold * 100).toFixed(0)} %: ${regressed.map((c) => `${c.scenario} / ${c.metric}`).join('; ')}\n`);
      process.exitCode = 1;
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
