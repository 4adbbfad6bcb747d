#!/usr/bin/env bash
# Installs and starts the services the tests and benchmarks need, on 127.0.0.1, idempotently.
#   scripts/services.sh up [NAME…]     (no NAME: the set the default test suite needs)
#   scripts/services.sh down [NAME…]
# Services: kafka (a real single-node KRaft broker, scripts/kafka/; prints its bootstrap address
# when ready), kcat (Debian). Later: redis, wrk, promtool.
set -euo pipefail
cmd=${1:-up}; shift || true
case "$cmd" in
  up|down) ;;
  *) echo "usage: $0 up|down [NAME…]" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
# The default set: what `npm test` needs.
[ $# -gt 0 ] || set -- kcat kafka
for name in "$@"; do
  case "$name" in
    kafka) bash "$here/kafka/broker.sh" "$cmd" ;;
    kcat)
      if [ "$cmd" = up ] && ! command -v kcat >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq kcat >/dev/null
      fi ;;
    *) echo "services.sh: unknown service '$name'" >&2; exit 2 ;;
  esac
done
