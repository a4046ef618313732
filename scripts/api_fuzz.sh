#!/usr/bin/env bash
# API fuzzing: schemathesis against the generated OpenAPI schema (/api/v1/schema/)
# on a live server with seeded data. CI runs it after the PostgreSQL tests.
#
#   bash scripts/api_fuzz.sh              # a throw-away SQLite database under a temp dir
#   bash scripts/api_fuzz.sh --postgres   # a throw-away PostgreSQL database, dropped afterwards
#                                         # (server: FUZZ_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432)
#
# It seeds the database with the demo account (heify_demo -> heify_load), starts
# the Heify emulator preloaded with the very same account (so writes pushed to
# Heify get real answers) and the app (`runserver --noreload`), both on free
# loopback ports, then runs schemathesis with a superuser's token, bounded by
# FUZZ_MAX_EXAMPLES per operation and FUZZ_TIME_LIMIT seconds in all. It prints
# `schemathesis: N requests` (counted in the app's request log) and exits
# non-zero on any failure. Everything it started is stopped, everything it made
# is removed.
#
# Knobs: FUZZ_MAX_EXAMPLES (25), FUZZ_TIME_LIMIT (600), FUZZ_TRANSCRIPTIONS (300),
# FUZZ_SEED (random; schemathesis prints the seed it used), FUZZ_CHECKS,
# FUZZ_KEEP=1 keeps the temp dir (logs, reports) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
SCHEMATHESIS=.venv/bin/schemathesis
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-25}
TIME_LIMIT=${FUZZ_TIME_LIMIT:-600}
TRANSCRIPTIONS=${FUZZ_TRANSCRIPTIONS:-300}
CHECKS=${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}
API_KEY=fuzz-emulator-key

database=sqlite
case "${1:-}" in
  "") ;;
  --postgres) database=postgres ;;
  *) echo "usage: $0 [--postgres]" >&2; exit 2 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/heify-fuzz.XXXXXX")
pids=()
pg_db=""
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$pg_db" ]; then
    "$PY" - "$pg_db" <<'EOF' || echo "could not drop the database $pg_db" >&2
