#!/usr/bin/env node
// Builds evmesh: the TypeScript (tsc → dist/), the native addon (node-gyp → native/build/) and
// node-rdkafka's binding (its own install script is denied in package.json allowScripts because
// it would let node-gyp download headers; here it builds against the running node's headers).
// Runs from `npm ci` (prepare), `npm test` and `npm run bench`. The addon is built against the
// running node's own headers and never downloads anything; if it fails to build, evmesh still
// runs on its TypeScript fallbacks (src/native.ts) and this script says so.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsOnly = process.argv.includes('--ts-only');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  return r.status === 0;
}

if (!run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'])) {
  console.error('evmesh build: TypeScript compilation failed');
  process.exit(1);
}

const addon = join(root, 'native/build/Release/evmesh_native.node');
if (!tsOnly || !existsSync(addon)) {
  const nodedir = process.env.npm_config_nodedir || dirname(dirname(process.execPath));
  const gyp = join(root, 'node_modules/node-gyp/bin/node-gyp.js');
  const ok = existsSync(join(root, 'native/binding.gyp')) &&
    run(process.execPath, [gyp, 'rebuild', '--nodedir', nodedir, '--directory', 'native', '--jobs', '2', '--loglevel', 'warn'], {
      env: { ...process.env, npm_config_nodedir: nodedir },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  if (!ok) console.error('evmesh build: native addon not built; the TypeScript fallbacks will be used');
}

// node-rdkafka compiles its bundled librdkafka (~2 min on 2 cores), once per install.
const rdkafkaDir = join(root, 'node_modules/node-rdkafka');
const rdkafka = join(rdkafkaDir, 'build/Release/node-librdkafka.node');
if (existsSync(rdkafkaDir) && !existsSync(rdkafka)) {
  const nodedir = process.env.npm_config_nodedir || dirname(dirname(process.execPath));
  const gyp = join(root, 'node_modules/node-gyp/bin/node-gyp.js');
  // librdkafka's ./configure runs as a gyp action that races the compile under --jobs 2 ("No
  // rule to make target ../deps/librdkafka/config.h"); running it first makes the build ordered.
  const ok = run(process.execPath, ['util/configure.js'], { cwd: rdkafkaDir, stdio: ['ignore', 'ignore', 'inherit'] }) &&
    run(process.execPath, [gyp, 'rebuild', '--nodedir', nodedir, '--jobs', '2', '--loglevel', 'warn'], {
    cwd: rdkafkaDir,
    env: { ...process.env, npm_config_nodedir: nodedir },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (!ok) {
    console.error('evmesh build: node-rdkafka failed to build; storage "kafka" is unavailable');
    process.exit(1);
  }
}
