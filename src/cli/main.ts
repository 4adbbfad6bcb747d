#!/usr/bin/env node
// The `evmesh` executable (package.json bin: dist/src/cli/main.js). All logic is in run.ts.
import { processDeps, runCli } from './run.js';

process.exit(await runCli(process.argv.slice(2), processDeps()));