import os, sys
import psycopg
base = os.environ.get("FUZZ_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{sys.argv[1]}" WITH (FORCE)')
EOF
  fi
  if [ "${FUZZ_KEEP:-}" = 1 ]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for URL PID LOG: until URL answers (any HTTP status), or fail if PID died or 60 s passed.
wait_for() {
  local url=$1 pid=$2 log=$3
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "the process behind $url died:" >&2
      tail -n 40 "$log" >&2
      return 1
    fi
    if "$PY" - "$url" <<'EOF' 2>/dev/null; then
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass  # it answered
EOF
      return 0
    fi
    sleep 0.2
  done
  echo "$url did not answer within 60 s" >&2
  tail -n 40 "$log" >&2
  return 1
}

# --- the database ---------------------------------------------------------------------------------
export HEIFY_VAR_DIR="$work/var"
if [ "$database" = postgres ]; then
  pg_db="heify_fuzz_$$"
  base=${FUZZ_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
  "$PY" - "$pg_db" <<'EOF'
import os, sys
import psycopg
base = os.environ.get("FUZZ_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
    conn.execute(f'CREATE DATABASE "{sys.argv[1]}"')
EOF
  export DATABASE_URL="${base%/}/$pg_db"
else
  export DATABASE_URL="sqlite:///$work/db.sqlite3"  # an absolute path: sqlite:////tmp/...
fi
echo "== database: ${DATABASE_URL}"
export DJANGO_LOG_LEVEL=INFO
# Production settings (DEBUG off) refuse to start without a real secret key: a throw-away one.
DJANGO_SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
export DJANGO_SECRET_KEY
"$PY" manage.py migrate --noinput >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }
# DEBUG off serves static files through WhiteNoise's manifest, as production does after `release`:
# without it any page that names a static file (the admin's, a redirect's target) would answer 500.
export DJANGO_STATIC_ROOT="$work/static"
"$PY" manage.py collectstatic --noinput >"$work/collectstatic.log" 2>&1 || { cat "$work/collectstatic.log" >&2; exit 1; }
"$PY" manage.py createcachetable
# One demo account, loaded here and into the emulator, so both sides hold the same objects and versions.
"$PY" manage.py heify_demo --transcriptions "$TRANSCRIPTIONS" --out "$work/demo.json"
"$PY" manage.py heify_load "$work/demo.json"
token=$("$PY" manage.py shell -c '
from django.contrib.auth.models import User
from knox.models import AuthToken
user = User.objects.create_superuser("fuzz", "fuzz@example.invalid", None)
print(AuthToken.objects.create(user=user)[1])
' | tail -n 1)
[ "${#token}" -eq 64 ] || { echo "no API token: $token" >&2; exit 1; }

# --- the Heify emulator and the app ------------------------------------------------------------------
heify_port=$(free_port)
"$PY" manage.py heify_emulator --fixture "$work/demo.json" --host 127.0.0.1 --port "$heify_port" \
  --api-key "$API_KEY" --processing-seconds 0 >"$work/emulator.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$heify_port/configuration" "${pids[-1]}" "$work/emulator.log"

app_port=$(free_port)
# DEBUG off, as in production (JSON 404s, no debug pages), but no HTTPS redirect on loopback.
HEIFY_API_URL="http://127.0.0.1:$heify_port" HEIFY_API_KEY="$API_KEY" \
  DJANGO_DEBUG=0 DJANGO_SECURE_SSL_REDIRECT=0 HEIFY_INTERACTIVE_RETRY_TOTAL=2 \
  "$PY" manage.py runserver "127.0.0.1:$app_port" --noreload >"$work/server.log" 2>&1 &
pids+=($!)
schema="http://127.0.0.1:$app_port/api/v1/schema/"
wait_for "$schema" "${pids[-1]}" "$work/server.log"
echo "== Heify emulator on 127.0.0.1:$heify_port, app on 127.0.0.1:$app_port, checks: $CHECKS"

# --- schemathesis ------------------------------------------------------------------------------------------
log_start=$(wc -l <"$work/server.log")
set +e
timeout --kill-after=10 "$TIME_LIMIT" "$SCHEMATHESIS" --config-file scripts/schemathesis.toml run "$schema" \
  --header "Authorization: Token $token" \
  --exclude-path /api/v1/auth/logout/ \
  --checks "$CHECKS" \
  --max-examples "$MAX_EXAMPLES" \
  --request-timeout 30 \
  --generation-database none \
  --report junit --report-dir "$work/report" \
  --no-color \
  ${FUZZ_SEED:+--seed "$FUZZ_SEED"}
result=$?
set -e

# (POST /api/v1/auth/logout/ is left out: it would revoke the very token the run uses; tests cover it.)
# Every request the app answered during the run, except schemathesis' own fetch of the schema.
requests=$(tail -n +"$((log_start + 1))" "$work/server.log" \
  | grep -E '"[A-Z]+ /[^ ]* HTTP/[0-9.]+" [0-9]{3}' | grep -vcE '"GET /api/v1/schema/ HTTP' || true)
server_errors=$(tail -n +"$((log_start + 1))" "$work/server.log" \
  | grep -cE '"[A-Z]+ /[^ ]* HTTP/[0-9.]+" 5[0-9]{2}' || true)
echo "schemathesis: $requests requests ($server_errors answered 5xx)"

if [ "$result" -eq 124 ] || [ "$result" -eq 137 ]; then
  echo "schemathesis did not finish within $TIME_LIMIT s" >&2
  exit 1
fi
if [ "$result" -eq 0 ] && [ "$server_errors" -ne 0 ]; then
  result=1  # belt and braces: schemathesis passed, yet the app's log shows a 5xx
fi
if [ "$result" -ne 0 ]; then
  echo "schemathesis failed (exit $result); the app's log of 5xx answers:" >&2
  grep -E -B2 -A30 'Internal Server Error|Traceback' "$work/server.log" | tail -n 120 >&2 || true
  exit "$result"
fi
