# Shared helpers for deploy/local/*.sh. Sourced, not run.
# shellcheck shell=bash

# Repo root = two levels above this file; lets the scripts run from any cwd.
LOCAL_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LOCAL_SCRIPTS_DIR/../.." && pwd)"
# Everything the local infra writes lives here (git-ignored via .local/).
DATARUN_LOCAL_DIR="${DATARUN_LOCAL_DIR:-$REPO_ROOT/.local}"

die() {
  echo "$*" >&2
  exit 1
}

# port_open HOST PORT: true when a TCP connect succeeds within 1 s.
# Uses bash's /dev/tcp so it needs no nc/ss; the subshell closes the socket.
port_open() {
  timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# pid_alive PID PATTERN: true when PID exists and its command line contains
# PATTERN. The pattern check guards against a recycled pid: we must never
# signal a process we did not start.
pid_alive() {
  local pid="$1" pattern="$2" cmdline
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$pattern"* ]]
}
