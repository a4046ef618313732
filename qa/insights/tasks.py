"""The insights' scheduled job: the weekly summary, on Mondays at WEEKLY_SUMMARY_HOUR_UTC (the job is
qa/insights/weekly_summary.py's), created by qa/apps.py after every migrate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

WEEKLY_SUMMARY = ("weekly summary", "qa.insights.weekly_summary.weekly_summaries_send")


def schedules_ensure() -> None:
    from django_q.models import Schedule

    # A rerun keeps the next run already planned.
    name, func = WEEKLY_SUMMARY
    Schedule.objects.update_or_create(
        name=name, defaults={"func": func, "schedule_type": Schedule.WEEKLY, "repeats": -1},
        create_defaults={"func": func, "schedule_type": Schedule.WEEKLY, "repeats": -1,
                         "next_run": next_monday(timezone.now(), settings.WEEKLY_SUMMARY_HOUR_UTC)},
    )


def next_monday(now, hour: int):
    """The next Monday at `hour` UTC, strictly after `now`."""
    today = now.astimezone(UTC).date()
    moment = datetime(today.year, today.month, today.day, hour, tzinfo=UTC) + timedelta(days=-today.weekday())
    return moment if moment > now else moment + timedelta(days=7)
