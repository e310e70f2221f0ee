#!/usr/bin/env bash
# Installs the system packages tlsprobe's tests and benchmarks need, when missing.
# Usage: scripts/install-deps.sh [extra-package ...]
set -euo pipefail

want=()
command -v redis-server >/dev/null 2>&1 || want+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || want+=(redis-tools)
command -v openssl >/dev/null 2>&1 || want+=(openssl)
[ -f /etc/ssl/certs/ca-certificates.crt ] || want+=(ca-certificates)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want+=(postgresql)
command -v mariadbd >/dev/null 2>&1 || want+=(mariadb-server)
# tlsprobe exporter: tests scrape it with a real Prometheus server and check its output
# and the example alert rules with promtool (in the prometheus package).
command -v prometheus >/dev/null 2>&1 || want+=(prometheus)
command -v promtool >/dev/null 2>&1 || want+=(prometheus)
# tests/html.rs renders the HTML report; tests/packaging.rs runs man -l and script(1).
[ -x /usr/bin/chromium ] || want+=(chromium)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || want+=(fonts-dejavu-core)
command -v man >/dev/null 2>&1 || want+=(man-db)
command -v script >/dev/null 2>&1 || want+=(bsdutils)
# Clients the URL-parameter tests compare against (tests/urlparams.rs).
command -v psql >/dev/null 2>&1 || want+=(postgresql-client)
command -v mariadb >/dev/null 2>&1 || want+=(mariadb-client)
for extra in "$@"; do
  case "$extra" in
    hyperfine) command -v hyperfine >/dev/null 2>&1 || want+=(hyperfine) ;;
    time) [ -x /usr/bin/time ] || want+=(time) ;;
    # The exporter benchmark's baseline (scripts/bench.sh).
    prometheus-blackbox-exporter) command -v prometheus-blackbox-exporter >/dev/null 2>&1 || want+=(prometheus-blackbox-exporter) ;;
    *) want+=("$extra") ;;
  esac
done

if [ ${#want[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing: ${want[*]}" >&2
  $sudo apt-get update -qq
  # Installing redis-server must not start a system-wide instance on port 6379.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi
