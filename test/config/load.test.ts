import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvmeshError } from '../../src/errors.js';
import { defaultConfig, loadConfig, type LoadOptions } from '../../src/config/load.js';

/** Asserts that `fn` throws EVM_BAD_CONFIG with exactly `message` (always one line). */
function assertBad(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EvmeshError, `expected EvmeshError, got ${String(err)}`);
    assert.equal(err.code, 'EVM_BAD_CONFIG');
    assert.ok(!err.message.includes('\n'), `message is one line: ${err.message}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

/** loadConfig with an in-memory file. */
function withFile(path: string, content: string, opts: LoadOptions = {}) {
  return loadConfig({ file: path, readFile: (p) => { assert.equal(p, path); return content; }, ...opts });
}

test('defaults: EventMesh ports, log storage, one shard per CPU', () => {
  const c = defaultConfig();
  assert.deepEqual(c.ports, { tcp: 10000, http: 10105, grpc: 10205, admin: 10106, metrics: 19090 });
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.dataDir, './data');
  assert.equal(c.storage, 'log');
  assert.equal(c.shards, availableParallelism());
  assert.equal(c.logLevel, 'info');
  assert.deepEqual(c.topics, { defaultPartitions: 8, autoCreate: true });
  assert.deepEqual(c.log, {
    fsync: 'interval', fsyncIntervalMs: 5, segmentBytes: 134217728, indexIntervalBytes: 4096,
    retentionBytes: -1, retentionMs: 604800000,
  });
  assert.deepEqual(c.delivery, {
    ackTimeoutMs: 30000, maxAttempts: 16, maxInflight: 1000, deadLetterTopic: '{topic}.{group}.DLQ', requestTimeoutMs: 10000,
  });
  assert.deepEqual(c.limits, { maxEventBytes: 4 * 1024 * 1024, maxBatchEvents: 10000, maxFrameBytes: 4 * 1024 * 1024 });
  assert.deepEqual(c.shard, { ringBytes: 1024 * 1024, maxRestarts: 5 });
  assert.deepEqual(c.shutdown, { timeoutMs: 10000 });
  assert.deepEqual(loadConfig(), c, 'loadConfig() with no layers is the defaults');
});

test('precedence: defaults < file < env < flags, each layer only for the keys it sets', () => {
  const file = 'ports:\n  tcp: 1001\n  http: 1002\n  grpc: 1003\nlog:\n  fsync: never\n';
  const env = { EVMESH_PORTS_HTTP: '2002', EVMESH_PORTS_GRPC: '2003' };
  const flags = { 'ports.grpc': '3003' };

  assert.equal(withFile('c.yaml', file).ports.tcp, 1001, 'file over default');
  const c = withFile('c.yaml', file, { env, flags });
  assert.equal(c.ports.tcp, 1001, 'file value kept when env and flags do not set it');
  assert.equal(c.ports.http, 2002, 'env over file');
  assert.equal(c.ports.grpc, 3003, 'flag over env');
  assert.equal(c.ports.admin, 10106, 'default kept when no layer sets it');
  assert.equal(c.log.fsync, 'never');
  assert.equal(loadConfig({ env: { EVMESH_LOG_FSYNC: 'always' } }).log.fsync, 'always', 'env over default');
  assert.equal(loadConfig({ flags: { 'log.fsync': 'always' } }).log.fsync, 'always', 'flag over default');
});

test('config file comes from --config, else EVMESH_CONFIG; --config wins', () => {
  const files: Record<string, string> = { 'a.yaml': 'shards: 3\n', 'b.json': '{"shards": 4}' };
  const readFile = (p: string) => files[p]!;
  assert.equal(loadConfig({ env: { EVMESH_CONFIG: 'a.yaml' }, readFile }).shards, 3);
  assert.equal(loadConfig({ file: 'b.json', env: { EVMESH_CONFIG: 'a.yaml' }, readFile }).shards, 4);
  assert.equal(loadConfig({ env: { EVMESH_CONFIG: '' }, readFile }).shards, availableParallelism(), 'empty EVMESH_CONFIG = no file');
});

test('env mapping: EVMESH_ + the path in SCREAMING_SNAKE', () => {
  const c = loadConfig({
    env: {
      EVMESH_LOG_FSYNC_INTERVAL_MS: '20',
      EVMESH_PORTS_TCP: '0',
      EVMESH_DATA_DIR: '/var/lib/evmesh',
      EVMESH_TOPICS_AUTO_CREATE: 'false',
      EVMESH_TOPICS_DEFAULT_PARTITIONS: '16',
      EVMESH_LOG_LEVEL: 'debug',
      EVMESH_DELIVERY_DEAD_LETTER_TOPIC: 'dlq.{topic}',
      EVMESH_SHUTDOWN_TIMEOUT_MS: '500',
    },
  });
  assert.equal(c.log.fsyncIntervalMs, 20);
  assert.equal(c.ports.tcp, 0);
  assert.equal(c.dataDir, '/var/lib/evmesh');
  assert.equal(c.topics.autoCreate, false);
  assert.equal(c.topics.defaultPartitions, 16);
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.delivery.deadLetterTopic, 'dlq.{topic}');
  assert.equal(c.shutdown.timeoutMs, 500);
});

test('env: booleans accept true/false/1/0, empty values are unset, unknown EVMESH_* warn', () => {
  assert.equal(loadConfig({ env: { EVMESH_TOPICS_AUTO_CREATE: '0' } }).topics.autoCreate, false);
  assert.equal(loadConfig({ env: { EVMESH_TOPICS_AUTO_CREATE: 'TRUE' } }).topics.autoCreate, true);
  assert.equal(loadConfig({ env: { EVMESH_PORTS_TCP: '' } }).ports.tcp, 10000);
  const warnings: string[] = [];
  const c = loadConfig({ env: { EVMESH_PORT_TCP: '1', HOME: '/root', EVMESH_CONFIG: '' }, warn: (m) => warnings.push(m) });
  assert.equal(c.ports.tcp, 10000);
  assert.deepEqual(warnings, ['environment variable EVMESH_PORT_TCP names no config key; ignored']);
});

test('YAML file: nested keys, typed values, sizes as strings', () => {
  const c = withFile('evmesh.yml', [
    'host: 127.0.0.1',
    'storage: memory',
    'ports: { tcp: 0, http: 0 }',
    'topics:',
    '  autoCreate: false',
    'log:',
    '  segmentBytes: 64MiB',
    '  retentionBytes: 10GiB',
    '  retentionMs: -1',
    'limits:',
    '  maxEventBytes: 1048576',
    'shard:',
    '  ringBytes: 256KiB',
    '',
  ].join('\n'));
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.storage, 'memory');
  assert.equal(c.ports.tcp, 0);
  assert.equal(c.ports.http, 0);
  assert.equal(c.topics.autoCreate, false);
  assert.equal(c.log.segmentBytes, 64 * 1024 * 1024);
  assert.equal(c.log.retentionBytes, 10 * 1024 ** 3);
  assert.equal(c.log.retentionMs, -1);
  assert.equal(c.limits.maxEventBytes, 1048576);
  assert.equal(c.shard.ringBytes, 256 * 1024);
});

test('JSON file, and real files on disk picked by extension', () => {
  const c = withFile('evmesh.json', JSON.stringify({ storage: 'memory', delivery: { maxAttempts: 3 }, limits: { maxEventBytes: '64KiB' } }));
  assert.equal(c.storage, 'memory');
  assert.equal(c.delivery.maxAttempts, 3);
  assert.equal(c.limits.maxEventBytes, 65536);

  const dir = mkdtempSync(join(tmpdir(), 'evmesh-config-'));
  try {
    writeFileSync(join(dir, 'a.yaml'), 'shards: 2\nlog: { fsync: always }\n');
    writeFileSync(join(dir, 'b.json'), '{"shards": 5}');
    assert.equal(loadConfig({ file: join(dir, 'a.yaml') }).log.fsync, 'always');
    assert.equal(loadConfig({ file: join(dir, 'b.json') }).shards, 5);
    assert.deepEqual(withFile('empty.yaml', ''), defaultConfig(), 'an empty YAML file is all defaults');
    assertBad(() => loadConfig({ file: join(dir, 'missing.yaml') }), `config file ${join(dir, 'missing.yaml')}: cannot read it (ENOENT)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('size strings in file, env and flags', () => {
  const sizes: Array<[string, number]> = [
    ['4MiB', 4 * 1024 * 1024], ['64KiB', 65536], ['128MiB', 128 * 1024 ** 2], ['512KIB', 512 * 1024],
    [' 2 MiB ', 2 * 1024 * 1024], ['1.5MiB', 1.5 * 1024 * 1024], ['8192', 8192], ['8192B', 8192],
  ];
  for (const [text, bytes] of sizes) {
    assert.equal(loadConfig({ env: { EVMESH_LIMITS_MAX_EVENT_BYTES: text } }).limits.maxEventBytes, bytes, `env ${text}`);
    assert.equal(loadConfig({ flags: { 'limits.maxEventBytes': text } }).limits.maxEventBytes, bytes, `flag ${text}`);
    assert.equal(withFile('c.json', JSON.stringify({ limits: { maxEventBytes: text } })).limits.maxEventBytes, bytes, `file ${text}`);
  }
  const allowed = 'a size from 1KiB to 256MiB (bytes, or a string like 64KiB)';
  for (const bad of ['4MB', '4 mebibytes', '1.0001KiB', 'MiB', '', '0x100']) {
    if (bad === '') continue; // empty env = unset; covered elsewhere
    assertBad(() => loadConfig({ env: { EVMESH_LIMITS_MAX_EVENT_BYTES: bad } }),
      `config key limits.maxEventBytes: ${JSON.stringify(bad)} is not ${allowed} (from EVMESH_LIMITS_MAX_EVENT_BYTES)`);
  }
  assertBad(() => loadConfig({ flags: { 'limits.maxEventBytes': '1TiB' } }),
    `config key limits.maxEventBytes: "1TiB" is not ${allowed} (from override limits.maxEventBytes)`);
});

test('unknown keys in a file are errors, with a suggestion for typos', () => {
  assertBad(() => withFile('c.yaml', 'log:\n  fsynk: always\n'),
    'config key log.fsynk: unknown key (from file c.yaml); did you mean log.fsync?');
  assertBad(() => withFile('c.yaml', 'prots:\n  tcp: 1\n'),
    'config key prots: unknown key (from file c.yaml); did you mean ports?');
  assertBad(() => withFile('c.json', '{"redis": {"url": "x"}}'), 'config key redis: unknown key (from file c.json)');
  assertBad(() => withFile('c.json', '{"ports": 10000}'),
    'config key ports: 10000 is not a mapping of ports.* keys (from file c.json)');
  assertBad(() => withFile('c.json', '{"log.fsync": "always"}'),
    'config key log.fsync: dotted names are not allowed in a file; nest them as log: { fsync: … (from file c.json)');
});

test('bad values: one line naming key, value, what is allowed, and the source', () => {
  const cases: Array<[() => unknown, string]> = [
    // not in enum
    [() => loadConfig({ env: { EVMESH_LOG_FSYNC: 'sometimes' } }),
      'config key log.fsync: "sometimes" is not one of always, interval, never (from EVMESH_LOG_FSYNC)'],
    [() => loadConfig({ flags: { 'log.fsync': 'Always' } }),
      'config key log.fsync: "Always" is not one of always, interval, never (from --fsync)'],
    [() => loadConfig({ flags: { storage: 'rocksdb' } }),
      'config key storage: "rocksdb" is not one of log, memory, kafka (from --storage)'],
    [() => loadConfig({ env: { EVMESH_KAFKA_PREFIX: 'a/b' } }),
      'config key kafka.prefix: "a/b" is not up to 100 of [A-Za-z0-9._-] (may be empty) (from EVMESH_KAFKA_PREFIX)'],
    // wrong type
    [() => withFile('c.yaml', 'ports:\n  tcp: abc\n'),
      'config key ports.tcp: "abc" is not an integer from 0 to 65535 (from file c.yaml)'],
    [() => withFile('c.json', '{"ports": {"tcp": "10000"}}'),
      'config key ports.tcp: "10000" is not an integer from 0 to 65535 (from file c.json)'],
    [() => withFile('c.yaml', 'topics:\n  autoCreate: yes\n'),
      'config key topics.autoCreate: "yes" is not true or false (from file c.yaml)'],
    [() => withFile('c.yaml', 'host: 5\n'), 'config key host: 5 is not a non-empty string (from file c.yaml)'],
    [() => withFile('c.yaml', 'dataDir: [a, b]\n'), 'config key dataDir: ["a","b"] is not a non-empty string (from file c.yaml)'],
    [() => withFile('c.yaml', 'shards: 2.5\n'), 'config key shards: 2.5 is not an integer from 1 to 1024 (from file c.yaml)'],
    [() => withFile('c.yaml', 'log:\n  fsync: null\n'), 'config key log.fsync: null is not one of always, interval, never (from file c.yaml)'],
    [() => loadConfig({ env: { EVMESH_SHARDS: '2x' } }), 'config key shards: "2x" is not an integer from 1 to 1024 (from EVMESH_SHARDS)'],
    [() => loadConfig({ env: { EVMESH_TOPICS_AUTO_CREATE: 'yes' } }),
      'config key topics.autoCreate: "yes" is not true or false (from EVMESH_TOPICS_AUTO_CREATE)'],
    [() => loadConfig({ flags: { host: '' } }), 'config key host: "" is not a non-empty string (from --host)'],
    // out of range
    [() => loadConfig({ flags: { 'ports.tcp': '70000' } }),
      'config key ports.tcp: "70000" is not an integer from 0 to 65535 (from --tcp-port)'],
    [() => loadConfig({ flags: { 'ports.metrics': -1 } }),
      'config key ports.metrics: -1 is not an integer from 0 to 65535 (from --metrics-port)'],
    [() => loadConfig({ flags: { shards: '0' } }), 'config key shards: "0" is not an integer from 1 to 1024 (from --shards)'],
    [() => loadConfig({ env: { EVMESH_LOG_FSYNC_INTERVAL_MS: '0' } }),
      'config key log.fsyncIntervalMs: "0" is not a duration in ms from 1 to 60000 (from EVMESH_LOG_FSYNC_INTERVAL_MS)'],
    [() => loadConfig({ env: { EVMESH_LOG_RETENTION_MS: '-2' } }),
      'config key log.retentionMs: "-2" is not -1 (unlimited) or a duration in ms of at least 0 (from EVMESH_LOG_RETENTION_MS)'],
    [() => withFile('c.yaml', 'log:\n  retentionBytes: -5\n'),
      'config key log.retentionBytes: -5 is not -1 (unlimited) or a size of at least 0 (bytes, or a string like 64KiB) (from file c.yaml)'],
    [() => withFile('c.yaml', 'log:\n  segmentBytes: 1KiB\n'),
      'config key log.segmentBytes: "1KiB" is not a size from 4KiB to 1GiB (bytes, or a string like 64KiB) (from file c.yaml)'],
    [() => loadConfig({ env: { EVMESH_SHARD_RING_BYTES: '100KiB' } }),
      'config key shard.ringBytes: "100KiB" is not a power-of-two size from 4KiB to 1GiB (bytes, or a string like 64KiB) (from EVMESH_SHARD_RING_BYTES)'],
    // bad template
    [() => loadConfig({ env: { EVMESH_DELIVERY_DEAD_LETTER_TOPIC: 'dead-letters' } }),
      'config key delivery.deadLetterTopic: "dead-letters" is not a topic name of [A-Za-z0-9._-] using {topic} and/or {group} (from EVMESH_DELIVERY_DEAD_LETTER_TOPIC)'],
    [() => withFile('c.yaml', 'delivery:\n  deadLetterTopic: "{topic}.{grp}.DLQ"\n'),
      'config key delivery.deadLetterTopic: "{topic}.{grp}.DLQ" is not a topic name of [A-Za-z0-9._-] using {topic} and/or {group} (from file c.yaml)'],
    [() => loadConfig({ flags: { 'delivery.deadLetterTopic': '{topic}/dlq' } }),
      'config key delivery.deadLetterTopic: "{topic}/dlq" is not a topic name of [A-Za-z0-9._-] using {topic} and/or {group} (from override delivery.deadLetterTopic)'],
  ];
  for (const [fn, message] of cases) assertBad(fn, message);
});

test('template: {topic} and/or {group} are accepted', () => {
  for (const t of ['{topic}.DLQ', 'DLQ-{group}', '{group}.{topic}.dead_letter']) {
    assert.equal(loadConfig({ flags: { 'delivery.deadLetterTopic': t } }).delivery.deadLetterTopic, t);
  }
});

test('two listeners on the same non-zero port are rejected; several 0s are fine', () => {
  assertBad(() => loadConfig({ env: { EVMESH_PORTS_HTTP: '10000' } }),
    'config key ports.http: 10000 is already used by ports.tcp; each listener needs its own port (from EVMESH_PORTS_HTTP)');
  const c = loadConfig({ flags: { 'ports.tcp': 0, 'ports.http': 0, 'ports.grpc': 0, 'ports.admin': 0, 'ports.metrics': 0 } });
  assert.deepEqual(Object.values(c.ports), [0, 0, 0, 0, 0]);
});

test('overrides from code take typed values; an unknown override key is an error', () => {
  const c = loadConfig({ flags: { storage: 'memory', shards: 1, 'topics.autoCreate': false, 'log.segmentBytes': 8192 } });
  assert.equal(c.storage, 'memory');
  assert.equal(c.shards, 1);
  assert.equal(c.topics.autoCreate, false);
  assert.equal(c.log.segmentBytes, 8192);
  assertBad(() => loadConfig({ flags: { 'ports.tpc': 1 } as never }),
    'config key ports.tpc: unknown key (from override ports.tpc); did you mean ports.tcp?');
});

test('file syntax errors and unsupported files give one line', () => {
  assertBad(() => withFile('c.yaml', 'ports:\n  tcp: 1\n tcp: 2\n  : :\n'), /^config file c\.yaml: invalid YAML at line \d+, column \d+: /);
  assertBad(() => withFile('c.yaml', 'shards: 1\nshards: 2\n'), 'config file c.yaml: invalid YAML at line 2, column 1: Map keys must be unique');
  assertBad(() => withFile('c.json', '{"shards": 1,}'), /^config file c\.json: invalid JSON: /);
  assertBad(() => withFile('c.toml', 'shards = 1'), 'config file c.toml: unknown extension ".toml"; use .yaml, .yml or .json');
  assertBad(() => withFile('c.yaml', '- a\n- b\n'), 'config file c.yaml: the top level must be a mapping of config keys');
  assertBad(() => withFile('c.json', '"x"'), 'config file c.json: the top level must be a mapping of config keys');
});
