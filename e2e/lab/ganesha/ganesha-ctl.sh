#!/bin/bash
# Fault injection on the ganesha of this work dir (started by ganesha-up.sh), for e2e tests:
#   stop     SIGSTOP: a frozen server whose TCP connections stay up
#   cont     SIGCONT: resume it
#   kill     SIGKILL: a crash; returns once the port is closed
#   restart  graceful stop if running (also after stop), then ganesha-up.sh; after kill, a start
#   status   prints state=running|stopped|down and the pid
# Prints one line; exit 1 if there is no running ganesha for stop, cont or kill.
# Env: CSI_E2E_WORK, CSI_E2E_NFS_PORT, CSI_E2E_EXPORT_DIR (as for ganesha-up.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(realpath -m "${CSI_E2E_WORK:-/var/tmp/csi-driver-e2e}")
PORT=${CSI_E2E_NFS_PORT:-12049}
PIDFILE=$WORK/ganesha/ganesha.pid
state() {  # R/S/D/T... of the pid, empty when it is gone or a zombie
  local s; s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [ "$s" = Z ] || [ "$(cat "/proc/$1/comm" 2>/dev/null)" != ganesha.nfsd ] || echo "$s"
}
PID=$(cat "$PIDFILE" 2>/dev/null || true)
[ -n "$PID" ] && [ -n "$(state "$PID")" ] || PID=
need() { [ -n "$PID" ] || { echo "ganesha-ctl: no running ganesha for $WORK" >&2; exit 1; }; }
wait_for() {  # TRIES CMD...: poll every 0.05 s
  local n=$1; shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done
  return 1
}
case ${1:-} in
  stop)
    need; kill -STOP "$PID"
    wait_for 40 sh -c "[ \"\$(awk '{print \$3}' /proc/$PID/stat)\" = T ]" || true
    echo "ganesha $PID stopped (SIGSTOP)";;
  cont)
    need; kill -CONT "$PID"; echo "ganesha $PID continued (SIGCONT)";;
  kill)
    need; kill -KILL "$PID"
    wait_for 100 sh -c "[ -z \"\$(ss -Hltn 'sport = :$PORT')\" ]" || true
    echo "ganesha $PID killed (SIGKILL)";;
  restart)
    [ -z "$PID" ] || "$HERE/ganesha-down.sh" >/dev/null
    "$HERE/ganesha-up.sh";;
  status)
    if [ -z "$PID" ]; then echo "state=down"
    elif [ "$(state "$PID")" = T ]; then echo "state=stopped pid=$PID"
    else echo "state=running pid=$PID"; fi;;
  *) echo "usage: $0 stop|cont|kill|restart|status" >&2; exit 2;;
esac
