// A shard worker that goes away while uWS listens in it must not take the process down: node
// aborts a worker exiting with uWS handles open (docs/http.md "Shard exit and uWS"). Run in a
// child process, since an abort would kill the test runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('a shard failing at start-up: startBroker rejects, the process (with the other shard listening on uWS) exits normally', () => {
  const script = fileURLToPath(new URL('./fixtures/start-failure.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `exit ${r.status} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr.slice(0, 2000)}`);
  assert.match(r.stdout, /^rejected: .*shard 1 refuses to start/m);
});

test('a shard crash-looping: the supervisor gives up and the process exits 1 (not an abort)', () => {
  const script = fileURLToPath(new URL('./fixtures/crash-loop.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
  assert.match(r.stdout, /^started$/m);
  assert.equal(r.status, 1, `exit ${r.status} ${r.signal ?? ''}\n${r.stderr.slice(0, 2000)}`);
});
