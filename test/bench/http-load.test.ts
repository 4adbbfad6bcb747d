// The HTTP load generators and ceiling for HTTP scenarios: autocannon and wrk (when installed:
// scripts/services.sh up wrk) against the bare uWS ceiling server, bounded to 1 s on 127.0.0.1;
// wrk's text output parsed from a recorded fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWrk, runAutocannon, runWrk, wrkInstalled } from '../../bench/lib/http-load.js';
import { withUwsCeiling } from '../../bench/lib/uws-ceiling.js';

const fixture = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../fixtures/bench/wrk-latency.txt'), 'utf8');

test('parseWrk: rate, counts and percentiles (us/ms units) from wrk --latency output', () => {
  const r = parseWrk(fixture);
  assert.equal(r.requestsPerSec, 36806.21);
  assert.equal(r.requests, 36812);
  assert.equal(r.non2xx, 12);
  assert.equal(r.errors, 0);
  assert.equal(r.latency.p50Ms, 0.19);
  assert.equal(r.latency.p90Ms, 0.28);
  assert.equal(r.latency.p99Ms, 0.75);
  assert.equal(r.latency.maxMs, 4.21);
  assert.throws(() => parseWrk('garbage'), /unexpected wrk output/);
});

test('autocannon POSTs to the bare uWS ceiling: every response 2xx, latency percentiles', async () => {
  const r = await withUwsCeiling((url) => runAutocannon({ url, method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' }, connections: 8, durationMs: 1000 }));
  assert.equal(r.tool, 'autocannon');
  assert.ok(r.ok > 100 && r.requestsPerSec > 100, `${r.requestsPerSec} req/s`);
  assert.equal(r.non2xx, 0);
  assert.ok(r.latency.p50Ms >= 0 && r.latency.p99Ms >= r.latency.p50Ms);
});

test('wrk POSTs to the bare uWS ceiling (scripts/services.sh up wrk installs it)', { skip: !wrkInstalled() && 'wrk is not installed' }, async () => {
  const r = await withUwsCeiling((url) => runWrk({ url, method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' }, connections: 8, durationMs: 1000 }));
  assert.equal(r.tool, 'wrk');
  assert.ok(r.ok > 100, `${r.ok} responses`);
  assert.equal(r.non2xx, 0);
  assert.ok(r.latency.p99Ms >= r.latency.p50Ms);
});
