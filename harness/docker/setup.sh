#!/usr/bin/env bash
# Makes a Docker engine available for faultline's Docker mode (CI and fresh machines).
#
#   bash harness/docker/setup.sh          # install docker.io if missing, start dockerd, wait
#
# Idempotent: a daemon that already answers is left alone. Needs root (apt-get, dockerd).
# Storage driver: overlay2 is tried first (it works on this machine's ext4 root and makes a
# container create take ~0.1 s); where the kernel or filesystem refuses it, the daemon is
# restarted with vfs, which works everywhere but copies the whole image on every container
# create (~10 s for a 200 MB image on a loaded 2-core machine). FAULTLINE_DOCKER_STORAGE_DRIVER
# forces one. Bridge networking with iptables works here (checked: published ports on
# 127.0.0.1, user-defined networks with embedded DNS, network connect/disconnect); set
# FAULTLINE_DOCKERD_FLAGS="--iptables=false" on a host where it does not.
set -euo pipefail

LOG="${FAULTLINE_DOCKERD_LOG:-/var/log/faultline-dockerd.log}"
SOCK="${FAULTLINE_DOCKER_SOCKET:-/var/run/docker.sock}"
WAIT_S="${FAULTLINE_DOCKERD_WAIT_S:-60}"

ping_daemon() {
  # curl is on every Debian image we target; the Docker CLI may be a different version than the
  # daemon, so the raw API ping is the most reliable "is it up" check.
  curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1
}

# docker-compose (v1, Debian's) only checks and brings up docker-compose.yml in the tests;
# faultline itself talks to the engine API through dockerode.
missing=""
command -v dockerd >/dev/null 2>&1 || missing="docker.io"
command -v docker-compose >/dev/null 2>&1 || missing="$missing docker-compose"
# HAProxy balances the reference target's API replicas (target.replicas above 1); Debian's
# package, as on the CI host.
command -v haproxy >/dev/null 2>&1 || missing="$missing haproxy"
if [ -n "$missing" ]; then
  echo "docker-setup: installing Debian's$missing"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086 # $missing is a list of package names
  apt-get update -qq && apt-get install -y -qq $missing >/dev/null
fi

if ping_daemon; then
  echo "docker-setup: daemon already answering on $SOCK"
  exit 0
fi

start_dockerd() {
  echo "docker-setup: starting dockerd (storage driver $1), log in $LOG"
  # shellcheck disable=SC2086 # FAULTLINE_DOCKERD_FLAGS is a list of flags on purpose
  nohup dockerd --storage-driver="$1" ${FAULTLINE_DOCKERD_FLAGS:-} >"$LOG" 2>&1 &
  echo $! >/var/run/faultline-dockerd.pid
}

# Waits until the daemon answers (0) or its process is gone / the wait is over (1).
wait_dockerd() {
  local pid
  pid="$(cat /var/run/faultline-dockerd.pid 2>/dev/null || echo 0)"
  for _ in $(seq 1 "$((WAIT_S * 2))"); do
    if ping_daemon; then return 0; fi
    if [ "$pid" != 0 ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.5
  done
  return 1
}

if pgrep -x dockerd >/dev/null 2>&1; then
  echo "docker-setup: a dockerd is running but not answering yet; waiting"
  echo 0 >/var/run/faultline-dockerd.pid
  if wait_dockerd; then echo "docker-setup: daemon ready"; exit 0; fi
else
  driver="${FAULTLINE_DOCKER_STORAGE_DRIVER:-overlay2}"
  start_dockerd "$driver"
  if wait_dockerd; then echo "docker-setup: daemon ready ($driver)"; exit 0; fi
  if [ -z "${FAULTLINE_DOCKER_STORAGE_DRIVER:-}" ]; then
    echo "docker-setup: overlay2 did not come up; last lines of $LOG:" >&2
    tail -n 5 "$LOG" >&2 || true
    kill "$(cat /var/run/faultline-dockerd.pid)" 2>/dev/null || true
    sleep 2
    start_dockerd vfs
    if wait_dockerd; then echo "docker-setup: daemon ready (vfs)"; exit 0; fi
  fi
fi

echo "docker-setup: dockerd did not answer within ${WAIT_S}s; last lines of $LOG:" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
