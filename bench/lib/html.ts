// The HTML report (bench/results/report.html): one self-contained file — inline SVG plots, no
// scripts, no CDN — with a throughput plot (each events/s or MB/s row next to its same-run
// ceiling), a latency plot (percentiles of every latency distribution, log scale) and the table.
import { passes, ratio, type Row, type ScenarioResult } from './report.js';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const num = (n: number): string => (Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : String(Math.round(n * 1000) / 1000));

interface Bar { label: string; value: number; ceiling?: number | undefined; unit: string }

function throughputSvg(bars: Bar[]): string {
  if (bars.length === 0) return '<p>No throughput rows.</p>';
  const rowH = 30, left = 420, width = 1100, plotW = width - left - 250;
  const height = bars.length * rowH + 30;
  const parts: string[] = [];
  // A row with a ceiling is scaled to it; rows without one share a scale per unit.
  const unitMax = new Map<string, number>();
  for (const b of bars) if (b.ceiling === undefined) unitMax.set(b.unit, Math.max(unitMax.get(b.unit) ?? 0, b.value));
  bars.forEach((b, i) => {
    const max = (b.ceiling !== undefined ? Math.max(b.value, b.ceiling) : unitMax.get(b.unit)) || 1;
    const y = 10 + i * rowH;
    const w = (b.value / max) * plotW;
    parts.push(`<text x="${left - 8}" y="${y + 14}" text-anchor="end" font-size="12">${esc(b.label)}</text>`);
    if (b.ceiling !== undefined) {
      parts.push(`<rect x="${left}" y="${y}" width="${((b.ceiling / max) * plotW).toFixed(1)}" height="22" fill="#d9d9d9"><title>ceiling ${num(b.ceiling)} ${esc(b.unit)}</title></rect>`);
    }
    parts.push(`<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="14" fill="#3b75af"><title>${num(b.value)} ${esc(b.unit)}</title></rect>`);
    const q = b.ceiling ? ` (${(b.value / b.ceiling).toFixed(2)} of ceiling)` : '';
    parts.push(`<text x="${left + Math.max(w, b.ceiling !== undefined ? (b.ceiling / max) * plotW : 0) + 6}" y="${y + 15}" font-size="11">${num(b.value)} ${esc(b.unit)}${q}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="throughput">${parts.join('')}
<text x="${left}" y="${height - 4}" font-size="11" fill="#555">blue: evmesh; grey: the same-run ceiling (a row with a ceiling is scaled to it, others per unit)</text></svg>`;
}

const PCTS = [['p50', 'p50Ms'], ['p90', 'p90Ms'], ['p99', 'p99Ms'], ['p99.9', 'p999Ms'], ['max', 'maxMs']] as const;
const COLORS = ['#3b75af', '#519e3e', '#ef8636', '#c53a32', '#8d69b8', '#84584e'];

function latencySvg(series: { label: string; summary: Record<string, number> }[]): string {
  if (series.length === 0) return '<p>No latency distributions.</p>';
  const width = 1100, top = 20, plotH = 280, left = 70, plotW = width - left - 20;
  const bottom = 40 + series.length * 16, height = top + plotH + bottom;
  const values = series.flatMap((s) => PCTS.map(([, k]) => Math.max(s.summary[k] ?? 0, 0.001)));
  const lo = Math.floor(Math.log10(Math.min(...values))), hi = Math.ceil(Math.log10(Math.max(...values)));
  const span = Math.max(1, hi - lo);
  const y = (v: number): number => top + plotH - ((Math.log10(Math.max(v, 0.001)) - lo) / span) * plotH;
  const parts: string[] = [];
  for (let e = lo; e <= hi; e++) {
    parts.push(`<line x1="${left}" x2="${width - 20}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#eee"/><text x="${left - 6}" y="${y(10 ** e) + 4}" text-anchor="end" font-size="11">${10 ** e} ms</text>`);
  }
  const group = plotW / PCTS.length, barW = Math.min(28, (group - 10) / series.length);
  PCTS.forEach(([name, key], g) => {
    parts.push(`<text x="${left + g * group + group / 2}" y="${top + plotH + 16}" text-anchor="middle" font-size="12">${name}</text>`);
    series.forEach((s, i) => {
      const v = s.summary[key] ?? 0;
      const x = left + g * group + (group - barW * series.length) / 2 + i * barW;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${COLORS[i % COLORS.length]}"><title>${esc(s.label)} ${name} ${v} ms</title></rect>`);
    });
  });
  const legend = series.map((s, i) => `<text x="${left}" y="${top + plotH + 40 + i * 16}" font-size="12"><tspan fill="${COLORS[i % COLORS.length]}">■</tspan> ${esc(s.label)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="latency">${parts.join('')}${legend}</svg>`;
}

function table(results: readonly ScenarioResult[]): string {
  const rows = results.flatMap((s) => s.rows.map((r: Row) => {
    const q = ratio(r), ok = passes(r);
    const target = r.target ? `${r.target.op} ${r.target.value}` : '';
    return `<tr><td>${esc(s.scenario)}</td><td>${esc(r.metric)}</td><td class="n">${num(r.value)} ${esc(r.unit)}</td><td class="n">${r.ceiling === undefined ? '' : `${num(r.ceiling)} ${esc(r.unit)}`}</td><td class="n">${q === undefined ? '' : q.toFixed(2)}</td><td>${esc(target)}</td><td>${ok === undefined ? '' : ok ? 'yes' : '<b>no</b>'}</td></tr>`;
  }));
  return `<table><thead><tr><th>scenario</th><th>metric</th><th>value</th><th>ceiling (same run)</th><th>ratio</th><th>target</th><th>ok</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function htmlReport(results: readonly ScenarioResult[], meta: { at: string; node: string; durationMs: number; target?: string | undefined }): string {
  const bars: Bar[] = results.flatMap((s) => s.rows.filter((r) => r.unit === 'events/s' || r.unit === 'MB/s' || r.unit === 'msgs/s' || r.unit === 'GB/s')
    .map((r) => ({ label: `${s.scenario}: ${r.metric}`, value: r.value, ceiling: r.ceiling, unit: r.unit })));
  const lat = results.flatMap((s) => (s.latencies ?? []).map((l) => ({ label: `${s.scenario}: ${l.label}`, summary: l.summary as unknown as Record<string, number> })));
  const sections = results.map((s) => `<h3>${esc(s.scenario)}</h3><p>${esc(s.description)}</p>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>evmesh bench ${esc(meta.at)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px}td.n{text-align:right;white-space:nowrap}</style></head><body>
<h1>evmesh benchmark</h1>
<p>${esc(meta.at)} · Node ${esc(meta.node)} · ${meta.durationMs / 1000} s per phase${meta.target ? ` · target ${esc(meta.target)}` : ''}. Numbers from a shared 2-core machine are noisy: compare the same-run ratios.</p>
<h2>Throughput</h2>${throughputSvg(bars)}
<h2>Latency</h2>${latencySvg(lat)}
<h2>Results</h2>${table(results)}
<h2>Scenarios</h2>${sections}
</body></html>
`;
}
