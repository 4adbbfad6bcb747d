// runCli in-process: the start path, the ready line and signal handling, with a fake broker
// and an EventEmitter standing in for `process` signals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { BrokerPorts } from '../../src/broker.js';
import type { CliBroker } from '../../src/cli/run.js';
import { runCli, type CliDeps } from '../../src/cli/run.js';
import type { EvmeshConfig } from '../../src/config/schema.js';
import { EvmeshError } from '../../src/errors.js';

class Sink {
  text = '';
  write(chunk: string): boolean { this.text += chunk; return true; }
  lines(): string[] { return this.text.split('\n').filter((l) => l !== ''); }
}

interface Harness {
  deps: Partial<CliDeps>;
  stdout: Sink;
  stderr: Sink;
  signals: EventEmitter;
  configs: EvmeshConfig[];
  stops: number;
  /** Resolves when startBroker has resolved and the ready line could be written. */
  started: Promise<void>;
}

function harness(opts: {
  ports?: BrokerPorts;
  env?: Record<string, string>;
  start?: (config: EvmeshConfig) => Promise<CliBroker>;
  stop?: () => Promise<void>;
} = {}): Harness {
  const stdout = new Sink(), stderr = new Sink(), signals = new EventEmitter();
  let markStarted!: () => void;
  const h: Harness = {
    stdout, stderr, signals, configs: [], stops: 0,
    started: new Promise((r) => { markStarted = r; }),
    deps: {},
  };
  const broker: CliBroker = {
    ports: opts.ports ?? { tcp: 10000, http: 10105 },
    stop: () => { h.stops++; return opts.stop ? opts.stop() : Promise.resolve(); },
  };
  h.deps = {
    env: opts.env ?? {},
    stdout, stderr, signals,
    version: '9.9.9',
    startBroker: async (config) => {
      h.configs.push(config);
      const b = opts.start ? await opts.start(config) : broker;
      setImmediate(markStarted);
      return b;
    },
  };
  return h;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

test('start: config from flags+env reaches startBroker; one ready line with the bound ports; SIGTERM stops once, exit 0', async () => {
  const h = harness({ ports: { tcp: 41000, http: 41001, grpc: 41002, admin: undefined }, env: { EVMESH_SHARDS: '3' } });
  const exit = runCli(['start', '--storage', 'memory', '--tcp-port', '0', '--http-port', '0', '--grpc-port', '0', '--fsync', 'always'], h.deps);
  await h.started;
  assert.equal(h.configs.length, 1);
  assert.equal(h.configs[0]!.storage, 'memory');
  assert.equal(h.configs[0]!.ports.tcp, 0);
  assert.equal(h.configs[0]!.log.fsync, 'always');
  assert.equal(h.configs[0]!.shards, 3);
  assert.equal(h.stdout.text, 'evmesh ready {"tcp":41000,"http":41001,"grpc":41002}\n');
  assert.equal(h.signals.listenerCount('SIGTERM'), 1);
  assert.equal(h.signals.listenerCount('SIGINT'), 1);

  h.signals.emit('SIGTERM', 'SIGTERM');
  assert.equal(await exit, 0);
  assert.equal(h.stops, 1);
  assert.equal(h.stdout.lines().length, 1, 'stdout carries only the ready line');
  assert.match(h.stderr.text, /SIGTERM received; stopping/);
  assert.equal(h.signals.listenerCount('SIGTERM'), 0, 'signal handlers removed');
  assert.equal(h.signals.listenerCount('SIGINT'), 0);
});

test('SIGINT then a second signal while stopping forces exit 1; stop() is called once', async () => {
  const h = harness({ stop: () => new Promise(() => {}) });
  const exit = runCli(['start'], h.deps);
  await h.started;
  h.signals.emit('SIGINT', 'SIGINT');
  await tick();
  h.signals.emit('SIGINT', 'SIGINT');
  assert.equal(await exit, 1);
  assert.equal(h.stops, 1);
  assert.match(h.stderr.text, /evmesh: second SIGINT received; exiting now\n/);
});

test('stop() slower than shutdown.timeoutMs: exit 1 with a message', async () => {
  const h = harness({ stop: () => new Promise(() => {}), env: { EVMESH_SHUTDOWN_TIMEOUT_MS: '30' } });
  const exit = runCli(['start'], h.deps);
  await h.started;
  const t0 = Date.now();
  h.signals.emit('SIGTERM', 'SIGTERM');
  assert.equal(await exit, 1);
  assert.ok(Date.now() - t0 >= 25);
  assert.match(h.stderr.text, /evmesh: shutdown did not finish within 30 ms \(shutdown\.timeoutMs\); exiting\n/);
});

test('stop() rejecting: exit 1 with one line', async () => {
  const h = harness({ stop: () => Promise.reject(new Error('flush failed\nat segment 3')) });
  const exit = runCli(['start'], h.deps);
  await h.started;
  h.signals.emit('SIGTERM', 'SIGTERM');
  assert.equal(await exit, 1);
  assert.match(h.stderr.text, /evmesh: stop failed: flush failed at segment 3\n/);
});

test('a signal while starting: no ready line, stop once started, exit 0', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const h = harness({ start: async () => { await gate; return { ports: { tcp: 1 }, stop: async () => { h.stops++; } }; } });
  const exit = runCli(['start'], h.deps);
  await tick();
  h.signals.emit('SIGTERM', 'SIGTERM');
  release();
  assert.equal(await exit, 0);
  assert.equal(h.stops, 1);
  assert.equal(h.stdout.text, '');
});

