#!/usr/bin/env bash
# Installs and starts the services the tests and benchmarks need, on 127.0.0.1, idempotently.
#   scripts/services.sh up [NAME…]     (no NAME: the set the default test suite needs)
#   scripts/services.sh down [NAME…]
# Services so far: none needed by the embedded-defaults suite; wrk (HTTP load generator for the
# bench ceilings, a Debian package; 'down' leaves it installed). Later: kafka, redis, kcat, promtool.
set -euo pipefail
cmd=${1:-up}; shift || true
case "$cmd" in
  up|down) ;;
  *) echo "usage: $0 up|down [NAME…]" >&2; exit 2 ;;
esac
for name in "$@"; do
  case "$name" in
    wrk)
      if [ "$cmd" = up ] && ! command -v wrk >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get -o DPkg::Lock::Timeout=600 update -qq
        apt-get -o DPkg::Lock::Timeout=600 install -y -qq wrk >/dev/null
      fi ;;
    *) echo "services.sh: unknown service '$name'" >&2; exit 2 ;;
  esac
done
