"""Roll-ups of the calls (qa.mirror.models.DailyCalls), kept current on every write, so screens read counts, not calls.

The admin home (calls per queue) and the team overview (each participant's
totals up to a date) read DailyCalls: one row per participant, day (UTC) and
review group, a few tens of thousands of rows for a million calls.

How it stays current: the paths that write calls wrap their transaction in
`kept_current(calls)`: syncer.mirror.upsert (every call Heify sends),
syncer.pull (calls it marks gone) and qa.reviews.queues._move (every review move). It
notes the buckets (participant, day) the calls are in before the write and
after it, and recounts those buckets
from the calls themselves: the roll-up is a count of the rows, never a
running sum that could drift. On PostgreSQL, each bucket is locked for the
rest of the transaction before it is recounted, so that two transactions
writing calls of the same bucket recount one after the other, the second
seeing the first's calls. `rebuild()` (manage.py rebuild_rollups) recounts
everything, e.g. after ANALYTICS_PASS_MARK changes or rows written by hand.

What it counts means what the report means (qa.insights.analytics): scored = COMPLETED
with a score, the pass rule `report_rules.passed_q`, critical fails among the
scored. Calls gone from Heify are not counted (qa.mirror.models.LiveManager): a call
marked gone leaves its bucket when it is marked.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

from django.db import connections, transaction
from django.db.models import BooleanField, Count, Q, QuerySet, Sum, sql
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate

from qa.db import dialect, on_postgresql
from qa.mirror import report_rules
from qa.mirror.models import DailyCalls, Transcription
from qa.mirror.rules import Group

Bucket = tuple[str | None, date | None]  # (participant_id, day)
BATCH = 200  # buckets recounted per statement


class UTCDay(TruncDate):
    """A call's day (UTC), as TruncDate("occurred_at", tzinfo=UTC) gives it. On SQLite that is a Python function
    called per row (Django's django_datetime_cast_date), which every write of calls paid for each call in the
    buckets it recounts; SQLite keeps a datetime as UTC text, so its own date() gives the same day in C.
    PostgreSQL's form is Django's."""

    def __init__(self, expression):
        super().__init__(expression, tzinfo=UTC)

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.lhs)
        return f"date({sql})", params


def _buckets(calls: QuerySet) -> dict[int, tuple[Bucket, tuple]]:
    """Each call's bucket and state (its version, and whether it is gone), by pk."""
    return {
        pk: ((participant_id, day), (version, gone_at is not None))
        for pk, participant_id, day, version, gone_at in calls.annotate(day=UTCDay("occurred_at"))
        .values_list("pk", "participant_id", "day", "version", "gone_at")
    }


@contextmanager
def kept_current(calls: QuerySet) -> Iterator[None]:
    """Wrap a write of `calls` (a queryset of the calls about to be written, run before and after it) in an
    open transaction; the buckets of the calls that changed (their version moved, they were marked gone or
    back, or they are new) are recounted at the end. `calls` must see gone calls too (`all_objects`). A
    queryset of another model is let through untouched."""
    if calls.model is not Transcription:
        yield
        return
    before = _buckets(calls)
    yield
    after = _buckets(calls)
    changed = {bucket for pk, (bucket, state) in after.items() if before.get(pk, (None, None))[1] != state}
    changed |= {before[pk][0] for pk, (_, state) in after.items() if pk in before and before[pk][1] != state}
    refresh(changed)


def _day_range(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _in_buckets(model, buckets: Iterable[Bucket], using: str) -> RawSQL:
    """One SQL condition: the calls in `buckets` (model Transcription: their participant, and occurred_at within
    the day) or their roll-up rows (DailyCalls: their participant and day): the tests the ORM compiled from one Q
    per bucket (the same columns, operators and parameters), written here, as compiling a page's hundreds of
    those was most of its recount."""
    connection = connections[using]
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    participant = f"{table}.{q('participant_id')}"
    dated = model is Transcription
    day_field = model._meta.get_field("occurred_at" if dated else "day")
    day_column = f"{table}.{q(day_field.column)}"
    parts, params = [], []
    for participant_id, day in buckets:
        if participant_id is None:
            where = f"{participant} IS NULL"
        else:
            where = f"{participant} = %s"
            params.append(participant_id)
        if day is None:
            where += f" AND {day_column} IS NULL"
        elif dated:
            where += f" AND {day_column} >= %s AND {day_column} < %s"
            params.extend(_as_parameter(day_field, moment, connection) for moment in _day_range(day))
        else:
            where += f" AND {day_column} = %s"
            params.append(_as_parameter(day_field, day, connection))
        parts.append(f"({where})")
    return RawSQL(" OR ".join(parts), params, output_field=BooleanField())


def _counted(calls: QuerySet, pass_mark: float) -> QuerySet:
    """The roll-up rows of `calls`, as a query: what a bucket's rows count (the one place that says it)."""
    scored = Q(status=report_rules.COMPLETED, score__isnull=False)
    return (
        calls.filter(gone_at__isnull=True)  # also when `calls` is a migration's model, without LiveManager
        .annotate(day=UTCDay("occurred_at")).order_by()
        .values("participant_id", "day", "group")
        .annotate(
            n=Count("id"), n_scored=Count("id", filter=scored), total=Sum("score", filter=scored),
            n_passed=Count("id", filter=scored & report_rules.passed_q(pass_mark)),
            n_critical=Count("id", filter=scored & Q(critical_fail_triggered=True)),
        )
    )


def _count(calls: QuerySet, pass_mark: float, rollup=DailyCalls) -> list:
    return [
        rollup(participant_id=r["participant_id"], day=r["day"], group=r["group"], calls=r["n"],
               scored=r["n_scored"], score_sum=r["total"] or 0.0, passed=r["n_passed"],
               critical_fails=r["n_critical"], pass_mark=pass_mark)
        for r in _counted(calls, pass_mark)
    ]


def _recount(buckets: list[Bucket], pass_mark: float) -> None:
    """Replace the stored rows of `buckets` by their count from the calls, in the database: on PostgreSQL one
    statement (the DELETE in a WITH, both parts reading one snapshot; no unique key to trip on), on SQLite two.
    The rows are _counted's, as rebuild() writes them (a bucket with no calls left has no row)."""
    using = DailyCalls.objects.db
    statements = (_one_bucket_statements(buckets[0], pass_mark, using) if len(buckets) == 1
                  else _recount_statements(buckets, pass_mark, using))
    with connections[using].cursor() as cursor:
        for statement, params in statements:
            cursor.execute(statement, params)


def _recount_statements(buckets: list[Bucket], pass_mark: float, using: str) -> list[tuple[str, tuple]]:
    """_recount's SQL and parameters, compiled from the ORM's queries."""
    connection = connections[using]
    delete = DailyCalls.objects.filter(_in_buckets(DailyCalls, buckets, using)).query.chain(sql.DeleteQuery)
    delete_sql, delete_params = delete.get_compiler(using).as_sql()
    counted = _counted(Transcription.objects.filter(_in_buckets(Transcription, buckets, using)), pass_mark)
    count_sql, count_params = counted.query.get_compiler(using).as_sql()
    q = connection.ops.quote_name
    columns = ", ".join(q(DailyCalls._meta.get_field(name).column) for name in (
        "participant_id", "day", "group", "calls", "scored", "score_sum", "passed", "critical_fails", "pass_mark"))
    insert_sql = (f"INSERT INTO {q(DailyCalls._meta.db_table)} ({columns}) "
                  f"SELECT c.participant_id, c.day, c.{q('group')}, c.n, c.n_scored, COALESCE(c.total, 0), c.n_passed, "
                  f"c.n_critical, %s FROM ({count_sql}) AS c")
    insert_params = (pass_mark, *count_params)
    if on_postgresql(using):
        return [(f"WITH stale AS ({delete_sql}) {insert_sql}", (*delete_params, *insert_params))]
    return [(delete_sql, tuple(delete_params)), (insert_sql, insert_params)]


# One bucket's statements (every review move's) differ only in the bucket's values: compiled once per shape, with
# these in its place, and the bucket's own values put in (the ORM's compiling was most of a move's recount).
_SOME_PARTICIPANT, _SOME_DAY = "\x00qa.mirror.rollups: a participant\x00", date(1, 1, 1)


@functools.lru_cache(maxsize=32)
def _one_bucket_template(using: str, vendor: str, has_participant: bool, has_day: bool,
                         pass_mark: float) -> list[tuple[str, tuple]]:
    return _recount_statements([(_SOME_PARTICIPANT if has_participant else None, _SOME_DAY if has_day else None)],
                               pass_mark, using)


def _one_bucket_statements(bucket: Bucket, pass_mark: float, using: str) -> list[tuple[str, tuple]]:
    """_recount_statements([bucket]), from the template of its shape (tests/qa/mirror/test_rollup_recount.py checks
    they are the same)."""
    participant_id, day = bucket
    connection = connections[using]
    template = _one_bucket_template(using, dialect(using), participant_id is not None, day is not None,
                                    pass_mark)
    values = {}
    if participant_id is not None:
        values[_SOME_PARTICIPANT] = participant_id
    if day is not None:
        as_day, as_time = DailyCalls._meta.get_field("day"), Transcription._meta.get_field("occurred_at")
        values[_as_parameter(as_day, _SOME_DAY, connection)] = _as_parameter(as_day, day, connection)
        for some, own in zip(_day_range(_SOME_DAY), _day_range(day), strict=True):
            values[_as_parameter(as_time, some, connection)] = _as_parameter(as_time, own, connection)
    return [(statement, tuple(values.get(param, param) if isinstance(param, str | date) else param
                              for param in params))
            for statement, params in template]


def _as_parameter(field, value, connection):
    """`value` as a lookup on `field` hands it to the database."""
    return field.get_db_prep_value(field.get_prep_value(value), connection, prepared=True)


_LOCK_PREFIX = "qa.mirror.rollups:"


def _lock_key(bucket: Bucket) -> str:
    participant_id, day = bucket
    return f"{_LOCK_PREFIX}{participant_id}:{day}"


def _lock(buckets: list[Bucket]) -> None:
    """PostgreSQL: hold each bucket until the transaction ends, in one order (no deadlock between two writers)."""
    if not on_postgresql(DailyCalls.objects.db):
        return  # SQLite runs one writing transaction at a time
    keys = sorted({_lock_key((participant_id, day)) for participant_id, day in buckets})
    with connections[DailyCalls.objects.db].cursor() as cursor:
        cursor.execute("SELECT count(pg_advisory_xact_lock(hashtext(k))) FROM unnest(%s::text[]) AS k", [keys])


def refresh(buckets: Iterable[Bucket]) -> None:
    """Recount the given buckets from the calls (inside the caller's transaction)."""
    buckets = sorted(set(buckets), key=lambda b: (b[0] or "", b[1] or date.min))
    if not buckets:
        return
    pass_mark = report_rules.ReportSettings.current().pass_mark
    with transaction.atomic(using=DailyCalls.objects.db):
        _lock(buckets)
        for start in range(0, len(buckets), BATCH):
            _recount(buckets[start:start + BATCH], pass_mark)


def recount_call(pk: int) -> None:
    """After a write that changes one call but not its bucket (a review move: its group, never its agent, day or
    gone mark), inside the writer's transaction and holding the call's row (its UPDATE): the call's bucket
    locked and recounted, as kept_current would, in two statements on PostgreSQL (the lock, which also reads
    the bucket, then _recount) and three on SQLite (the bucket read, then _recount's two), and without a
    savepoint: a failure here fails the writer's transaction, as it must."""
    using = DailyCalls.objects.db
    if on_postgresql(using):
        with connections[using].cursor() as cursor:
            statement, params = _locked_bucket_sql(using)
            cursor.execute(statement, [pk if param == _SOME_PK else param for param in params])
            found = cursor.fetchone()
        bucket = (found[0], found[1]) if found else None
    else:  # SQLite writes one transaction at a time
        bucket = next(iter(_bucket_of(pk, using)), None)
    if bucket is not None:
        _recount([bucket], report_rules.ReportSettings.current().pass_mark)


def _bucket_of(pk: int, using: str) -> QuerySet:
    return Transcription.all_objects.using(using).filter(pk=pk).annotate(day=UTCDay("occurred_at")).values_list(
        "participant_id", "day").order_by()


_SOME_PK = -7310


@functools.lru_cache(maxsize=4)
def _locked_bucket_sql(using: str) -> tuple[str, tuple]:
    """PostgreSQL: a call's bucket, read as it is locked (recount_call), with the parameters of the call _SOME_PK;
    compiled once per process. The key is _lock's, spelt in SQL (tests/qa/mirror/test_rollup_recount.py checks they
    agree). The count that follows is a statement of its own: its snapshot is taken once the lock is held."""
    bucket_sql, params = _bucket_of(_SOME_PK, using).query.get_compiler(using).as_sql()
    return ("SELECT b.participant_id, b.day, count(pg_advisory_xact_lock(hashtext("
            f"'{_LOCK_PREFIX}' || coalesce(b.participant_id, 'None') || ':' || "
            f"coalesce(to_char(b.day, 'YYYY-MM-DD'), 'None')))) FROM ({bucket_sql}) AS b "
            "GROUP BY b.participant_id, b.day", tuple(params))


def rebuild(*, calls=Transcription, rollup=DailyCalls, using: str | None = None) -> int:
    """Recount every bucket from the calls; returns the number of roll-up rows. (`calls` and `rollup` are the
    models, given by the migration that creates the table.)"""
    using = using or rollup.objects.db
    with transaction.atomic(using=using):
        rollup.objects.using(using).all().delete()
        rows = _count(calls.objects.using(using).all(), report_rules.ReportSettings.current().pass_mark, rollup)
        rollup.objects.using(using).bulk_create(rows, batch_size=2000)
    return len(rows)


# --- reads -----------------------------------------------------------------------------------------------


def queue_counts() -> dict[str | None, int]:
    """Calls per review group (gone ones are not counted): one small query."""
    return {row["group"]: row["n"] for row in DailyCalls.objects.values("group").annotate(n=Sum("calls")).order_by()}


def participant_totals(end: datetime, pass_mark: float) -> dict[str, dict] | None:
    """Each participant's scored calls dated before `end` (midnight UTC): calls, avg, passed, critical_fails,
    pending (critical fails waiting in PENDING_REVIEW), the figures the team overview shows; one query.

    None when some of the roll-ups were counted at another pass mark (ANALYTICS_PASS_MARK changed since):
    their `passed` would mean something else.
    """
    rows = list(
        DailyCalls.objects.filter(participant_id__isnull=False, day__lt=end.astimezone(UTC).date(), scored__gt=0)
        .values("participant_id").order_by()
        .annotate(n=Sum("scored"), total=Sum("score_sum"), n_passed=Sum("passed"),
                  n_critical=Sum("critical_fails"),
                  n_pending=Sum("critical_fails", filter=Q(group=Group.PENDING_REVIEW)),
                  other_mark=Count("id", filter=~Q(pass_mark=pass_mark)))
    )
    if any(r["other_mark"] for r in rows):
        return None
    return {
        r["participant_id"]: {"calls": r["n"], "avg": r["total"] / r["n"], "passed": r["n_passed"],
                              "critical_fails": r["n_critical"], "pending": r["n_pending"] or 0}
        for r in rows
    }
