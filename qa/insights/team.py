"""The team overview: every participant's headline figures on one page, as four queries.

The figures mean what they mean in the participant report (qa.insights.analytics):
the same pass rule, trend and degradation alert, over the same calls
(COMPLETED, scored, dated up to the end of `as_of`, not gone from Heify). Unlike Heify's report,
the totals here are not capped at 20,000 calls. As in the report, the calls the reader scores blind in
calibration count nowhere: the few participants they belong to are counted from their other calls
instead of read from the roll-ups (which count every call): a query more and one per such participant,
for that reader only.

On either score (`score`, qa.mirror.report_rules.ScoreSource): the rows' figures, their order and the trend are
on the score asked for, and each row also carries both scores' average and pass rate and how many of its calls
were reviewed. The roll-ups count the AI's score; the score of record differs from it only on the reviewed
calls, which are few: they are read from the calls themselves (through their own index, tx_reviewed), and each
participant's totals are the roll-ups' with those calls' AI figures taken out and their reviewed ones put in.
Roll-up columns for the reviewed score would have to be recounted on every verdict (qa.reviews.record writes
the score of record without changing a call's version, which is what the roll-ups follow), for a few calls.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date

from django.db import connections
from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from qa.db import on_postgresql, rare_first
from qa.insights import report
from qa.mirror import report_rules, rollups
from qa.mirror.models import Participant, Transcription
from qa.reviews import blinding
from qa.reviews.models import acknowledged_q

SORT_KEYS = ("tag", "calls", "reviewed_calls", "avg_score", "pass_rate", "critical_fails", "pending_critical_reviews",
             "trend")
TREND_ORDER = {"declining": 0, "stable": 1, "improving": 2, "insufficient_data": 3}
AI, REVIEWED = report_rules.ScoreSource.AI, report_rules.ScoreSource.REVIEWED
# A participant's totals: on the AI's score, as the roll-ups count them, and their score of record's ("record_").
FIGURES = ("avg", "passed", "critical_fails", "pending")


def team_overview(*, as_of: date | None = None, sort: str = "tag", descending: bool = False,
                  reader=None, score: str = AI) -> list[dict]:
    """Every participant's row on `score`, as `reader` may read it (without the calls they score blind)."""
    config = report_rules.ReportSettings.current()
    window = report.report_window(as_of or timezone.now().astimezone(UTC).date())
    scored = Transcription.objects.filter(
        status=report_rules.COMPLETED, score__isnull=False, occurred_at__lt=window.end, participant_id__isnull=False,
    )
    totals = rollups.participant_totals(window.end, config.pass_mark)
    if totals is None:  # the roll-ups were counted at another pass mark: count the calls (and rebuild_rollups)
        totals = _totals_from_calls(scored, config.pass_mark)
    else:
        totals = _with_reviewed_calls(totals, scored, config.pass_mark)
    newest = _newest_scores(window.end, config.trend_sample, score)
    unacknowledged = _unacknowledged_reviews()
    participants = Participant.objects.only("pk", "heify_id", "tag", "agent_user")
    if reader is not None and reader.is_authenticated:  # which rows hold calls blind to the reader: no query more
        participants = participants.annotate(blind=Exists(
            blinding.blind_participants(reader).filter(participant_id=OuterRef("heify_id"))))
    participants = list(participants)
    if blind := [p.heify_id for p in participants if getattr(p, "blind", False)]:
        theirs = blinding.without_blind_calls(scored.filter(participant_id__in=blind), reader)
        totals = {**totals, **dict.fromkeys(blind, {}), **_totals_from_calls(theirs, config.pass_mark)}
        for participant_id in blind:  # a few: the participants of the reader's open score sheets
            newest[participant_id] = list(theirs.filter(participant_id=participant_id).order_by(
                "-occurred_at", "-heify_id").annotate(shown=report_rules.score_expression(score)).values_list(
                "shown", flat=True)[:config.trend_sample])
    chosen = "" if score == AI else "record_"
    rows = []
    for participant in participants:
        stats = totals.get(participant.heify_id, {})
        calls = stats.get("calls", 0)
        trend = report.trend_section(newest[participant.heify_id], sample_size=config.trend_sample,
                                        threshold=config.trend_threshold)
        rows.append({
            "participant": participant,
            "tag": participant.tag,
            "calls": calls,
            "reviewed_calls": stats.get("reviewed", 0),
            "avg_score": report_rules.mean_figure(stats.get(f"{chosen}avg")),
            "pass_rate": report_rules.rate_figure(stats.get(f"{chosen}passed", 0), calls),
            "critical_fails": stats.get(f"{chosen}critical_fails", 0),
            "pending_critical_reviews": stats.get(f"{chosen}pending", 0) or 0,
            "trend": trend,
            "degradation_alert": report.degradation_alert(trend, config.degradation_threshold),
            # Reviews its agent has not acknowledged (None: no agent's account is linked to the participant).
            "unacknowledged_reviews": unacknowledged.get(participant.heify_id, 0) if participant.agent_user_id
            else None,
            # Both scores side by side, whichever the row is on.
            "scores": {
                source.value: {"avg_score": report_rules.mean_figure(stats.get(f"{prefix}avg")),
                               "pass_rate": report_rules.rate_figure(stats.get(f"{prefix}passed", 0), calls)}
                for source, prefix in ((AI, ""), (REVIEWED, "record_"))
            },
        })
    key = sort if sort in SORT_KEYS else "tag"

    def sort_value(row):
        if key == "trend":
            return (TREND_ORDER[row["trend"]["direction"]], row["tag"].casefold())
        if key == "tag":
            return row["tag"].casefold()
        return (row[key], row["tag"].casefold())

    return sorted(rows, key=sort_value, reverse=descending)