test('startBroker failing: exit 1 with one line; EVM_BAD_CONFIG from the broker: exit 2', async () => {
  const h = harness({ start: () => Promise.reject(Object.assign(new Error('listen EADDRINUSE: address already in use\n  0.0.0.0:10000'), { code: 'EADDRINUSE' })) });
  assert.equal(await runCli(['start'], h.deps), 1);
  assert.equal(h.stderr.text, 'evmesh: failed to start: listen EADDRINUSE: address already in use 0.0.0.0:10000\n');
  assert.equal(h.stdout.text, '');
  assert.equal(h.signals.listenerCount('SIGTERM'), 0);

  const h2 = harness({ start: () => Promise.reject(new EvmeshError('EVM_BAD_CONFIG', 'config key dataDir: "/x" is not writable (from --data-dir)')) });
  assert.equal(await runCli(['start'], h2.deps), 2);
  assert.equal(h2.stderr.text, 'evmesh: config key dataDir: "/x" is not writable (from --data-dir)\n');
});

test('bad config: exit 2, one line on stderr, the broker is never started', async () => {
  for (const [argv, env, message] of [
    [['start', '--shards', 'many'], {}, 'evmesh: config key shards: "many" is not an integer from 1 to 1024 (from --shards)\n'],
    [['start'], { EVMESH_STORAGE: 'rocksdb' }, 'evmesh: config key storage: "rocksdb" is not one of log, memory, kafka (from EVMESH_STORAGE)\n'],
    [['start', '--config', 'x.yaml'], {}, 'evmesh: config key log.fsynk: unknown key (from file x.yaml); did you mean log.fsync?\n'],
  ] as const) {
    const h = harness({ env: { ...env } });
    h.deps.readFile = () => 'log:\n  fsynk: always\n';
    assert.equal(await runCli(argv, h.deps), 2, argv.join(' '));
    assert.equal(h.stderr.text, message);
    assert.equal(h.stdout.text, '');
    assert.equal(h.configs.length, 0);
  }
});

test('usage errors exit 2 with one line; --version and --help exit 0 on stdout', async () => {
  const h = harness();
  assert.equal(await runCli(['start', '--fsnc', 'always'], h.deps), 2);
  assert.equal(h.stderr.text, "evmesh: unknown option '--fsnc' (Did you mean --fsync?)\n");
  const h2 = harness();
  assert.equal(await runCli(['stop'], h2.deps), 2);
  assert.match(h2.stderr.text, /^evmesh: unknown command 'stop'/);
  const h3 = harness();
  assert.equal(await runCli(['--version'], h3.deps), 0);
  assert.equal(h3.stdout.text, '9.9.9\n');
  const h4 = harness();
  assert.equal(await runCli(['start', '--help'], h4.deps), 0);
  assert.match(h4.stdout.text, /--tcp-port <port>/);
  assert.equal(h4.configs.length, 0);
});

test('config: prints the effective config as JSON, exit 0', async () => {
  const h = harness({ env: { EVMESH_LOG_FSYNC: 'never' } });
  assert.equal(await runCli(['config', '--tcp-port', '0', '--shards', '2'], h.deps), 0);
  const c = JSON.parse(h.stdout.text) as EvmeshConfig;
  assert.equal(c.ports.tcp, 0);
  assert.equal(c.shards, 2);
  assert.equal(c.log.fsync, 'never');
  assert.equal(h.configs.length, 0);
});

test('warnings for unknown EVMESH_* variables go to stderr, not stdout', async () => {
  const h = harness({ env: { EVMESH_TCP_PORT: '1' } });
  const exit = runCli(['start'], h.deps);
  await h.started;
  h.signals.emit('SIGTERM', 'SIGTERM');
  assert.equal(await exit, 0);
  assert.match(h.stderr.text, /^evmesh: warning: environment variable EVMESH_TCP_PORT names no config key; ignored\n/);
  assert.equal(h.stdout.lines().length, 1);
});

test('logLevel error silences the informational stop lines', async () => {
  const h = harness({ env: { EVMESH_LOG_LEVEL: 'error' } });
  const exit = runCli(['start'], h.deps);
  await h.started;
  h.signals.emit('SIGTERM', 'SIGTERM');
  assert.equal(await exit, 0);
  assert.equal(h.stderr.text, '');
});

test('two signals while starting: exit 1 at once; the broker is still stopped once it is up', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let stopped = 0;
  const h = harness({ start: async () => { await gate; return { ports: { tcp: 1 }, stop: async () => { stopped++; } }; } });
  const exit = runCli(['start'], h.deps);
  await tick();
  h.signals.emit('SIGTERM', 'SIGTERM');
  h.signals.emit('SIGTERM', 'SIGTERM');
  assert.equal(await exit, 1);
  release();
  await h.started;
  await tick();
  assert.equal(stopped, 1);
  assert.equal(h.stdout.text, '');
});
