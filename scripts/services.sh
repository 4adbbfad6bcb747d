#!/usr/bin/env bash
# Installs and starts the services the tests and benchmarks need, on 127.0.0.1, idempotently.
#   scripts/services.sh up [NAME…]     (no NAME: the set the default test suite needs)
#   scripts/services.sh down [NAME…]
# Services: promtool, wrk (Debian packages), kafka (a real single-node KRaft broker, scripts/kafka/;
# prints its bootstrap address when ready), kcat (Debian). Later: redis.
set -euo pipefail
cmd=${1:-up}; shift || true
case "$cmd" in
  up|down) ;;
  *) echo "usage: $0 up|down [NAME…]" >&2; exit 2 ;;
esac
apt_install() { # apt_install PACKAGE… (other engineers may hold the dpkg lock: wait for it)
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@" >/dev/null \
    || { apt-get -o DPkg::Lock::Timeout=600 update >/dev/null && apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@" >/dev/null; }
}
here=$(cd "$(dirname "$0")" && pwd)
# The default suite's set (scripts/test.sh calls `up` with no NAME).
[ $# -gt 0 ] || set -- promtool wrk kcat kafka
for name in "$@"; do
  case "$name" in
    promtool) # `promtool check metrics` (test/metrics): Debian's prometheus package
      if [ "$cmd" = up ] && ! command -v promtool >/dev/null; then apt_install prometheus; fi ;;
    wrk) # HTTP load generator for bench ceilings (bench/lib/http-load.ts; STACK.md)
      if [ "$cmd" = up ] && ! command -v wrk >/dev/null; then apt_install wrk; fi ;;
    kafka) bash "$here/kafka/broker.sh" "$cmd" ;;
    kcat) # Kafka-native interop tests (test/storage/kafka*)
      if [ "$cmd" = up ] && ! command -v kcat >/dev/null; then apt_install kcat; fi ;;
    *) echo "services.sh: unknown service '$name'" >&2; exit 2 ;;
  esac
done
