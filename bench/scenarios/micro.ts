// tinybench micro benchmarks: CRC32C (native addon vs TypeScript fallback), the codecs and the
// SharedArrayBuffer ring (in-thread write+drain). The JS CRC is the native one's ceiling-inverse:
// the ratio shows what the addon buys.
import { benchCodecs } from '../codecs.js';
import { benchCrc32c } from '../crc32c.js';
import type { Row, ScenarioResult } from '../lib/report.js';
import { runRingBench } from '../ring.js';

export async function microScenario(durationMs: number): Promise<ScenarioResult> {
  const time = Math.min(1000, Math.max(200, durationMs / 10));
  const crc = await benchCrc32c({ time });
  const ring = await runRingBench({ timeMs: time });
  const rows: Row[] = [];
  for (const size of [...new Set(crc.map((c) => c.size))]) {
    const native = crc.find((c) => c.size === size && c.impl === 'native');
    const js = crc.find((c) => c.size === size && c.impl === 'js')!;
    rows.push({ metric: `crc32c ${size} B ${native ? 'native' : 'js'}`, value: Math.round((native ?? js).gbPerSec * 100) / 100, unit: 'GB/s' });
    if (native) rows.push({ metric: `crc32c ${size} B js`, value: Math.round(js.gbPerSec * 100) / 100, unit: 'GB/s' });
  }
  const codecs = await benchCodecs({ time });
  for (const c of codecs) rows.push({ metric: c.name, value: c.eventsPerSec, unit: 'events/s' });
  for (const r of ring.inThread) rows.push({ metric: `ring ${r.name}`, value: r.msgsPerSec, unit: 'msgs/s' });
  for (const c of ring.crossThread) rows.push({ metric: `ring main→worker (${c.flush})`, value: c.msgsPerSec, unit: 'msgs/s' });
  return { scenario: 'micro', description: 'CRC32C, codec (core event, EventMesh TCP, binary PUBLISH; 1 KiB events) and ring micro benchmarks', rows, details: { crc, codecs, ring } };
}
