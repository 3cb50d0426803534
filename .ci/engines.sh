#!/usr/bin/env bash
# The real engines the slow tests run generated projects on: a Docker daemon (Debian's
# docker.io, its data in a scratch folder) and a Debian root file system from which
# tests/engines.py makes the base images the generated Dockerfiles name (no image can be
# pulled here); Debian's docker-registry and htpasswd, which the tests start per test for
# the release jobs, and rsync, which gitlab-ci-local copies with. (act, Node for
# gitlab-ci-local, and SeaweedFS come from the package index with the checkers group.)
# Sourced by ./dev:
#
#   engines_up     install what is missing (as root, from Debian's packages), start the
#                  daemon, build the root file system once; exports DOCKER_HOST,
#                  MLOPS_LADDER_DOCKER and MLOPS_LADDER_ROOTFS
#   engines_down   stop the daemon this shell started and remove its scratch folder
#
# Without root and without the packages, engines_up says why and returns 1: the tests that
# need an engine then skip, naming the reason, unless CI=true, where they fail.

ENGINES_PACKAGES=(docker.io mmdebstrap rsync docker-registry apache2-utils iproute2)
# What the base images need: the shared libraries a CPython links (python3 brings them),
# CA certificates, and groupadd for the images' unprivileged user.
ENGINES_ROOTFS_INCLUDE=python3,ca-certificates,passwd
ENGINES_CACHE=${MLOPS_LADDER_ENGINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-ladder-engines}
# The daemon's containers sit on a bridge of its own, not docker0. A daemon that dies with
# its shell leaves its containers' network namespaces on its bridge; the next daemon hands
# their addresses (and MAC addresses, made from them) out again, and the host's packets to
# a published port go to the dead container: "connection reset", "empty reply".
ENGINES_BRIDGE=mlops-ladder0
ENGINES_BRIDGE_ADDRESS=172.29.0.1/16

_engines_log() { echo "engines: $*" >&2; }

_engines_install() {
  local missing=()
  command -v /usr/bin/docker >/dev/null 2>&1 || missing+=(docker.io)
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
  command -v rsync >/dev/null 2>&1 || missing+=(rsync)  # gitlab-ci-local copies with it
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)  # release pushes
  command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)  # the daemon's bridge
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    _engines_log "needs ${ENGINES_PACKAGES[*]} from Debian's packages (root and apt-get)"
    return 1
  fi
  _engines_log "installing ${ENGINES_PACKAGES[*]} (once)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${ENGINES_PACKAGES[@]}" >/dev/null
}

_engines_rootfs() {
  # Keyed by what goes in; kept between runs (about 20 s to make, 150 MB).
  local tar="$ENGINES_CACHE/rootfs-bookworm-${ENGINES_ROOTFS_INCLUDE//,/-}.tar"
  if [ ! -s "$tar" ]; then
    _engines_log "building a Debian root file system with mmdebstrap (once)"
    mkdir -p "$ENGINES_CACHE"
    mmdebstrap --quiet --format=tar --variant=minbase --include="$ENGINES_ROOTFS_INCLUDE" bookworm "$tar.part" \
      && mv "$tar.part" "$tar" || { rm -rf "$tar.part"; return 1; }
  fi
  export MLOPS_LADDER_ROOTFS=$tar
}

_engines_bridge_down() {
  # Deleting a veth deletes its pair: what a dead daemon left goes with the bridge.
  local port
  for port in $(ip -o link show master "$ENGINES_BRIDGE" 2>/dev/null | awk -F': ' '{ print $2 }'); do
    ip link delete "${port%@*}" 2>/dev/null
  done
  ip link delete "$ENGINES_BRIDGE" 2>/dev/null || true
}

_engines_bridge_up() {
  local running
  if running=$(pgrep -f "dockerd --bridge $ENGINES_BRIDGE "); then
    # Its containers are on the bridge: taking it down would cut them off.
    _engines_log "another test daemon runs on $ENGINES_BRIDGE (pid $running): stop it first"
    return 1
  fi
  _engines_bridge_down
  ip link add "$ENGINES_BRIDGE" type bridge \
    && ip addr add "$ENGINES_BRIDGE_ADDRESS" dev "$ENGINES_BRIDGE" \
    && ip link set "$ENGINES_BRIDGE" up \
    || { _engines_log "could not make the bridge $ENGINES_BRIDGE"; return 1; }
}

engines_up() {
  if [ -n "${MLOPS_LADDER_DOCKER:-}" ] && "$MLOPS_LADDER_DOCKER" info >/dev/null 2>&1; then
    return 0  # a caller's daemon (./dev inside .ci/run, say): use it
  fi
  _engines_install || return 1
  _engines_bridge_up || return 1
  ENGINES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mlops-ladder-engines.XXXXXX")
  # A short socket path: unix sockets have a 108-byte limit.
  dockerd --bridge "$ENGINES_BRIDGE" --data-root "$ENGINES_DIR/data" --exec-root "$ENGINES_DIR/exec" \
    --pidfile "$ENGINES_DIR/dockerd.pid" -H "unix://$ENGINES_DIR/docker.sock" \
    >"$ENGINES_DIR/dockerd.log" 2>&1 &
  ENGINES_DOCKERD_PID=$!
  export DOCKER_HOST="unix://$ENGINES_DIR/docker.sock" DOCKER_BUILDKIT=1
  # Debian's client (20.10, BuildKit built in); another docker first on the PATH may lack buildx.
  export MLOPS_LADDER_DOCKER=/usr/bin/docker
  local _
  for _ in $(seq 60); do
    "$MLOPS_LADDER_DOCKER" info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! "$MLOPS_LADDER_DOCKER" info >/dev/null 2>&1; then
    _engines_log "dockerd did not start; its log:"
    tail -20 "$ENGINES_DIR/dockerd.log" >&2
    engines_down
    return 1
  fi
  _engines_rootfs || { engines_down; return 1; }
  _engines_log "dockerd up ($DOCKER_HOST), base root file system $MLOPS_LADDER_ROOTFS"
}

engines_down() {
  if [ -n "${ENGINES_DOCKERD_PID:-}" ]; then
    # Containers the tests left behind, removed by the daemon (which frees their network
    # namespaces) before it stops.
    "$MLOPS_LADDER_DOCKER" ps --all --quiet 2>/dev/null | xargs -r "$MLOPS_LADDER_DOCKER" rm --force >/dev/null 2>&1
    kill "$ENGINES_DOCKERD_PID" 2>/dev/null && wait "$ENGINES_DOCKERD_PID" 2>/dev/null
    ENGINES_DOCKERD_PID=
    _engines_bridge_down
  fi
  if [ -n "${ENGINES_DIR:-}" ]; then
    # A daemon that died uncleanly leaves mounts (overlays, its network namespace) behind.
    awk -v dir="$ENGINES_DIR" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r \
      | xargs -r umount --lazy 2>/dev/null
    rm -rf "$ENGINES_DIR" 2>/dev/null || _engines_log "left $ENGINES_DIR behind"
    ENGINES_DIR=
  fi
}
