// CRC-32C micro benchmark (tinybench): the native addon vs the TypeScript fallback on 64 B,
// 1 KiB and 64 KiB buffers. Run: `node --import tsx bench/crc32c.ts` (or `node
// dist/bench/crc32c.js` after the build). Each iteration checksums 64 KiB in total (1024 × 64 B,
// 64 × 1 KiB, 1 × 64 KiB), so timer overhead does not distort the small sizes.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { crc32c, crc32cJs, nativeAddon } from '../src/native.js';

export interface Crc32cBenchResult {
  impl: Impl;
  size: number;
  /** Checksums per second (one call each). */
  callsPerSec: number;
  gbPerSec: number;
  /** Relative margin of error of the per-iteration throughput, in percent. */
  rme: number;
}

type Impl = 'native' | 'js';
const SIZES = [64, 1024, 65536];
const BYTES_PER_ITERATION = 65536;
let sink = 0;

// One loop literal per implementation so each call site stays monomorphic (closures made
// from one literal share V8 feedback, which would make a shared `fn(view)` site megamorphic).
type Loop = (views: Uint8Array[]) => number;
function loops(): Array<[Impl, Loop]> {
  const list: Array<[Impl, Loop]> = [['js', (views) => { let acc = 0; for (const v of views) acc ^= crc32cJs(v); return acc; }]];
  if (nativeAddon.loaded) list.unshift(['native', (views) => { let acc = 0; for (const v of views) acc ^= crc32c(v); return acc; }]);
  return list;
}

export async function benchCrc32c(options: { time?: number } = {}): Promise<Crc32cBenchResult[]> {
  const bench = new Bench({ time: options.time ?? 500, warmupTime: 100 });
  const meta = new Map<string, { impl: Impl; size: number; calls: number }>();
  for (const size of SIZES) {
    const calls = BYTES_PER_ITERATION / size;
    // Offset 1: buffers on the hot path are slices of receive buffers, rarely aligned.
    const views = Array.from({ length: calls }, () => randomBytes(size + 1).subarray(1));
    for (const [impl, loop] of loops()) {
      const name = `${impl} ${size} B`;
      meta.set(name, { impl, size, calls });
      bench.add(name, () => {
        sink ^= loop(views);
      });
    }
  }
  await bench.run();
  return bench.tasks.map((task) => {
    const m = meta.get(task.name)!;
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state}`);
    const iterationsPerSec = r.throughput.mean;
    return {
      impl: m.impl,
      size: m.size,
      callsPerSec: iterationsPerSec * m.calls,
      gbPerSec: (iterationsPerSec * BYTES_PER_ITERATION) / 1e9,
      rme: r.throughput.rme,
    };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await benchCrc32c();
  console.log(`CRC-32C — addon ${nativeAddon.loaded ? `loaded (${nativeAddon.crc32cImpl})` : `not loaded: ${nativeAddon.reason}`}`);
  console.table(results.map((r) => ({
    impl: r.impl,
    size: r.size,
    'calls/s': Math.round(r.callsPerSec).toLocaleString('en-US'),
    'GB/s': r.gbPerSec.toFixed(2),
    '±%': r.rme.toFixed(1),
  })));
  for (const size of SIZES) {
    const n = results.find((r) => r.impl === 'native' && r.size === size);
    const j = results.find((r) => r.impl === 'js' && r.size === size);
    if (n && j) console.log(`${size} B: native/js = ${(n.gbPerSec / j.gbPerSec).toFixed(1)}×`);
  }
  if (sink === 0.5) console.log(sink); // keeps the results observable
}
