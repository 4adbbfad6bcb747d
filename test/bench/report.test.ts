// Bench reporting (pure logic): --compare judges same-run ratios (or values) in the right
// direction per unit, the HTML report is self-contained with both plots, and run.ts's flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, readResults } from '../../bench/lib/compare.js';
import { htmlReport } from '../../bench/lib/html.js';
import type { ScenarioResult } from '../../bench/lib/report.js';
import { parseArgs } from '../../bench/run.js';

const run = (rate: number, ceiling: number, p99: number, rss: number): ScenarioResult[] => [{
  scenario: 's', description: 'd',
  rows: [
    { metric: 'rate', value: rate, unit: 'events/s', ceiling },
    { metric: 'p99', value: p99, unit: 'ms' },
    { metric: 'rss', value: rss, unit: 'MiB' },
  ],
  latencies: [{ label: 'lat', summary: { count: 10, p50Ms: 0.2, p90Ms: 0.5, p99Ms: p99, p999Ms: 3, maxMs: 9 } }],
}];

test('--compare: a rate judged by its ceiling ratio, latency by value (lower is better), other units ignored', () => {
  // The machine got slower (both rate and ceiling halved): the ratio held, no regression.
  let c = compare(run(100, 200, 1, 100), run(50, 100, 1, 500), 0.2);
  assert.deepEqual(c.map((x) => [x.metric, x.basis, x.regressed]), [['rate', 'ratio', false], ['p99', 'value', false]]);
  // The ratio fell by 40 % and p99 doubled: both regress.
  c = compare(run(100, 200, 1, 100), run(60, 200, 2, 100), 0.2);
  assert.deepEqual(c.map((x) => [x.metric, x.regressed]), [['rate', true], ['p99', true]]);
  assert.ok(Math.abs(c[0]!.change - -0.4) < 1e-9);
  // Within the threshold.
  assert.equal(compare(run(100, 200, 1, 1), run(90, 200, 1.1, 1), 0.2).some((x) => x.regressed), false);
});

test('--compare reads results.json, a scenario JSON, or an array', () => {
  const rs = run(1, 2, 3, 4);
  assert.equal(readResults({ results: rs }).length, 1);
  assert.equal(readResults(rs[0]).length, 1);
  assert.equal(readResults(rs).length, 1);
  assert.throws(() => readResults({ nope: 1 }), /not a bench result/);
});

test('HTML report: self-contained (no scripts, no external URLs) with throughput and latency SVG plots', () => {
  const html = htmlReport(run(100, 200, 1, 100), { at: '2026-01-01T00:00:00Z', node: 'v20', durationMs: 5000 });
  assert.equal((html.match(/<svg /g) ?? []).length, 2);
  assert.doesNotMatch(html, /<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  assert.match(html, /0\.50 of ceiling/);
  assert.match(html, /p99\.9/);
});

test('run.ts flags: scenarios, --duration, --target schemes, --compare, --threshold', () => {
  const a = parseArgs(['tcp-eventmesh', '--duration', '2', '--target', 'tcp://10.0.0.1:10000', '--compare', 'old.json', '--threshold', '0.3']);
  assert.deepEqual(a.names, ['tcp-eventmesh']);
  assert.equal(a.durationMs, 2000);
  assert.equal(a.target?.port, '10000');
  assert.equal(a.compare, 'old.json');
  assert.equal(a.threshold, 0.3);
  assert.ok(parseArgs([]).names.length > 3, 'no scenario: all of them');
  assert.throws(() => parseArgs(['--target', 'ftp://x']), /tcp:, http: or grpc:/);
  assert.throws(() => parseArgs(['--duration', '0']), /positive/);
  assert.throws(() => parseArgs(['nope']), /unknown scenario/);
});
