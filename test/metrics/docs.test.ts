// docs/metrics.md ↔ the registry (DESIGN §5: metric names are documented and a test fails when
// code and docs disagree), and the Grafana dashboard queries only documented metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mainFamilies } from '../../src/metrics/aggregate.js';
import { ThreadMetrics } from '../../src/metrics/shard.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** `| \`name\` | type | …` rows of docs/metrics.md → type. */
function documented(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of read('docs/metrics.md').split('\n')) {
    const m = /^\| `([a-z_]+)` \| (counter|gauge|histogram) \|/.exec(line);
    if (!m) continue;
    assert.ok(!rows.has(m[1]!), `documented twice: ${m[1]}`);
    rows.set(m[1]!, m[2]!);
  }
  return rows;
}

function families(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of new ThreadMetrics().registry.getMetricsAsArray()) out.set(m.name, (m as unknown as { type: string }).type);
  for (const f of mainFamilies()) out.set(f.name, f.type);
  return out;
}

test('docs/metrics.md lists every metric family with its type, and nothing else', () => {
  const docs = documented();
  const code = families();
  assert.deepEqual([...code.keys()].filter((n) => !docs.has(n)), [], 'in the registry but not in docs/metrics.md');
  assert.deepEqual([...docs.keys()].filter((n) => !code.has(n)), [], 'in docs/metrics.md but not in the registry');
  for (const [name, type] of code) assert.equal(docs.get(name), type, `${name}: type`);
});

test('docs/grafana-dashboard.json queries only documented metrics and covers every area', () => {
  const dash = JSON.parse(read('docs/grafana-dashboard.json')) as { panels: { title: string; targets: { expr: string }[] }[] };
  const docs = documented();
  const used = new Set<string>();
  for (const p of dash.panels) {
    assert.ok(p.targets.length > 0, `${p.title} has queries`);
    for (const t of p.targets) for (const m of t.expr.matchAll(/\b((?:eventmesh|evmesh|process)_[a-z0-9_]+)/g)) used.add(m[1]!.replace(/_(bucket|sum|count)$/, ''));
  }
  for (const name of used) assert.ok(docs.has(name), `the dashboard queries ${name}, which docs/metrics.md does not list`);
  for (const needed of ['evmesh_consumer_lag_events', 'evmesh_storage_fsync_duration_seconds', 'evmesh_ring_used_bytes', 'eventmesh_tcp_client_eventmesh_tps', 'evmesh_core_dead_letters_total']) {
    assert.ok(used.has(needed), `the dashboard shows ${needed}`);
  }
});

test('docs/grafana-dashboard.json: every query is valid PromQL (promtool check rules)', () => {
  const dash = JSON.parse(read('docs/grafana-dashboard.json')) as { panels: { targets: { expr: string }[] }[] };
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr.replaceAll('$job', '.*')));
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-dash-'));
  try {
    const file = join(dir, 'rules.yml');
    // Recording rules are the one promtool input that parses arbitrary expressions offline.
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${exprs.map((e, i) => `      - record: dashboard:q${i}\n        expr: ${JSON.stringify(e)}\n`).join('')}`);
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    assert.equal(r.error, undefined, 'promtool runs (scripts/services.sh up promtool)');
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
