"""The team overview: every participant's headline figures on one page, as two queries.

The figures mean what they mean in the participant report (qa.analytics):
the same pass rule, trend and degradation alert, over the same calls
(COMPLETED, scored, dated up to the end of `as_of`). Unlike Heify's report,
the totals here are not capped at 20,000 calls.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Avg, Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from qa import analytics
from qa.models import Participant, Transcription

SORT_KEYS = ("tag", "calls", "avg_score", "pass_rate", "critical_fails", "pending_critical_reviews", "trend")
TREND_ORDER = {"declining": 0, "stable": 1, "improving": 2, "insufficient_data": 3}


def team_overview(*, as_of: date | None = None, sort: str = "tag", descending: bool = False) -> list[dict]:
    config = analytics.ReportSettings.current()
    window = analytics.report_window(as_of or timezone.now().astimezone(analytics.UTC).date())
    scored = Transcription.objects.filter(
        status=analytics.COMPLETED, score__isnull=False, occurred_at__lt=window.end, participant_id__isnull=False,
    )
    critical = Q(critical_fail_triggered=True)
    totals = {
        row["participant_id"]: row
        for row in scored.values("participant_id").order_by().annotate(
            calls=Count("id"), avg=Avg("score"),
            passed=Count("id", filter=analytics.passed_q(config.pass_mark)),
            critical_fails=Count("id", filter=critical),
            pending=Count("id", filter=critical & Q(group=analytics.PENDING_REVIEW)),
        )
    }
    # Each participant's newest calls, for the trend: one query with a window function.
    newest = defaultdict(list)
    ranked = scored.annotate(rank=Window(
        RowNumber(), partition_by=[F("participant_id")], order_by=[F("occurred_at").desc(), F("heify_id").desc()],
    )).filter(rank__lte=config.trend_sample).order_by("participant_id", "rank")
    for participant_id, score in ranked.values_list("participant_id", "score"):
        newest[participant_id].append(score)

    rows = []
    for participant in Participant.objects.filter(gone_at__isnull=True).only("pk", "heify_id", "tag"):
        stats = totals.get(participant.heify_id, {})
        calls = stats.get("calls", 0)
        trend = analytics.trend_section(newest[participant.heify_id], sample_size=config.trend_sample,
                                        threshold=config.trend_threshold)
        rows.append({
            "participant": participant,
            "tag": participant.tag,
            "calls": calls,
            "avg_score": analytics.mean_figure(stats.get("avg")),
            "pass_rate": analytics.rate_figure(stats.get("passed", 0), calls),
            "critical_fails": stats.get("critical_fails", 0),
            "pending_critical_reviews": stats.get("pending", 0),
            "trend": trend,
            "degradation_alert": analytics.degradation_alert(trend, config.degradation_threshold),
        })
    key = sort if sort in SORT_KEYS else "tag"

    def sort_value(row):
        if key == "trend":
            return (TREND_ORDER[row["trend"]["direction"]], row["tag"].casefold())
        if key == "tag":
            return row["tag"].casefold()
        return (row[key], row["tag"].casefold())

    return sorted(rows, key=sort_value, reverse=descending)
