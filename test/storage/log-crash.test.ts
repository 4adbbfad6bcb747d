// A real crash test: a child process appends with fsync 'always' and prints each acknowledged
// batch; it is killed with SIGKILL at random points; the parent reopens the log and checks that
// every acknowledged record is there, byte-exact, in order, contiguous and not duplicated.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { LogStorage } from '../../src/storage/log/log-storage.js';
import { readAll } from './conformance.js';
import { crashValue } from './crash-values.js';
import { tempDir } from './log-helpers.js';

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));

interface Ack { base: number; count: number; seed: string }

/** Runs the writer until it has acked `acks` batches (or exits), kills it, returns the acks it printed. */
function runAndKill(dataDir: string, round: number, acks: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, String(round)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let seen = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      seen += chunk.split('\n').length - 1;
      if (seen > acks) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited with ${code}: ${err}`));
      const lines = out.split('\n').slice(0, -1); // only complete lines were acknowledged
      resolve(lines.filter((l) => l.startsWith('ack ')).map((l) => {
        const [, base, count, seed] = l.split(' ');
        return { base: Number(base), count: Number(count), seed: seed! };
      }));
    });
  });
}

describe('log crash safety (fsync always, SIGKILL)', () => {
  it('keeps every acknowledged record across repeated kill -9', { timeout: 60_000 }, async () => {
    const dataDir = await tempDir('crash');
    const acked: Ack[] = [];
    for (let round = 0; round < 4; round++) {
      const acks = await runAndKill(dataDir, round, 20 + Math.floor(Math.random() * 400));
      acked.push(...acks);
      const s = new LogStorage({ dataDir, fsync: 'always', segmentBytes: 32 * 1024, indexIntervalBytes: 512 });
      await s.open();
      try {
        const all = await readAll(s, 'crash', 0); // asserts offsets are contiguous from 0
        const { end } = await s.bounds('crash', 0);
        assert.equal(all.length, end);
        const seen = new Set<string>();
        for (const a of acked) {
          assert.ok(a.base + a.count <= end, `acked batch ${a.seed} at ${a.base} is beyond the end ${end}`);
          for (let i = 0; i < a.count; i++) {
            const key = `${a.base + i}`;
            assert.ok(!seen.has(key), `offset ${key} acknowledged twice`);
            seen.add(key);
            assert.ok(Buffer.from(all[a.base + i]!.value).equals(crashValue(a.seed, i)), `record ${a.seed}/${i} at ${a.base + i}`);
          }
        }
        // No duplicates: every record in the log belongs to exactly one batch (acked or not).
        const values = new Set(all.map((r) => Buffer.from(r.value).toString()));
        assert.equal(values.size, all.length, 'a record is stored twice');
      } finally {
        await s.close();
      }
    }
    assert.ok(acked.length >= 80);
  });
});
