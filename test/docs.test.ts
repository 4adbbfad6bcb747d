// Docs ↔ code: docs/configuration.md against the config schema, docs/errors.md against the
// error catalog, docs/cli.md against the commander program (DESIGN §5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../src/cli/run.js';
import { loadConfig } from '../src/config/load.js';
import {
  CONFIG_KEYS, describeAllowed, envName, formatDefault, isConfigKey, spec, typeName,
} from '../src/config/schema.js';
import { ERRORS, isErrorCode } from '../src/errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Table rows whose first cell is a code span: first cell (no backticks) → all cells. */
function tableRows(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line.slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
      .split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
    const name = cells[0]!.replace(/`/g, '');
    assert.ok(!rows.has(name), `documented twice: ${name}`);
    rows.set(name, cells);
  }
  return rows;
}

const unquote = (cell: string) => cell.replace(/`/g, '');

test('docs/configuration.md documents every config key exactly as the schema defines it', () => {
  const rows = tableRows(read('docs/configuration.md'));
  const documented = [...rows.keys()];
  const missing = CONFIG_KEYS.filter((k) => !rows.has(k));
  const unknown = documented.filter((k) => !isConfigKey(k));
  assert.deepEqual(missing, [], 'keys in the schema but not in docs/configuration.md');
  assert.deepEqual(unknown, [], 'keys in docs/configuration.md but not in the schema');
  for (const key of CONFIG_KEYS) {
    const [, type, def, allowed, env, flag, description] = rows.get(key)!.map(unquote);
    assert.equal(type, typeName(key), `${key}: type`);
    assert.equal(def, formatDefault(key), `${key}: default`);
    assert.equal(allowed, describeAllowed(key), `${key}: allowed values`);
    assert.equal(env, envName(key), `${key}: env var`);
    assert.equal(flag, spec(key).flag ?? '—', `${key}: flag`);
    assert.equal(description, spec(key).description, `${key}: description`);
  }
});

test('docs/configuration.md: the example YAML file is a valid config', () => {
  const doc = read('docs/configuration.md');
  const m = /```yaml\n([\s\S]*?)```/.exec(doc);
  assert.ok(m, 'an example ```yaml block');
  const config = loadConfig({ file: 'example.yaml', readFile: () => m[1]! });
  assert.equal(config.dataDir, '/var/lib/evmesh');
});

test('docs/errors.md lists every error code with its mappings', () => {
  const rows = tableRows(read('docs/errors.md'));
  const codes = Object.keys(ERRORS);
  assert.deepEqual(codes.filter((c) => !rows.has(c)), [], 'codes in ERRORS but not in docs/errors.md');
  assert.deepEqual([...rows.keys()].filter((c) => !isErrorCode(c)), [], 'codes in docs/errors.md but not in ERRORS');
  for (const [code, e] of Object.entries(ERRORS)) {
    const [, http, retCode, opStatus, grpc, description] = rows.get(code)!;
    assert.equal(Number(http), e.http, `${code}: HTTP status`);
    assert.equal(Number(retCode), e.retCode, `${code}: retCode`);
    assert.equal(Number(opStatus), e.opStatus, `${code}: OPStatus`);
    assert.equal(Number(/^\d+/.exec(grpc!)?.[0]), e.grpc, `${code}: gRPC status`);
    assert.equal(description, e.description, `${code}: description`);
  }
});

test('docs/cli.md documents every option of evmesh start, with its config key', () => {
  const sink = { write: () => true };
  const program = buildProgram({
    startBroker: () => Promise.reject(new Error('unused')), env: {}, stdout: sink, stderr: sink,
    signals: { on: () => undefined, off: () => undefined }, version: '0.0.0',
  }, () => undefined);
  const start = program.commands.find((c) => c.name() === 'start')!;
  const options = start.options.map((o) => o.long!).filter((f) => f !== '--help').sort();

  const rows = tableRows(read('docs/cli.md'));
  const documented = new Map<string, string>();
  for (const [first, cells] of rows) {
    for (const flag of first.match(/--[a-z][a-z0-9-]*/g) ?? []) documented.set(flag, unquote(cells[1]!));
  }
  assert.deepEqual([...documented.keys()].sort(), options, 'docs/cli.md flags vs `evmesh start` options');
  for (const key of CONFIG_KEYS) {
    const flag = spec(key).flag;
    if (flag) assert.equal(documented.get(flag), key, `${flag} sets ${key}`);
  }
  assert.equal(documented.get('--config'), '—');
});
