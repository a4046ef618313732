#!/usr/bin/env bash
# The back office with demo data: `make run` calls this once the venv exists.
# Without HEIFY_API_URL it starts the Heify emulator (preloaded with the demo
# account) and talks to it exactly as it would to the real API. It also runs
# the django-q2 worker (scheduled pull, polling, waiting pushes) beside the
# web server, and stops everything it started on Ctrl-C.
#
# The emulator keeps its account in var/heify-emulator.json between runs, so
# what the user did (an archive, a metadata edit) is still there next time, as
# in a real account; `make reset` empties the database, then deletes it (qa/management/commands/reset_demo.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
VAR=${HEIFY_VAR_DIR:-var}
mkdir -p "$VAR"
export DJANGO_DEBUG=${DJANGO_DEBUG:-1}

# One demo per $VAR: the lock on $VAR/run.lock (flock) is held through fd 9, which every process started
# here inherits, so it lasts while any of them runs. `make reset` takes the same lock and refuses meanwhile.
exec 9>>"$VAR/run.lock"
"$PY" - "$$" "$VAR" <<'LOCK' || exit 1
import fcntl, os, sys
pid, var = sys.argv[1:]
try:
    fcntl.flock(9, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    holder = open(os.path.join(var, "run.lock")).read().strip() or f"make run is serving from {var}"
    sys.exit(f"Refused: {holder} ({var}/run.lock is held by it or a process it started). Stop it first.")
os.ftruncate(9, 0)
os.write(9, f"make run (pid {pid}) is serving from {var}".encode())
LOCK

pids=()
# Stop what was started; what is still there after 10 s is killed with its children (django-q2's qcluster has
# been seen to hang in its main process after SIGTERM: make run, and so the lock, would never end).
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || continue
    kill -9 $(descendants "$pid") "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
descendants() {
  command -v pgrep >/dev/null || return 0
  local child; for child in $(pgrep -P "$1"); do descendants "$child"; echo "$child"; done
}
trap cleanup EXIT INT TERM

if [ ! -s "$VAR/webhook-secret" ]; then
  "$PY" -c 'import secrets; print(secrets.token_urlsafe(24))' > "$VAR/webhook-secret"
  chmod 600 "$VAR/webhook-secret"
fi
export HEIFY_WEBHOOK_SECRET=${HEIFY_WEBHOOK_SECRET:-$(cat "$VAR/webhook-secret")}
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://$HOST:$PORT}

if [ -z "${HEIFY_API_URL:-}" ]; then
  EMULATOR_PORT=${EMULATOR_PORT:-8765}
  export HEIFY_API_URL="http://127.0.0.1:$EMULATOR_PORT"
  export HEIFY_API_KEY=${HEIFY_API_KEY:-emulator-key}
  echo "No HEIFY_API_URL: starting the Heify emulator with the demo account at $HEIFY_API_URL"
  "$PY" manage.py heify_emulator --demo --port "$EMULATOR_PORT" --api-key "$HEIFY_API_KEY" --state-file "$VAR/heify-emulator.json" \
    > "$VAR/emulator.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1', $EMULATOR_PORT), 0.2)" 2>/dev/null && break
    sleep 0.2
  done
fi

"$PY" manage.py migrate --noinput
# Our Spanish and English catalogues (locale/*.po), compiled by gettext's msgfmt (Debian package gettext).
"$PY" manage.py compilemessages --ignore=.venv --ignore=staticfiles --ignore="$VAR" --verbosity 0
"$PY" manage.py createcachetable
"$PY" manage.py heify_sync
"$PY" manage.py ensure_admin
"$PY" manage.py qcluster > "$VAR/worker.log" 2>&1 &
pids+=($!)
echo "Back office: http://$HOST:$PORT/admin/  API docs: http://$HOST:$PORT/api/v1/docs/  (worker log: $VAR/worker.log)"
# runserver starts a thread per connection and never closes a finished thread's database connection:
# with persistent connections it would keep one open per connection it ever served.
# It runs in the background like the others, and this shell waits for it: Ctrl-C (SIGINT) then reaches the
# shell's trap at once, which stops runserver as it stops the rest (a foreground runserver seen here ignoring
# SIGINT under load for over a minute kept the shell, and the lock, waiting).
DATABASE_CONN_MAX_AGE=0 "$PY" manage.py runserver "$HOST:$PORT" &
pids+=($!)
wait "$!"
