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
# Clients the URL-parameter tests compare against (tests/urlparams.rs).
command -v psql >/dev/null 2>&1 || want+=(postgresql-client)
command -v mariadb >/dev/null 2>&1 || want+=(mariadb-client)
for extra in "$@"; do
  case "$extra" in
    hyperfine) command -v hyperfine >/dev/null 2>&1 || want+=(hyperfine) ;;
    time) [ -x /usr/bin/time ] || want+=(time) ;;
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