def _unacknowledged_reviews() -> dict[str, int]:
    """Per participant with an agent's account linked, its reviewed calls whose current review the agent has not
    acknowledged (qa.reviews.models.acknowledged_q), whatever their date: one query."""
    return dict(Transcription.objects.filter(reviewed_at__isnull=False, participant__agent_user__isnull=False)
                .exclude(acknowledged_q()).values("participant_id").order_by()
                .annotate(count=Count("id")).values_list("participant_id", "count"))


def _figures(prefix: str, source: str, pass_mark: float, of_scores=Avg) -> dict:
    """The aggregates of FIGURES on `source`, named with `prefix` ("avg": `of_scores` of the scores: their Avg,
    or their Sum where the reviewed calls' changes are counted)."""
    critical = report_rules.critical_q(source)
    return {
        f"{prefix}avg": of_scores(report_rules.score_expression(source)),
        f"{prefix}passed": Count("id", filter=report_rules.passed_q(pass_mark, source)),
        f"{prefix}critical_fails": Count("id", filter=critical),
        f"{prefix}pending": Count("id", filter=critical & Q(group=report_rules.PENDING_REVIEW)),
    }


def _totals_from_calls(scored: QuerySet, pass_mark: float) -> dict[str, dict]:
    """What rollups.participant_totals gives, counted from the calls (a scan of every scored call), with the
    score of record's beside it and the reviewed calls counted."""
    return {
        row["participant_id"]: row
        for row in scored.values("participant_id").order_by().annotate(
            calls=Count("id"), reviewed=Count("id", filter=Q(reviewed_at__isnull=False)),
            **_figures("", AI, pass_mark), **_figures("record_", REVIEWED, pass_mark),
        )
    }


