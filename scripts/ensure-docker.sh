#!/usr/bin/env bash
# Make sure a Docker engine answers: install docker.io when the client or daemon is
# missing, start dockerd in the background when no engine runs, wait until it answers.
set -euo pipefail

log() { printf 'ensure-docker: %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: /var/log/dockerd.log)"
  # In a session of its own: stopping the job that started it must not stop the engine
  # that other jobs' containers run on.
  setsid nohup dockerd >>/var/log/dockerd.log 2>&1 </dev/null &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "engine is up"
    exit 0
  fi
  sleep 1
done

log "no Docker engine answered after 60 s; see /var/log/dockerd.log"
exit 1
