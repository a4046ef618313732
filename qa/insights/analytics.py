"""The participant analytics report: Heify's `analytics-participant`, computed from the mirror.

What lives here: the two ways in (`participant_report`, `participant_dashboard` with its cache), and what
qa.alerts watches (the trend and pass rate of a participant's newest calls). The report is built in three
layers (notes, section 3, are the rules; the seed `analytics-participant.txt` is the shape), each in its
own module:

(a) The query (qa/insights/report_query.py, `inputs_from_db`): one participant's included calls (live
    ones only: a call gone from Heify counts nowhere), newest first and
    capped. On PostgreSQL, one statement reads them once and aggregates
    every section in the database (GROUP BY, avg, stddev_samp,
    percentile_cont) and shapes raw_data as JSON (`_inputs_from_postgresql`).
    On SQLite, which has neither percentile_cont nor stddev_samp, one statement
    too aggregates every section (the percentiles from the sorted durations,
    the spread from squared deviations) and returns plain values
    (`_inputs_from_sqlite`). Both give the same report (tests/qa/insights/test_report_query.py
    compares each with (c) on the same calls).
(b) Pure functions (qa/insights/report.py; the per-call rules and rounding are in qa.mirror.report_rules):
    the included calls -> `ReportInputs` (grouping, means,
    the sample standard deviation, the duration percentiles as PostgreSQL's
    percentile_cont interpolates: `inputs_from_calls`), and `ReportInputs`
    -> the report's sections (`build_report` and the `*_section` functions).
    Every rule lives once, there or in qa.mirror.report_rules: rounding, the pass rule, buckets, duration
    classes, delta, trend direction, the degradation alert. The rules the
    PostgreSQL query applies per row (the pass rule, the bucket, the duration
    class, raw_data's row) have their SQL form written beside the Python one
    (`PASSES_SQL`, `score_bucket_sql`, ...); rounding and every figure shown
    stay in Python, for both paths. Which criteria a call failed is decided
    once, by the upsert (qa.mirror.criterion_results.failed_names, kept on the call).
(c) The emulator's variant (qa/insights/report_query.py, `inputs_from_parsed`): the same included calls
    given as rows in the mirror's columns (the emulator reads its Heify JSON
    with the one upsert parser, syncer.mirror, and hands the rows here), handed
    to the same (b).

The numeric constants that are our choice are settings, read on each call:
ANALYTICS_PASS_MARK (50), ANALYTICS_TREND_THRESHOLD (5),
ANALYTICS_DEGRADATION_THRESHOLD (10), ANALYTICS_QUERY_LIMIT (20,000: Heify's
cap), ANALYTICS_TREND_SAMPLE (20).

Every way in takes the score it reads (`score`, qa.mirror.report_rules.ScoreSource): the AI's, Heify's own and
the default (the API's `score=ai` is Heify's report figure for figure), or the score of record (`reviewed`: a
reviewed call's reviewed score, critical flag and failed criteria, the AI's for the others; the same calls).
The dashboard also compares both over the same calls (`review`).

The dashboard's answer (`participant_dashboard`) is kept in Django's cache,
under a fingerprint of everything it reads, so it is never stale.
A report leaves out the calls its reader scores blind in calibration (`leave_out`,
from qa.reviews.blinding): they count in none of its figures.

What must not live in any of them: writes (other than that cache), HTTP, and a copy of a rule outside (b):
where SQL must decide one too (the report query; is it a pass, for the team
overview in qa.insights.team), it takes the SQL form written beside the rule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime

from django.core.cache import cache
from django.db import DatabaseError, connections
from django.utils import timezone

from qa.db import on_postgresql
from qa.insights.report import (
    ReportInputs,
    Window,
    build_report,
    criteria_by_evaluator,
    degradation_alert,
    report_window,
    review_section,
    trend_section,
    utc_date,
)
from qa.insights.report_query import (
    included_calls,
    inputs_from_db,
    inputs_from_parsed,
)
from qa.mirror.models import Evaluator, Participant, Transcription
from qa.mirror.report_rules import (
    COMPLETED,
    ReportSettings,
    ScoreSource,
    of_record,
    passes,
    rate_figure,
)

# --- the two ways in --------------------------------------------------------------------------------------


def participant_report(participant: Participant, *, as_of: date | None = None,
                       leave_out: Iterable[str] = (), score: str = ScoreSource.AI) -> dict:
    """The participant's analytics as Heify's `analytics-participant` answers them (its `data` object).

    Calls dated up to the end of `as_of` (UTC; default today) count; the
    comparison is the month of `as_of` against the month before. The calls
    `leave_out` names (Heify ids: those the reader scores blind,
    qa.reviews.blinding.blind_heify_ids) count nowhere, raw_data included.
    `score`: on the AI's score (Heify's report), or on the score of record (`reviewed`; its metadata says so).
    """
    return _report(participant, as_of, None, frozenset(leave_out), score)[1]


def participant_dashboard(participant: Participant, *, as_of: date | None = None, calls_shown: int,
                          leave_out: Iterable[str] = (), score: str = ScoreSource.AI) -> tuple[dict, list[dict], dict]:
    """What the participant's dashboard shows: the report on `score` with raw_data cut to the newest
    `calls_shown` calls (at least the trend's sample; every other figure is the same, and total_records_analyzed
    still counts them all), `criteria_by_evaluator`, and both scores compared over the same calls
    (report.review_section: how many were reviewed, the AI's and the reviewed average and pass rate). Reading
    20,000 calls as JSON is most of a whole report's cost. `leave_out` as participant_report's.

    The answer is kept in the cache under a fingerprint of everything it is computed from (the included calls
    the report reads, each by id and version, and by its score of record where it has one; every evaluator, by
    id and version, for tags and criteria; the settings, the day, the cut, the score and the calls left out),
    read from the report's index in a tenth of the report's time (readers who score none of its calls blind share
    one answer; one who does, never theirs): any write of a call (the upsert, a review move, a verdict) or of an
    evaluator changes the key, so a kept answer is never stale. Its generated_at says when it was computed."""
    leave_out, score = frozenset(leave_out), ScoreSource(score)
    if participant.heify_id is None:
        return _dashboard(participant, as_of, calls_shown, leave_out, score)
    window = report_window(_as_of_day(as_of))
    key = "qa.insights.analytics.dashboard:" + hashlib.sha256(repr((
        participant.heify_id, window.as_of, calls_shown, ReportSettings.current(),
        _fingerprint(participant.heify_id, window, leave_out), sorted(leave_out), score.value,
    )).encode()).hexdigest()
    kept = cache.get(key)
    if kept is None:
        kept = _dashboard(participant, as_of, calls_shown, leave_out, score)
        try:
            cache.set(key, kept, timeout=24 * 3600)
        except DatabaseError:  # the cache's table on SQLite, held past its busy timeout by a writer: shown, not kept
            pass
    return kept


def _dashboard(participant: Participant, as_of: date | None, calls_shown: int, leave_out: frozenset[str],
               score: ScoreSource) -> tuple[dict, list[dict], dict]:
    inputs, report = _report(participant, as_of, calls_shown, leave_out, score, compare=True)
    return report, criteria_by_evaluator(inputs), review_section(inputs.review)


# What the dashboard's answer is computed from: the included calls it reads by id and version (and a
# reviewed call by its score of record too: a verdict changes it, not the version), read from
# tx_scored_by_participant alone (it carries `version` and the score of record), and every evaluator by id and
# version. The report reads the newest `limit` calls (Heify's cap) and asks whether one more lies beyond, after
# leaving out the reader's blind ones: the newest limit + 1 + that many are all it can depend on. Any change among
# them (a new call, one gone, a version, a verdict) changes the fingerprint; a change to an older call changes
# nothing the report shows, and once the agent has more calls than the cap, the fingerprint reads as many as the
# report, not all of them (400,000 for one agent with 40% of 1,000,000).
# PostgreSQL: hashed as they are read (bit_xor of hashtextextended). SQLite has neither: the same values read as one
# text (group_concat, NULLs written as empty), which Python hashes; its order does not matter to staleness (the same
# rows in another order would only miss the cache). On SQLite it reads the table beside the index, a few ms.
# The calls both forms read: the newest the capped report reads, by the report's own order.
_FINGERPRINT_CALLS = """
    SELECT t.heify_id, t.version, t.reviewed_at, t.reviewed_score, t.reviewed_critical, t.reviewed_failed_criteria
    FROM {transcription} AS t
    WHERE t.participant_id = %(participant)s AND t.status = %(completed)s AND t.score IS NOT NULL
      AND t.gone_at IS NULL AND t.occurred_at < %(end)s
    ORDER BY t.occurred_at DESC, t.heify_id DESC
    LIMIT %(read)s
"""
_FINGERPRINT_SQL = """
SELECT count(*), coalesce(bit_xor(hashtextextended(
           CASE WHEN t.reviewed_at IS NULL THEN t.heify_id || ':' || t.version
                ELSE concat_ws(':', t.heify_id, t.version, t.reviewed_at, t.reviewed_score, t.reviewed_critical,
                               t.reviewed_failed_criteria) END, 0)), 0),
       (SELECT coalesce(bit_xor(hashtextextended(e.id || ':' || e.version, 0)), 0) FROM {evaluator} AS e)
FROM (""" + _FINGERPRINT_CALLS + """) AS t
"""
_FINGERPRINT_SQLITE = """
SELECT count(*), group_concat(
           CASE WHEN t.reviewed_at IS NULL THEN t.heify_id || ':' || t.version
                ELSE t.heify_id || ':' || t.version || ':' || t.reviewed_at || ':' || coalesce(t.reviewed_score, '')
                     || ':' || coalesce(t.reviewed_critical, '') || ':' || coalesce(t.reviewed_failed_criteria, '')
           END, ','),
       (SELECT group_concat(e.id || ':' || e.version, ',') FROM {evaluator} AS e)
FROM (""" + _FINGERPRINT_CALLS + """) AS t
"""


def _fingerprint(participant_id: str, window: Window, leave_out: frozenset[str]) -> tuple:
    connection = connections[Transcription.objects.db]
    qn = connection.ops.quote_name
    postgresql = on_postgresql(connection.alias)
    sql = (_FINGERPRINT_SQL if postgresql else _FINGERPRINT_SQLITE).format(
        transcription=qn(Transcription._meta.db_table), evaluator=qn(Evaluator._meta.db_table))
    read = ReportSettings.current().query_limit + 1 + len(leave_out)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"participant": participant_id, "completed": COMPLETED,
                             "end": connection.ops.adapt_datetimefield_value(window.end), "read": read})
        found = cursor.fetchone()
    if postgresql:
        return found
    count, calls, evaluators = found
    return count, hashlib.sha256((calls or "").encode()).hexdigest(), evaluators


def _as_of_day(as_of: date | None) -> date:
    if isinstance(as_of, datetime):
        return utc_date(as_of)
    return as_of or utc_date(timezone.now())


def _report(participant: Participant, as_of: date | None, calls_shown: int | None,
            leave_out: frozenset[str] = frozenset(), score: str = ScoreSource.AI,
            compare: bool = False) -> tuple[ReportInputs, dict]:
    config = ReportSettings.current()
    now = timezone.now()
    window = report_window(_as_of_day(as_of))
    shown = None if calls_shown is None else max(calls_shown, config.trend_sample)
    inputs = inputs_from_db(participant.heify_id, window, config, shown, leave_out, score=score, compare=compare)
    return inputs, build_report(inputs, generated_at=now, config=config, score=score)


def participant_report_from_parsed(
    participant_id: str, transcriptions: Iterable[dict], evaluators: Iterable[tuple[dict, list[dict]]],
    now: datetime, *, as_of: date | None = None, score: str = ScoreSource.AI,
) -> dict:
    """The same report from rows in the mirror's columns (the emulator's, parsed from its Heify JSON).

    `transcriptions` are transcription rows, `evaluators` (row, criteria)
    pairs, as syncer.mirror parses them, so a call means here what it means
    in the mirror; `now` is aware; calls of other participants are ignored.
    Rows may carry the score of record's columns (reviewed_score, ...) for `score="reviewed"`; Heify's JSON
    has none, so the emulator's own report is the AI's.
    """
    config = ReportSettings.current()
    window = report_window(as_of or utc_date(now))
    inputs = inputs_from_parsed(participant_id, transcriptions, evaluators, window, config, score=score)
    return build_report(inputs, generated_at=now, config=config, score=score)


# --- what qa.alerts.services watches: the report's own rules, over a participant's newest calls only ------------------


def newest_calls(participant_id: str, count: int, *, as_of: date | None = None,
                 score: str = ScoreSource.AI) -> list[tuple[float, bool]]:
    """(score, critical) of the participant's newest `count` included calls, newest first, as the report on
    `score` sees them."""
    window = report_window(as_of or utc_date(timezone.now()))
    calls = included_calls(participant_id, window)
    if score == ScoreSource.AI:
        return list(calls.values_list("score", "critical_fail_triggered")[:count])
    return [(of_record(ai_score, reviewed_score), of_record(ai_critical, reviewed_critical))
            for ai_score, ai_critical, reviewed_score, reviewed_critical in calls.values_list(
                "score", "critical_fail_triggered", "reviewed_score", "reviewed_critical")[:count]]


def participant_trend(participant_id: str, *, as_of: date | None = None,
                      score: str = ScoreSource.AI) -> tuple[dict, bool]:
    """The report's `trend` and `degradation_alert`, without the rest of the report (two sections of it, the
    same figures: the same calls, the same rules, the same score)."""
    config = ReportSettings.current()
    scores = [value for value, _ in newest_calls(participant_id, config.trend_sample, as_of=as_of, score=score)]
    trend = trend_section(scores, sample_size=config.trend_sample, threshold=config.trend_threshold)
    return trend, degradation_alert(trend, config.degradation_threshold)


def pass_rate_of_newest(participant_id: str, count: int, *, as_of: date | None = None,
                        score: str = ScoreSource.AI) -> int | float | None:
    """The pass rate (as the report rounds it) over the participant's newest `count` calls on `score`; None with
    fewer."""
    pass_mark = ReportSettings.current().pass_mark
    calls = newest_calls(participant_id, count, as_of=as_of, score=score)
    if len(calls) < count:
        return None
    return rate_figure(sum(passes(value, critical, pass_mark) for value, critical in calls), count)