def _with_reviewed_calls(totals: dict[str, dict], scored: QuerySet, pass_mark: float) -> dict[str, dict]:
    """The roll-ups' totals (the AI's score) with the score of record's beside them: the reviewed calls' AI
    figures taken out and their reviewed ones put in; one query, over the reviewed calls only (tx_reviewed)."""
    changes = {
        row.pop("participant_id"): row
        for row in rare_first(scored.filter(reviewed_at__isnull=False), Q(reviewed_at__isnull=False))
        .values("participant_id").order_by().annotate(
            reviewed=Count("id"),
            **_figures("ai_", AI, pass_mark, of_scores=Sum), **_figures("record_", REVIEWED, pass_mark, of_scores=Sum),
        )
    }
    merged = {}
    for participant_id, stats in totals.items():
        stats = {**stats, **{f"record_{name}": stats[name] for name in FIGURES}, "reviewed": 0}
        if change := changes.get(participant_id):
            stats["reviewed"] = change["reviewed"]
            stats["record_avg"] = stats["avg"] + (change["record_avg"] - change["ai_avg"]) / stats["calls"]  # sums
            for name in FIGURES[1:]:
                stats[f"record_{name}"] = stats[name] + change[f"record_{name}"] - change[f"ai_{name}"]
        merged[participant_id] = stats
    return merged


# PostgreSQL: each participant's newest scored calls, read from the index of its scored calls (a few rows each,
# however many calls there are), in one statement. The WHERE and ORDER BY are `scored`'s and the report's; {score}
# the score asked for (report_rules.call_columns_sql).
_NEWEST_SQL = """
SELECT p.heify_id, s.score
FROM {participant} AS p
CROSS JOIN LATERAL (
    SELECT {score} AS score, t.occurred_at, t.heify_id FROM {transcription} AS t
    WHERE t.participant_id = p.heify_id AND t.status = %(completed)s AND t.score IS NOT NULL
      AND t.gone_at IS NULL AND t.occurred_at < %(end)s
    ORDER BY t.occurred_at DESC, t.heify_id DESC
    LIMIT %(sample)s
) AS s
WHERE p.heify_id IS NOT NULL
ORDER BY p.heify_id, s.occurred_at DESC, s.heify_id DESC
"""
# SQLite has no LATERAL: the same rows through a correlated IN, which SQLite runs once per participant on the same
# index, each call then found by its rowid (a window over every scored call instead read them all: 357 against
# 4 ms at 100,000 calls). The calls are reached by that rowid list only: CROSS JOIN keeps the participants outside
# (SQLite does not reorder it), and no condition joins the calls to them. Joined on participant_id as well, SQLite
# may walk every call of the participant and run the IN again for each one, which is what it chose once one
# agent held 40% of the calls (370 ms at 50,000). PostgreSQL, given this form, reads every call (21 s at 1M).
_NEWEST_SQLITE = """
SELECT p.heify_id, {score}
FROM {participant} AS p CROSS JOIN {transcription} AS t
WHERE p.heify_id IS NOT NULL AND t.id IN (
    SELECT s.id FROM {transcription} AS s
    WHERE s.participant_id = p.heify_id AND s.status = %(completed)s AND s.score IS NOT NULL
      AND s.gone_at IS NULL AND s.occurred_at < %(end)s
    ORDER BY s.occurred_at DESC, s.heify_id DESC
    LIMIT %(sample)s
)
ORDER BY p.heify_id, t.occurred_at DESC, t.heify_id DESC
"""


def _newest_scores(end, sample: int, score: str = AI) -> dict[str, list[float]]:
    """Each participant's newest `sample` scores on `score`, newest first (the trend's input): one query."""
    newest = defaultdict(list)
    connection = connections[Transcription.objects.db]
    qn = connection.ops.quote_name
    sql = _NEWEST_SQL if on_postgresql(Transcription.objects.db) else _NEWEST_SQLITE
    sql = sql.format(participant=qn(Participant._meta.db_table), transcription=qn(Transcription._meta.db_table),
                     score=report_rules.call_columns_sql(score, "t")[0])
    with connection.cursor() as cursor:
        cursor.execute(sql, {"completed": report_rules.COMPLETED, "end": connection.ops.adapt_datetimefield_value(end),
                             "sample": sample})
        for participant_id, score in cursor.fetchall():
            newest[participant_id].append(score)
    return newest
