// Graceful shutdown of the real CLI (issue 3): SIGTERM stops accepting, drains in-flight work,
// commits consumer offsets, flushes and fsyncs, and exits 0 within shutdown.timeoutMs; a
// restarted broker has every acknowledged event and resumes the group where it stopped.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.js';
import { cloudEvent, httpJson } from '../helpers/http.js';

describe('graceful shutdown (SIGTERM / SIGINT)', () => {
  it('drains, persists acknowledged events and group offsets, exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evmesh-stop-'));
    const started: BrokerProcess[] = [];
    try {
      const args = ['--shards', '2', '--data-dir', dir, '--fsync', 'never', '--admin-port', '0', '--metrics-port', '0', '--tcp-port', '0', '--http-port', '0', '--grpc-port', '0'];
      const b1 = await startBrokerProcess(args);
      started.push(b1);
      const port = b1.ports.admin!;
      for (let i = 0; i < 30; i++) assert.equal((await httpJson(port, 'POST', '/topics/stop/events', cloudEvent(`s${i}`))).status, 201);
      const firstPull = await httpJson(port, 'GET', '/topics/stop/events?group=g&from=earliest&max=10&waitMs=3000');
      assert.equal(firstPull.body.events.length, 10);
      await new Promise((r) => setTimeout(r, 50)); // the response's 'finish' acks the 10
      const t0 = Date.now();
      b1.child.kill('SIGTERM');
      assert.equal(await b1.exited, 0, `exit code; stderr: ${b1.stderr()}`);
      assert.ok(Date.now() - t0 < 10_000, 'stopped within shutdown.timeoutMs');

      const b2 = await startBrokerProcess(args);
      started.push(b2);
      const ids: string[] = [];
      for (let i = 0; i < 20 && ids.length < 20; i++) {
        const rest = await httpJson(b2.ports.admin!, 'GET', '/topics/stop/events?group=g&max=100&waitMs=1000');
        ids.push(...rest.body.events.map((e: { event: { id: string } }) => e.event.id));
      }
      const firstIds = new Set(firstPull.body.events.map((e: { event: { id: string } }) => e.event.id));
      assert.equal(ids.length, 20, 'the group resumes after the 10 it acknowledged');
      for (const id of ids) assert.ok(!firstIds.has(id));
      b2.child.kill('SIGINT');
      assert.equal(await b2.exited, 0);
    } finally {
      for (const b of started) b.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad config value with one line naming the key, and exit code 2', async () => {
    await assert.rejects(startBrokerProcess(['--shards', '0']), /exited \(2\).*shards/s);
  });
});
