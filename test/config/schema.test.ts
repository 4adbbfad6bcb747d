import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coerceValue, loadConfig } from '../../src/config/load.js';
import {
  CONFIG_FILE_ENV, CONFIG_KEYS, defaultValue, describeAllowed, envName, formatDefault, formatSize, spec, type ConfigKey,
} from '../../src/config/schema.js';

/** A valid value for `key` that differs from its default, as an env string. */
function sample(key: ConfigKey): string {
  const s = spec(key);
  const d = defaultValue(key);
  switch (s.kind) {
    case 'enum': return s.values!.find((v) => v !== d)!;
    case 'boolean': return String(!d);
    case 'string': return `${String(d)}-x`;
    case 'template': return '{topic}.dead';
    case 'integer': case 'duration': case 'size': {
      if (s.powerOfTwo) return String((d as number) * 2);
      const n = (d as number) === s.min ? (d as number) + 1 : s.min ?? 1;
      return n === d ? String(n + 1) : String(n);
    }
  }
}

function getPath(obj: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, seg) => (o as Record<string, unknown>)[seg], obj);
}

test('env names: EVMESH_ + SCREAMING_SNAKE path, unique, never EVMESH_CONFIG', () => {
  assert.equal(envName('log.fsyncIntervalMs'), 'EVMESH_LOG_FSYNC_INTERVAL_MS');
  assert.equal(envName('ports.tcp'), 'EVMESH_PORTS_TCP');
  assert.equal(envName('dataDir'), 'EVMESH_DATA_DIR');
  assert.equal(envName('delivery.deadLetterTopic'), 'EVMESH_DELIVERY_DEAD_LETTER_TOPIC');
  const names = CONFIG_KEYS.map(envName);
  assert.equal(new Set(names).size, names.length);
  assert.ok(!names.includes(CONFIG_FILE_ENV));
  for (const n of names) assert.match(n, /^EVMESH_[A-Z0-9_]+$/);
});

test('no key is also a group (log.fsync and log cannot both be keys)', () => {
  for (const k of CONFIG_KEYS) for (const other of CONFIG_KEYS) assert.ok(!other.startsWith(`${k}.`), `${k} vs ${other}`);
});

test('flags are unique and well-formed', () => {
  const flags = CONFIG_KEYS.flatMap((k) => spec(k).flag ?? []);
  assert.equal(new Set(flags).size, flags.length);
  for (const f of flags) assert.match(f, /^--[a-z][a-z0-9-]*$/);
  assert.deepEqual([...flags].sort(), [
    '--admin-port', '--data-dir', '--fsync', '--grpc-port', '--host', '--http-port', '--kafka-brokers', '--log-level',
    '--metrics-port', '--shards', '--storage', '--tcp-port',
  ]);
});

test('every default passes its own validation', () => {
  for (const k of CONFIG_KEYS) assert.deepEqual(coerceValue(k, defaultValue(k), 'default', false), defaultValue(k), k);
});

test('every key can be set through its env var and through a flag/override', () => {
  for (const k of CONFIG_KEYS) {
    const text = sample(k);
    const expected = coerceValue(k, text, 'test', true);
    assert.notDeepEqual(expected, defaultValue(k), `${k}: sample differs from default`);
    assert.deepEqual(getPath(loadConfig({ env: { [envName(k)]: text } }), k), expected, `${k} via ${envName(k)}`);
    assert.deepEqual(getPath(loadConfig({ flags: { [k]: text } }), k), expected, `${k} via override`);
  }
});

test('docs helpers: sizes, defaults and allowed values render readably', () => {
  assert.equal(formatSize(4194304), '4MiB');
  assert.equal(formatSize(1536), '1536');
  assert.equal(formatSize(1024 ** 3), '1GiB');
  assert.equal(formatDefault('log.segmentBytes'), '134217728 (128MiB)');
  assert.equal(formatDefault('shards'), 'number of CPUs');
  assert.equal(formatDefault('log.retentionBytes'), '-1 (unlimited)');
  assert.equal(formatDefault('log.retentionMs'), '604800000 (7d)');
  assert.equal(formatDefault('log.fsyncIntervalMs'), '5');
  assert.equal(describeAllowed('ports.tcp'), 'an integer from 0 to 65535');
  assert.equal(describeAllowed('log.fsync'), 'one of always, interval, never');
});
