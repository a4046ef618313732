"""Which database a query runs on: the one place that reads Django's `connection.vendor`.

The back office runs on SQLite (development, the demo, tests) and PostgreSQL (production; CI runs the tests on
both). Where one concern needs a different SQL form on each, its one function holds both forms side by side and
picks one with `on_postgresql()`; tests/qa/test_dialects.py calls each such function and checks it gives what
the other form would:

- the call list's search: qa/mirror/call_search.py (FTS5's trigram table against pg_trgm's indexes);
- the team trend's newest calls: qa.insights.team._newest_scores (a correlated IN against LATERAL);
- the participant report's query: qa/insights/report_query.py (aggregated in Python against in the database);
- the dashboard's cache key: qa.insights.analytics._fingerprint (hashed in PostgreSQL, bit_xor of
  hashtextextended; read as one text by SQLite, hashed by Python);
- the roll-ups' bucket lock: qa.mirror.rollups._lock (an advisory lock; SQLite writes one transaction at a time);
- a call's day in the roll-ups: qa.mirror.rollups.UTCDay (SQLite's own date() against Django's TruncDate, through
  its as_sqlite; tests/qa/mirror/test_rollup_day.py);
- a call's results as one text (what-if reads one call's for each of its patterns, the score of record each
  reviewed call's): qa.mirror.criterion_results.results_pattern and patterns_of (json_group_array against
  json_agg, through the aggregate's as_sqlite and as_postgresql);
- the upsert's batch write and the clock it orders Heify's data by: syncer.mirror.insert_rows, heify_clock;
- the pull's lock: syncer.pull.pull_lock (an advisory lock against the syncer.models.PullLock row; tested where
  the pull is, tests/syncer/test_pull.py);
- and here, three that belong to no domain: reading a big result as a stream (`streaming_read`), and telling the
  planner a condition is rare (`rare_hinted`, `rare_first`).

Migrations read the vendor of their own schema editor's connection, as Django's do. tests/test_layout.py fails
if any other module reads `.vendor`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Literal

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import BooleanField, Func, Q, QuerySet

POSTGRESQL, SQLITE = "postgresql", "sqlite"


def dialect(using: str | None = None) -> Literal["postgresql", "sqlite"]:
    """The SQL dialect of the database `using` (an alias; the default one if None)."""
    vendor = connections[using or DEFAULT_DB_ALIAS].vendor
    if vendor not in (POSTGRESQL, SQLITE):
        # Every query written in two forms has only these two: fail at the first one rather than send SQLite's
        # form to another database.
        raise ImproperlyConfigured(f"The database {using or DEFAULT_DB_ALIAS!r} is {vendor}: the back office runs "
                                   "on PostgreSQL or SQLite only (DATABASE_URL).")
    return vendor


def on_postgresql(using: str | None = None) -> bool:
    """Whether `using` (an alias; the default one if None) is PostgreSQL; if not, it is SQLite."""
    return dialect(using) == POSTGRESQL


def streaming_read(using: str | None = None) -> AbstractContextManager:
    """Where to read a big result with `.iterator()`, so that rows come as they are found.

    PostgreSQL: inside a transaction. Outside one, Django's server-side cursor is WITH HOLD, and PostgreSQL then
    computes the whole result before the first row (20 s at 1,000,000 calls).
    SQLite: as it is. Its transactions here take the write lock (transaction_mode IMMEDIATE) and would stop
    every writer for as long as the read lasts."""
    return transaction.atomic(using=using) if on_postgresql(using) else nullcontext()


class Unlikely(Func):
    """SQLite's planner hint that a condition is rarely true (https://sqlite.org/lang_corefunc.html#unlikely)."""

    function = "unlikely"
    output_field = BooleanField()


def rare_hinted(queryset: QuerySet, condition: Q) -> QuerySet:
    """`queryset`, which `condition` already filters, with the planner told that the condition is true of few rows.

    SQLite: its statistics hold rows per value, not how many are NULL, so it takes `field IS NULL` to match a
    quarter of the rows and may walk another index, reading every row; the condition is repeated inside
    unlikely(), and SQLite reads the few rows through the condition's own index. PostgreSQL: unchanged (its
    statistics count the NULLs, and a condition repeated would count twice in its estimate)."""
    return queryset if on_postgresql(queryset.db) else queryset.filter(Unlikely(condition))


def rare_first(queryset: QuerySet, condition: Q) -> QuerySet:
    """`queryset`, which `condition` already filters, read through the few rows `condition` selects (the rows of a
    partial index on it), each then found by its primary key.

    SQLite: ANALYZE writes no statistics for an empty index, and SQLite then takes a partial index on a rare
    condition (tx_reviewed: the reviewed calls, none yet) to hold as many rows as the table, and walks another
    index of the other conditions instead: every scored call (180 against 1 ms at 100,000 calls). Asked for the
    primary keys of `condition`'s rows alone, it has no other index to walk. PostgreSQL: unchanged (its
    statistics know the index is small)."""
    if on_postgresql(queryset.db):
        return queryset
    return queryset.filter(pk__in=queryset.model._default_manager.using(queryset.db).filter(condition).values("pk"))
