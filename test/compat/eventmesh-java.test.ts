// Compatibility with the real Apache EventMesh Java SDK (org.apache.eventmesh:eventmesh-sdk-java
// 1.10.0-release — 1.11.0-release is not on Maven Central): test/compat/java is a Maven project
// whose main program runs one scenario against a running evmesh and exits 0 only when every
// check passed. Built with `mvn -q -B package` (local repository: ~/.m2, or $EVMESH_M2_REPO);
// the first build downloads from Maven Central. Skipped when java or mvn is missing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';

const project = join(dirname(fileURLToPath(import.meta.url)), 'java');
const tools = ['java', 'mvn'].every((t) => spawnSync(t, ['-version'], { stdio: 'ignore' }).status === 0);
const skip = tools ? false : 'java and mvn are needed';

const SCENARIOS = [
  'pubsub-cloudevents', 'pubsub-eventmeshmessage',
  'broadcast-cloudevents', 'broadcast-eventmeshmessage',
  'rr-cloudevents', 'rr-eventmeshmessage',
];
/** gRPC scenarios (spec G*), run against the gRPC port (GrpcScenarios.java). */
const GRPC_SCENARIOS = ['grpc-pubsub-cloudevents', 'grpc-pubsub-eventmeshmessage', 'grpc-rr-cloudevents', 'grpc-webhook-cloudevents'];

/** EventMesh HTTP (spec H9, H13–H15, H40) scenarios: dev.evmesh.compat.HttpScenarios (through Main) against the HTTP port. */
const HTTP_SCENARIOS = ['http-pubsub-cloudevents', 'http-pubsub-eventmeshmessage'];

let broker: RunningBroker | undefined;
let classpath = '';

function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs: number }): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { out += `\n[killed after ${opts.timeoutMs} ms]`; child.kill('SIGKILL'); }, opts.timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

before(async () => {
  if (skip) return;
  const repo = process.env.EVMESH_M2_REPO;
  const build = await run('mvn', ['-q', '-B', ...(repo ? [`-Dmaven.repo.local=${repo}`] : []), 'package'], { cwd: project, timeoutMs: 300_000 });
  assert.equal(build.code, 0, `mvn package failed:\n${build.out}`);
  const lib = join(project, 'target', 'lib');
  classpath = [join(project, 'target', 'eventmesh-java-compat-0.1.0.jar'), ...readdirSync(lib).map((f) => join(lib, f))].join(':');
  broker = await startBroker(loadConfig({
    // A short ack timeout: the pub/sub scenarios check that the SDK's acks stop redelivery.
    flags: { shards: 2, storage: 'memory', 'ports.admin': 0, 'ports.metrics': 0, 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, host: '127.0.0.1', 'delivery.ackTimeoutMs': 1000 },
  }), { log: () => {} });
});

after(async () => {
  await broker?.stop();
});

for (const scenario of [...SCENARIOS, ...GRPC_SCENARIOS, ...HTTP_SCENARIOS]) {
  test(`Java SDK 1.10.0 against evmesh: ${scenario}`, { skip, timeout: 90_000 }, async (t) => {
    const port = scenario.startsWith('grpc-') ? broker!.ports.grpc : scenario.startsWith('http-') ? broker!.ports.http : broker!.ports.tcp;
    const res = await run('java', ['-cp', classpath, 'dev.evmesh.compat.Main', '127.0.0.1', String(port), scenario], { timeoutMs: 60_000 });
    const checks = res.out.split('\n').filter((l) => /^(ok|FAIL|RESULT)/.test(l));
    for (const line of checks) t.diagnostic(line);
    assert.equal(res.code, 0, `scenario ${scenario} failed:\n${res.out}`);
    assert.ok(checks.some((l) => l === `RESULT ${scenario}: PASS`));
  });
}

