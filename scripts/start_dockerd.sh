#!/usr/bin/env bash
# Start dockerd in the background unless a daemon already answers; print its pid on stdout.
#
#   scripts/start_dockerd.sh            # -> "12345" on stdout, "dockerd started ..." on stderr
#
# Idempotent: when the socket already answers, it prints the running daemon's pid (from the
# pid file; empty when the daemon is not ours to know, e.g. a system service without one)
# and says "dockerd already running" on stderr. Callers that want to stop only a daemon they
# started compare that line (the test fixture does).
#
# Flags fit a container or CI machine without systemd and without iptables:
# --iptables=false --bridge=none (containers get network_mode=none anyway).
# Environment: TERMCORPUS_DOCKERD_SOCK (default /var/run/docker.sock),
# TERMCORPUS_DOCKERD_LOG (default /var/log/termcorpus-dockerd.log),
# TERMCORPUS_DOCKERD_PIDFILE (default /var/run/termcorpus-dockerd.pid),
# TERMCORPUS_DOCKERD_WAIT_SEC (default 30).
set -euo pipefail

SOCK="${TERMCORPUS_DOCKERD_SOCK:-/var/run/docker.sock}"
LOG="${TERMCORPUS_DOCKERD_LOG:-/var/log/termcorpus-dockerd.log}"
PIDFILE="${TERMCORPUS_DOCKERD_PIDFILE:-/var/run/termcorpus-dockerd.pid}"
WAIT_SEC="${TERMCORPUS_DOCKERD_WAIT_SEC:-30}"

answers() {
    # The daemon's /_ping over the unix socket; curl is not always installed, python3 is.
    [ -S "$SOCK" ] || return 1
    python3 - "$SOCK" <<'EOF' >/dev/null 2>&1
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.exit(0 if data.startswith(b"HTTP/1.") and b" 200 " in data.split(b"\r\n", 1)[0] + b" " else 1)
EOF
}

if answers; then
    pid=""
    [ -f "$PIDFILE" ] && pid="$(cat "$PIDFILE")"
    echo "dockerd already running${pid:+ (pid $pid)} at $SOCK" >&2
    echo "$pid"
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
    echo "dockerd not found: apt-get update && apt-get install -y docker.io" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "dockerd is not running at $SOCK and only root can start it" >&2
    exit 1
fi

# A pid file left by a daemon that died makes dockerd refuse to start.
if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    rm -f "$PIDFILE"
fi

# setsid + nohup: the daemon must not die with the shell or the test that started it.
# dockerd writes its own pid file: `$!` may be a wrapper's pid, not the daemon's.
setsid nohup dockerd --host "unix://$SOCK" --pidfile "$PIDFILE" \
    --iptables=false --ip-masq=false --bridge=none \
    >>"$LOG" 2>&1 </dev/null &

deadline=$((SECONDS + WAIT_SEC))
until answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "dockerd did not answer at $SOCK within ${WAIT_SEC}s; see $LOG" >&2
        tail -n 5 "$LOG" >&2 || true
        exit 1
    fi
    sleep 0.2
done
pid="$(cat "$PIDFILE")"
echo "dockerd started (pid $pid) at $SOCK; log $LOG" >&2
echo "$pid"
