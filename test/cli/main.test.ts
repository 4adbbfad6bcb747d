// The real `evmesh` executable as a child process (through tsx, no build needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const main = join(root, 'src', 'cli', 'main.ts');

interface Result { code: number | null; stdout: string; stderr: string }

function evmesh(args: string[], env: Record<string, string> = {}): Promise<Result> {
  // A clean environment: no EVMESH_* from the caller's shell leaks into the child.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EVMESH_')));
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root, env: { ...base, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }));
  });
}

test('--version prints package.json version, exit 0', async () => {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const r = await evmesh(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `${version}\n`);
  assert.equal(r.stderr, '');
});

test('--help lists the commands; start --help lists every flag', async () => {
  const r = await evmesh(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: evmesh/);
  assert.match(r.stdout, /\bstart\b/);
  const s = await evmesh(['start', '--help']);
  assert.equal(s.code, 0);
  for (const flag of ['--config', '--data-dir', '--storage', '--shards', '--tcp-port', '--http-port', '--grpc-port',
    '--admin-port', '--metrics-port', '--fsync']) {
    assert.ok(s.stdout.includes(flag), `start --help mentions ${flag}`);
  }
});

test('bad flag value: exit 2, one line on stderr, nothing on stdout', async () => {
  const r = await evmesh(['start', '--fsync', 'sometimes']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'evmesh: config key log.fsync: "sometimes" is not one of always, interval, never (from --fsync)\n');
});

test('bad env value: exit 2 naming the variable', async () => {
  const r = await evmesh(['start'], { EVMESH_PORTS_TCP: '99999' });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'evmesh: config key ports.tcp: "99999" is not an integer from 0 to 65535 (from EVMESH_PORTS_TCP)\n');
});

test('bad config file: exit 2 naming the file; unreadable and malformed files too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-cli-'));
  try {
    const bad = join(dir, 'evmesh.yaml');
    writeFileSync(bad, 'storage: memory\nshard:\n  ringBytes: 3000\n');
    const r = await evmesh(['start', '--config', bad]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `evmesh: config key shard.ringBytes: 3000 is not a power-of-two size from 4KiB to 1GiB (bytes, or a string like 64KiB) (from file ${bad})\n`);

    const viaEnv = await evmesh(['start'], { EVMESH_CONFIG: bad });
    assert.equal(viaEnv.code, 2);
    assert.equal(viaEnv.stderr, r.stderr);

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"storage": ');
    const b = await evmesh(['start', '--config', broken]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, new RegExp(`^evmesh: config file ${broken.replace(/[.]/g, '\\.')}: invalid JSON: [^\\n]+\\n$`));

    const missing = await evmesh(['start', '--config', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, `evmesh: config file ${join(dir, 'nope.yaml')}: cannot read it (ENOENT)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown option: exit 2 with one line', async () => {
  const r = await evmesh(['start', '--tcp', '1']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1);
  assert.match(r.stderr, /^evmesh: unknown option '--tcp'/);
});

test('config prints the merged configuration: file < env < flags', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'evmesh-cli-'));
  try {
    const file = join(dir, 'evmesh.json');
    writeFileSync(file, JSON.stringify({ ports: { tcp: 1, http: 2, grpc: 3 } }));
    const r = await evmesh(['config', '--config', file, '--grpc-port', '33'], { EVMESH_PORTS_HTTP: '22', EVMESH_PORTS_GRPC: '32' });
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout) as { ports: Record<string, number> };
    assert.deepEqual(c.ports, { tcp: 1, http: 22, grpc: 33, admin: 10106, metrics: 19090 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
