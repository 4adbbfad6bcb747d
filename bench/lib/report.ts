// One shape for every scenario's results, so run.ts can print one table and write one JSON.
import type { LatencySummary } from './histogram.js';
export interface Row {
  metric: string;
  value: number;
  unit: string;
  /** Same-run ceiling of this metric (DESIGN §6), when the scenario measures one. */
  ceiling?: number;
  /** Pass condition from the issue, e.g. { op: '>=', value: 300000 } or { op: 'ratio>=', value: 0.7 }. */
  target?: { op: '>=' | '<=' | 'ratio>='; value: number };
}

export interface ScenarioResult {
  scenario: string;
  description: string;
  rows: Row[];
  /** Latency distributions to plot (HTML report), each with its label. */
  latencies?: { label: string; summary: LatencySummary }[];
  /** Anything else worth keeping in the JSON (latency summaries, per-shard counts …). */
  details?: unknown;
}

export function ratio(r: Row): number | undefined {
  return r.ceiling ? r.value / r.ceiling : undefined;
}

export function passes(r: Row): boolean | undefined {
  if (!r.target) return undefined;
  if (r.target.op === '>=') return r.value >= r.target.value;
  if (r.target.op === '<=') return r.value <= r.target.value;
  const q = ratio(r);
  return q === undefined ? undefined : q >= r.target.value;
}

const fmt = (n: number): string =>
  Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/\.?0+$/, '');

export function markdownTable(results: readonly ScenarioResult[]): string {
  const lines = ['| scenario | metric | value | ceiling (same run) | ratio | target | ok |', '|---|---|---:|---:|---:|---|---|'];
  for (const s of results) {
    for (const r of s.rows) {
      const q = ratio(r);
      const ok = passes(r);
      const target = r.target ? (r.target.op === 'ratio>=' ? `ratio ≥ ${r.target.value}` : `${r.target.op} ${fmt(r.target.value)}`) : '';
      lines.push(`| ${s.scenario} | ${r.metric} | ${fmt(r.value)} ${r.unit} | ${r.ceiling === undefined ? '' : `${fmt(r.ceiling)} ${r.unit}`} | ${q === undefined ? '' : q.toFixed(2)} | ${target} | ${ok === undefined ? '' : ok ? 'yes' : '**no**'} |`);
    }
  }
  return lines.join('\n');
}
