#!/usr/bin/env bash
# Runs the whole test suite: type-checks the tests, brings up the services the suite needs
# (scripts/services.sh, idempotent), then every test/**/*.test.ts through node's test runner.
# Fails when the runner executed no test (node exits 0 on zero files: STACK.md "Tests").
set -euo pipefail
cd "$(dirname "$0")/.."
node node_modules/typescript/bin/tsc -p tsconfig.test.json
bash scripts/services.sh up
files=$(find test -name '*.test.ts' | sort)
[ -n "$files" ] || { echo "no test files found" >&2; exit 1; }
out=$(mktemp)
set +e
# shellcheck disable=SC2086
node --import tsx --test --test-concurrency=2 --test-timeout=120000 $files 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
if grep -qE '^# tests 0$' "$out"; then echo "the test runner executed no test" >&2; exit 1; fi
rm -f "$out"
exit "$status"
