// Embedded log append (issue 3): 1 KiB events through LogStorage next to a raw fs writev of the
// same bytes in the same run (the ceiling), for fsync interval (1 ms) and never.
import { runLogAppendBench } from '../log-append.js';
import type { Row, ScenarioResult } from '../lib/report.js';

export async function logAppendScenario(durationMs: number): Promise<ScenarioResult> {
  const r = await runLogAppendBench({ durationMs: Math.min(durationMs, 3000), fsyncIntervalMs: 1 });
  const rows: Row[] = r.cases.map((c) => ({
    metric: `append 1 KiB, fsync ${c.policy === 'interval' ? 'interval 1 ms' : c.policy}`,
    value: c.log.eventsPerSec, unit: 'events/s', ceiling: c.raw.eventsPerSec, target: { op: 'ratio>=', value: 0.7 },
  }));
  return { scenario: 'log-append', description: 'LogStorage.append of 1 KiB events (64 per append, 8 appenders) vs raw fs writev', rows, details: r };
}
