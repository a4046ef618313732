#!/usr/bin/env bash
# The production stack as the Procfile starts it, checked end to end (CI runs this):
# release, then web (gunicorn) and worker (two django-q2 clusters) on a throw-away PostgreSQL database
# and an empty Redis database, DEBUG off, a generated secret key; then
#   - the admin login page and its CSS (text/css, cached for a year) come from gunicorn;
#   - /healthz and /readyz answer 200; 16 concurrent API clients get 200s within the database
#     connection budget (web workers + each cluster's processes); /readyz answers 503 naming the
#     database from a second web process whose database is a closed port;
#   - a short Locust run (20 people, 30 s, bounded requests) ends with no error, no change left
#     waiting, every group change in the emulator, no call claimed twice, no 5xx in the logs.
# The people start after the workers' first pull (a pull overlapping review work can put back a group
# Heify already has: benchmarks/README.md, to be fixed with issue 10's lost updates).
# benchmarks/load.py does the work; its whole output goes to a log, shown on failure. What is
# printed otherwise is a plain summary.
#
# Knobs: PRODUCTION_CHECK_SECONDS (30), PRODUCTION_CHECK_CALLS (3000).
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp "${TMPDIR:-/tmp}/production-check.XXXXXX")
trap 'rm -f "$log"' EXIT

if ! .venv/bin/python benchmarks/load.py --check-serving --wait-first-pull --reviewers 15 --managers 4 --tools 1 \
    --run-time "${PRODUCTION_CHECK_SECONDS:-30}" --max-iterations 40 \
    --transcriptions "${PRODUCTION_CHECK_CALLS:-3000}" >"$log" 2>&1; then
  cat "$log"
  echo "production check: NOT OK (the whole output is above)" >&2
  exit 1
fi
# The checks and the totals, without Locust's own lines.
grep -E '^(load: [0-9]+ requests|  \[ok\])' "$log" | sed 's/^  \[ok\]/production check ok:/'
