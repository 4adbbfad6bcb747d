// `npm run bench [scenario…] [--duration SECONDS]`: runs each scenario against a fresh broker
// with its same-run ceiling (DESIGN §6), prints progress to stderr and a Markdown table to
// stdout, and writes bench/results/<scenario>.json plus bench/results/summary.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable, type ScenarioResult } from './lib/report.js';

const here = dirname(fileURLToPath(import.meta.url));
// Results live in the source tree's bench/results, also when running from dist/bench.
const resultsDir = join(here, here.includes(`${'/'}dist${'/'}`) ? '../../bench/results' : 'results');

type Scenario = (durationMs: number) => Promise<ScenarioResult>;

const SCENARIOS: Record<string, { about: string; run: Scenario }> = {
  'log-append': {
    about: 'embedded log append of 1 KiB events vs raw fs append (fsync interval 1 ms and never)',
    run: async (d) => (await import('./scenarios/log-append.js')).logAppendScenario(d),
  },
  'pubsub-2-shards': {
    about: 'in-process publish → deliver across 2 worker-thread shards',
    run: async (d) => (await import('./scenarios/pubsub.js')).pubsubScenario(d),
  },
  'tcp-binary': {
    about: 'evmesh binary protocol: batched publish from 16 connections vs raw TCP sink; publish → push latency at 50k/s',
    run: async (d) => (await import('./scenarios/tcp-binary.js')).tcpBinaryScenario(d),
  },
  'tcp-eventmesh': {
    about: 'EventMesh TCP protocol: pipelined publish from 16 connections',
    run: async (d) => (await import('./scenarios/tcp-eventmesh.js')).tcpEventMeshScenario(d),
  },
  'http-publish': {
    about: 'HTTP publish, binary and structured mode, 100 connections (wrk) vs bare uWS; p99 at half peak (autocannon)',
    run: async (d) => (await import('./scenarios/http-publish.js')).httpPublishScenario(d),
  },
  'http-webhook': {
    about: 'webhook push rate into a bare uWS sink vs wrk into the same sink',
    run: async (d) => (await import('./scenarios/http-webhook.js')).httpWebhookScenario(d),
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
    about: 'tinybench micro benchmarks: CRC32C native vs JS, ring write+drain',
    run: async (d) => (await import('./scenarios/micro.js')).microScenario(d),
  },
};

function parseArgs(argv: string[]): { names: string[]; durationMs: number } {
  const names: string[] = [];
  let durationMs = 5000;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--duration') {
      const s = Number(argv[++i]);
      if (!(s > 0)) throw new Error('--duration takes a positive number of seconds');
      durationMs = s * 1000;
    } else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench -- [scenario…] [--duration SECONDS]\n\nscenarios:\n${Object.entries(SCENARIOS).map(([n, s]) => `  ${n.padEnd(16)} ${s.about}`).join('\n')}`);
      process.exit(0);
    } else if (SCENARIOS[a]) names.push(a);
    else throw new Error(`unknown scenario ${a} (known: ${Object.keys(SCENARIOS).join(', ')})`);
  }
  return { names: names.length ? names : Object.keys(SCENARIOS), durationMs };
}

async function main(): Promise<void> {
  const { names, durationMs } = parseArgs(process.argv.slice(2));
  mkdirSync(resultsDir, { recursive: true });
  const results: ScenarioResult[] = [];
  for (const name of names) {
    process.stderr.write(`bench: ${name} (${SCENARIOS[name]!.about}) …\n`);
    const t0 = Date.now();
    const r = await SCENARIOS[name]!.run(durationMs);
    process.stderr.write(`bench: ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    results.push(r);
    writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify({ ...r, at: new Date().toISOString(), node: process.version }, null, 2));
  }
  const table = markdownTable(results);
  writeFileSync(join(resultsDir, 'summary.md'), table + '\n');
  console.log(table);
}

main().catch((err) => {
  console.error(`bench: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
