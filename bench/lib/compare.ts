// `--compare FILE`: this run against an earlier one (its bench/results/results.json, or one
// scenario's JSON). A row regresses when it moved the wrong way by more than `threshold`: its
// same-run ratio to the ceiling when both runs have one (robust on a noisy shared machine),
// else its value. Higher is better for rates, lower for latencies; other units are not judged.
import { ratio, type Row, type ScenarioResult } from './report.js';

const HIGHER = new Set(['events/s', 'MB/s', 'msgs/s', 'GB/s']);
const LOWER = new Set(['ms']);

export interface Change {
  readonly scenario: string;
  readonly metric: string;
  readonly basis: 'ratio' | 'value';
  readonly before: number;
  readonly after: number;
  /** Relative change in the good direction (negative = worse). */
  readonly change: number;
  readonly regressed: boolean;
}

/** Accepts results.json ({results}), a scenario JSON, or an array of scenario results. */
export function readResults(json: unknown): ScenarioResult[] {
  if (Array.isArray(json)) return json as ScenarioResult[];
  if (json && typeof json === 'object' && Array.isArray((json as { results?: unknown }).results)) return (json as { results: ScenarioResult[] }).results;
  if (json && typeof json === 'object' && Array.isArray((json as { rows?: unknown }).rows)) return [json as ScenarioResult];
  throw new Error('not a bench result file (expected results.json or a scenario JSON)');
}

export function compare(before: readonly ScenarioResult[], after: readonly ScenarioResult[], threshold: number): Change[] {
  const old = new Map<string, Row>();
  for (const s of before) for (const r of s.rows) old.set(`${s.scenario}\0${r.metric}`, r);
  const out: Change[] = [];
  for (const s of after) {
    for (const r of s.rows) {
      const o = old.get(`${s.scenario}\0${r.metric}`);
      if (o === undefined || o.unit !== r.unit || !(HIGHER.has(r.unit) || LOWER.has(r.unit))) continue;
      const qa = ratio(r), qb = ratio(o);
      const basis = qa !== undefined && qb !== undefined ? 'ratio' : 'value';
      const a = basis === 'ratio' ? qa! : r.value, b = basis === 'ratio' ? qb! : o.value;
      if (!(b > 0)) continue;
      const change = HIGHER.has(r.unit) ? (a - b) / b : (b - a) / b;
      out.push({ scenario: s.scenario, metric: r.metric, basis, before: b, after: a, change, regressed: change < -threshold });
    }
  }
  return out;
}

export function compareTable(changes: readonly Change[]): string {
  const f = (n: number) => (Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(3));
  return ['| scenario | metric | compared | before | after | change | regressed |', '|---|---|---|---:|---:|---:|---|',
    ...changes.map((c) => `| ${c.scenario} | ${c.metric} | ${c.basis} | ${f(c.before)} | ${f(c.after)} | ${(c.change * 100).toFixed(1)}% | ${c.regressed ? '**yes**' : ''} |`)].join('\n');
}
