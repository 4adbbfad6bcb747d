// SO_REUSEPORT listening (STACK.md "Node net in worker threads"): two net.Servers in two worker
// threads share one port; EADDRINUSE and the no-addon fallback behave.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { boundPort, listenReusePort, nativeAddon, reusePortSupported } from '../../src/native.js';
import { listenShared } from '../../src/shard/reuseport.js';

const HOST = '127.0.0.1';
const root = fileURLToPath(new URL('../../', import.meta.url));

// On Node 20, tsx's `--import tsx` registers its loader in the main thread only, so a worker
// cannot run a .ts entry directly: an eval worker registers tsx's ESM API, then imports it.
const WORKER_BOOT = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then(({ register }) => { register(); return import(${JSON.stringify(new URL('./reuseport-worker.ts', import.meta.url).href)}); })`;

function startWorker(id: number, port: number): Promise<{ worker: Worker; port: number }> {
  const worker = new Worker(WORKER_BOOT, { eval: true, workerData: { id, host: HOST, port } });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { port: number }) => resolve({ worker, port: m.port }));
  });
}

function stopWorker(worker: Worker): Promise<number> {
  const done = once(worker, 'message').then(([m]) => (m as { accepted: number }).accepted);
  worker.postMessage('stop');
  return done.then(async (accepted) => {
    await worker.terminate();
    return accepted;
  });
}

/** Connects, reads the serving worker's id byte. */
function whoServes(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const data = Buffer.concat(chunks);
      if (data.length === 1) resolve(data[0]!);
      else reject(new Error(`unexpected reply of ${data.length} bytes`));
    });
  });
}

function listenPlain(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen({ host: HOST, port: 0 }, () => resolve((server.address() as { port: number }).port)));
}

describe('listenReusePort', { skip: !nativeAddon.loaded && `addon not loaded: ${nativeAddon.reason}` }, () => {
  it('two worker threads share one port; 200 connections all succeed and both workers accept', async () => {
    assert.equal(reusePortSupported(), true);
    const workers: Worker[] = [];
    try {
      const a = await startWorker(0, 0);
      workers.push(a.worker);
      assert.ok(a.port > 0);
      const b = await startWorker(1, a.port);
      workers.push(b.worker);
      assert.equal(b.port, a.port);

      const served = [0, 0];
      for (let batch = 0; batch < 4; batch++) {
        const ids = await Promise.all(Array.from({ length: 50 }, () => whoServes(a.port)));
        for (const id of ids) served[id]!++;
      }
      assert.equal(served[0]! + served[1]!, 200);
      assert.ok(served[0]! > 0 && served[1]! > 0, `both workers accept: ${served.join(' / ')}`);
      assert.deepEqual([await stopWorker(a.worker), await stopWorker(b.worker)], served);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });

  it('boundPort resolves port 0; a second reuseport socket binds the same port', async () => {
    const first = createServer();
    const second = createServer();
    try {
      const fd = listenReusePort(HOST, 0, 16);
      const port = boundPort(fd);
      assert.ok(port > 0 && port < 65536);
      await new Promise<void>((resolve) => first.listen({ fd }, resolve));
      assert.equal((first.address() as { port: number }).port, port);
      assert.equal(await listenShared(second, { host: HOST, port }), port);
    } finally {
      first.close();
      second.close();
    }
  });

  it('listens on IPv6 "::" (dual-stack) too', async () => {
    const server = createServer((s) => s.end('x'));
    try {
      const port = await listenShared(server, { host: '::', port: 0 });
      const socket = connect({ host: HOST, port });
      const [data] = (await once(socket, 'data')) as [Buffer];
      assert.equal(data.toString(), 'x');
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it('EADDRINUSE when a non-reuseport server holds the port, as a Node-style error', async () => {
    const holder = createServer();
    const late = createServer();
    try {
      const port = await listenPlain(holder);
      assert.throws(() => listenReusePort(HOST, port, 16), (err: NodeJS.ErrnoException & { port?: number; address?: string }) => {
        assert.ok(err instanceof Error);
        assert.equal(err.code, 'EADDRINUSE');
        assert.equal(err.syscall, 'bind');
        assert.equal(err.address, HOST);
        assert.equal(err.port, port);
        assert.ok(err.message.includes(`${HOST}:${port}`), err.message);
        return true;
      });
      await assert.rejects(listenShared(late, { host: HOST, port }), { code: 'EADDRINUSE' });
      assert.equal(late.listening, false);
    } finally {
      holder.close();
    }
  });

  it('rejects bad arguments', () => {
    assert.throws(() => listenReusePort('localhost', 0, 16), { code: 'EINVAL' });
    assert.throws(() => listenReusePort(HOST, 70000, 16), { code: 'EINVAL' });
    assert.throws(() => listenReusePort(HOST, 1.5, 16), TypeError);
    assert.throws(() => boundPort(-1), { code: 'EBADF', syscall: 'getsockname' });
  });
});

describe('without the addon (EVMESH_NATIVE=0, child process)', () => {
  it('loads the TypeScript fallbacks: same CRC, no reuseport, listenShared listens plainly', () => {
    const script = `
      import { createServer } from 'node:net';
      import { crc32c, crc32cJs, nativeAddon, reusePortSupported, listenReusePort } from './src/native.ts';
      import { listenShared } from './src/shard/reuseport.ts';
      const data = new TextEncoder().encode('123456789');
      let code;
      try { listenReusePort('127.0.0.1', 0, 1); } catch (err) { code = err.code; }
      const server = createServer();
      const port = await listenShared(server, { host: '127.0.0.1', port: 0 });
      server.close();
      console.log(JSON.stringify({ nativeAddon, crc: crc32c(data), same: crc32c === crc32cJs,
        reuse: reusePortSupported(), code, port }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, EVMESH_NATIVE: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    assert.deepEqual(out['nativeAddon'], { loaded: false, reason: 'disabled by EVMESH_NATIVE=0' });
    assert.equal(out['crc'], 0xe3069283);
    assert.equal(out['same'], true);
    assert.equal(out['reuse'], false);
    assert.equal(out['code'], 'ERR_EVMESH_NO_NATIVE');
    assert.ok((out['port'] as number) > 0);
  });
});
