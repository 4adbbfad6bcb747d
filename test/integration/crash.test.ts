// Crash safety end to end (issue 3): the real CLI broker with fsync=always is kill -9'ed at
// several points while clients publish; after every crash it restarts on the same data dir.
// At the end the log is opened directly: every acknowledged event is there, byte-exact, at the
// offset it was acknowledged with, and no event appears twice.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEvent } from '../../src/core/codec.js';
import { LogStorage } from '../../src/storage/log/log-storage.js';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.js';
import { cloudEvent, httpJson } from '../helpers/http.js';

interface Acked { partition: number; offset: number }

describe('crash: kill -9 under load with fsync=always', () => {
  it('loses no acknowledged event and duplicates none across 3 crashes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evmesh-crash-'));
    const acked = new Map<string, Acked>();
    let seq = 0;
    let alive: BrokerProcess | undefined;
    try {
      for (let round = 0; round < 3; round++) {
        const broker = await startBrokerProcess(['--shards', '2', '--data-dir', dir, '--fsync', 'always', '--admin-port', '0', '--metrics-port', '0', '--tcp-port', '0', '--http-port', '0', '--grpc-port', '0'], { EVMESH_TOPICS_DEFAULT_PARTITIONS: '4' });
        const port = broker.ports.admin!;
        alive = broker;
        let killed = false;
        const publisher = async () => {
          while (!killed) {
            const id = `e${seq++}`;
            try {
              const r = await httpJson(port, 'POST', '/topics/crash/events', cloudEvent(id, { round }));
              if (r.status === 201) acked.set(id, { partition: r.body.partition, offset: r.body.offset });
              else if (!killed) assert.fail(`publish answered ${r.status} ${JSON.stringify(r.body)}`);
            } catch {
              if (!killed) throw new Error('publish failed while the broker was up');
            }
          }
        };
        const load = Promise.all(Array.from({ length: 8 }, publisher));
        // Kill at a different point each round: early, mid, later.
        await new Promise((r) => setTimeout(r, 300 + round * 400));
        killed = true;
        broker.child.kill('SIGKILL');
        assert.equal(await broker.exited, 'SIGKILL');
        await load;
      }
      assert.ok(acked.size > 50, `only ${acked.size} events were acknowledged`);

      const log = new LogStorage({ dataDir: dir });
      await log.open();
      const topic = (await log.listTopics()).find((t) => t.name === 'crash');
      assert.ok(topic);
      const seen = new Map<string, Acked>();
      for (let p = 0; p < topic.partitions; p++) {
        const { start, end } = await log.bounds('crash', p);
        assert.equal(start, 0);
        let next = 0;
        while (next < end) {
          const recs = await log.read('crash', p, next, { maxRecords: 500 });
          for (const r of recs) {
            assert.equal(r.offset, next, 'offsets are contiguous');
            next++;
            const ev = decodeEvent(r.value);
            const id = String(ev.attributes.id);
            assert.ok(!seen.has(id), `event ${id} is in the log twice`);
            seen.set(id, { partition: p, offset: r.offset });
            assert.deepEqual(JSON.parse(Buffer.from(ev.data!).toString()), { id });
          }
        }
      }
      await log.close();
      for (const [id, pos] of acked) assert.deepEqual(seen.get(id), pos, `acknowledged event ${id} at ${JSON.stringify(pos)}`);
    } finally {
      alive?.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
