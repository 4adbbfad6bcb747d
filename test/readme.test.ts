// The README's tour must work as written: its TypeScript example runs against the package root
// (src/index.ts), and its curl flow is replayed over real HTTP against the real CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBrokerProcess } from './helpers/broker-process.js';
import { httpJson } from './helpers/http.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

test('README starts with exactly the two commands: install+start, then the test suite', () => {
  const first = /```sh\n([\s\S]*?)```/.exec(readme)![1]!.trim().split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
  assert.deepEqual(first, ['npm ci && npm start', 'npm test']);
  assert.match(readFileSync(join(root, '.ci/run'), 'utf8'), /^npm ci\nnpm test$/m);
});

test('README: the in-process example runs and prints the delivered event', () => {
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!.replace("from 'evmesh'", `from ${JSON.stringify(pathToFileURL(join(root, 'src/index.ts')).href)}`);
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-readme-'));
  try {
    const file = join(dir, 'example.mts');
    writeFileSync(file, code);
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.match(out, /^0 order\.created \{"total":42\}$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('README: the curl tour (create topic, publish, consume with a group)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-tour-'));
  const b = await startBrokerProcess(['--shards', '2', '--data-dir', dir, '--admin-port', '0', '--metrics-port', '0', '--tcp-port', '0', '--http-port', '0', '--grpc-port', '0']);
  try {
    const port = b.ports.admin!;
    const created = await httpJson(port, 'POST', '/topics', { name: 'orders', partitions: 4 });
    assert.deepEqual(created.body, { name: 'orders', partitions: 4 });
    const ev = { specversion: '1.0', id: '1', source: '/shop', type: 'order.created', datacontenttype: 'application/json', data: { total: 42 } };
    const pub = await httpJson(port, 'POST', '/topics/orders/events', ev);
    assert.equal(pub.body.offset, 0);
    const got = await httpJson(port, 'GET', '/topics/orders/events?group=billing&from=earliest&waitMs=1000');
    assert.deepEqual(got.body.events, [{ partition: pub.body.partition, offset: 0, attempt: 1, event: ev }]);
    assert.equal((await httpJson(port, 'GET', '/status')).body.status, 'UP');
  } finally {
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
