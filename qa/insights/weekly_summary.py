"""The weekly summary: every Monday each QA manager gets the team's past week by e-mail, HTML and plain text.

It says: the team's calls, average score and pass rate against the week
before, the agents whose average moved most, the criteria that failed most,
the open critical reviews, and links to each. A week runs from Monday 00:00
UTC to the next Monday. The calls counted and every figure follow the
participant report's rules (qa.insights.analytics: completed, scored calls; the pass
rule; the rounding; the comparison of two periods), read through its functions.

The job (`weekly_summaries_send`, scheduled in syncer.tasks) is safe to run
twice: who was sent which week is recorded (WeeklySummarySent).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db.models import Avg, Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import ngettext

from qa import jobs
from qa.insights import report
from qa.insights.models import WeeklySummarySent
from qa.mirror import report_rules
from qa.mirror.models import Participant, Transcription
from qa.mirror.rules import Group
from qa.preferences import language_of

log = logging.getLogger(__name__)

MANAGERS_GROUP = "QA manager"
TOP = 5
OPEN_REVIEW_GROUPS = (Group.PENDING_REVIEW, Group.UNDER_REVIEW)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def last_full_week(today: date) -> date:
    """The Monday that starts the last week that has ended by `today`."""
    return today - timedelta(days=today.weekday() + 7)


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def week_summary(*, week_start: date, score: str = report_rules.ScoreSource.AI) -> dict:
    """What the e-mail shows for the week starting on Monday `week_start`, on `score`."""
    if week_start.weekday() != 0:
        raise ValueError(f"a week starts on a Monday, not on {week_start:%A} {week_start}")
    score = report_rules.ScoreSource(score)
    other = next(source for source in report_rules.ScoreSource if source != score)
    start = _midnight(week_start)
    end, before = start + timedelta(days=7), start - timedelta(days=7)
    pass_mark = report_rules.ReportSettings.current().pass_mark
    scored = Transcription.objects.filter(status=report_rules.COMPLETED, score__isnull=False)
    this_week = scored.filter(occurred_at__gte=start, occurred_at__lt=end)
    week_before = scored.filter(occurred_at__gte=before, occurred_at__lt=start)

    def aggregates(source: str) -> dict:
        return {f"avg_{source}": Avg(report_rules.score_expression(source)),
                f"passed_{source}": Count("id", filter=report_rules.passed_q(pass_mark, source))}

    def stats(calls) -> tuple[dict[str, report.ScoreStats], int]:
        """The week's calls on each score, and how many of them were reviewed: one query."""
        row = calls.aggregate(calls=Count("id"), reviewed=Count("id", filter=Q(reviewed_at__isnull=False)),
                              **aggregates(score), **aggregates(other))
        return {source: report.ScoreStats(calls=row["calls"], avg_score=row[f"avg_{source}"],
                                          passed=row[f"passed_{source}"]) for source in (score, other)}, row["reviewed"]

    (now, reviewed_now), (then, reviewed_then) = stats(this_week), stats(week_before)
    team = report.comparison_section(now[score], then[score])
    other_team = report.comparison_section(now[other], then[other])

    # The agents whose average moved most between the two weeks (those with calls in both).
    def per_agent(calls) -> dict[str, report.ScoreStats]:
        rows = calls.exclude(participant_id=None).values("participant_id").order_by().annotate(
            n=Count("id"), avg=Avg(report_rules.score_expression(score)),
            passed=Count("id", filter=report_rules.passed_q(pass_mark, score)))
        return {r["participant_id"]: report.ScoreStats(r["n"], r["avg"], r["passed"]) for r in rows}

    now, then = per_agent(this_week), per_agent(week_before)
    both = sorted(set(now) & set(then))
    participants = {p.heify_id: p for p in Participant.all_objects.filter(heify_id__in=both)}
    movers = []
    for participant_id in both:
        compared = report.comparison_section(now[participant_id], then[participant_id])
        participant = participants.get(participant_id)
        movers.append({
            "tag": participant.tag if participant else participant_id,
            "link": _absolute(reverse("admin:qa_participant_change", args=[participant.pk])) if participant else "",
            "calls": now[participant_id].calls,
            "avg_score": compared["current_period"]["avg_score"],
            "previous_avg_score": compared["previous_period"]["avg_score"],
            "change": compared["delta"]["avg_score"],
        })
    movers.sort(key=lambda m: (-abs(m["change"]), m["tag"].casefold()))

    if score == report_rules.ScoreSource.AI:
        failed_names = this_week.values_list("failed_criteria", flat=True).iterator()
    else:
        failed_names = (report_rules.of_record(ai, reviewed) for ai, reviewed in this_week.values_list(
            "failed_criteria", "reviewed_failed_criteria").iterator())
    failed = Counter(name for names in failed_names for name in names or ())
    total = team["current_period"]["calls"]
    criteria = [{"name": name, "fail_count": count, "fail_rate": report_rules.rate_figure(count, total)}
                for name, count in sorted(failed.items(), key=lambda item: (-item[1], item[0]))[:TOP]]

    critical = Transcription.objects.filter(
        report_rules.critical_q(score), group__in=OPEN_REVIEW_GROUPS,
    ).select_related("participant", "assigned_to").order_by("occurred_at", "id")
    open_critical = [
        {"name": str(call), "participant": str(call.participant) if call.participant else "",
         # The group's label stays lazy: it is written in each recipient's language.
         "group": Group(call.group).label if call.group else "",
         "reviewer": call.assigned_to.get_username() if call.assigned_to else "",
         "date": call.occurred_at, "link": _absolute(reverse("admin:qa_reviewitem_change", args=[call.pk]))}
        for call in critical[:10]
    ]
    queue = reverse("admin:qa_reviewitem_changelist")
    return {
        "week_start": week_start,
        "week_end": week_start + timedelta(days=6),
        "score": score.value,
        "score_label": score.label,
        "team": team,
        # The team's figures on the other score, and the calls reviewed each week: where reviewers and the AI differ.
        "other_score": {"score": other.value, "label": other.label, **other_team},
        "reviewed_calls": {"current": reviewed_now, "previous": reviewed_then},
        "movers": movers[:TOP],
        "criteria": criteria,
        "open_critical_count": critical.count(),
        "open_critical": open_critical,
        "links": {
            "team": _absolute(reverse("admin:qa_participant_team")),
            "pending": _absolute(f"{queue}?queue=PENDING_REVIEW"),
            "under_review": _absolute(f"{queue}?queue=UNDER_REVIEW"),
            "calls": _absolute(reverse("admin:qa_transcription_changelist")),
        },
    }


def render(summary: dict, *, recipient=None) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the e-mail, in the recipient's language (qa.preferences.language_of; without
    a recipient, the language active now)."""
    context = {**summary, "recipient": recipient}
    language = language_of(recipient) if recipient is not None else translation.get_language()
    with translation.override(language):
        period = summary["team"]["current_period"]
        # The week's Monday as ISO 8601 in the subject, whatever the language: mail readers sort on it.
        subject = ngettext(
            "[Heify QA] Week of %(week)s: %(calls)s call, pass rate %(rate)s%%",
            "[Heify QA] Week of %(week)s: %(calls)s calls, pass rate %(rate)s%%", period["calls"],
        ) % {"week": summary["week_start"].isoformat(), "calls": period["calls"],
             "rate": formats.localize(period["pass_rate"])}
        text = render_to_string("qa/email/weekly_summary.txt", context)
        html = render_to_string("qa/email/weekly_summary.html", context)
    return subject, text, html


def weekly_summaries_send(*, today: date | None = None, attempt: int = 1) -> int:
    """E-mail last week's summary to each QA manager who has an address and has not had it yet.

    Manager by manager: one whose e-mail fails is logged and left unmarked, and a
    retry of the same week is planned (`weekly_summaries_retry`) with the jobs'
    back-off, up to JOB_MAX_ATTEMPTS runs in all.
    """
    today = today or timezone.now().astimezone(UTC).date()
    week_start = last_full_week(today)
    managers = get_user_model().objects.filter(groups__name=MANAGERS_GROUP, is_active=True).exclude(email="")
    done = set(WeeklySummarySent.objects.filter(week_start=week_start).values_list("user_id", flat=True))
    managers = [user for user in managers.distinct().order_by("pk") if user.pk not in done]
    if not managers:
        return 0
    summary = week_summary(week_start=week_start)
    sent = 0
    for user in managers:
        try:
            subject, text, html = render(summary, recipient=user)
            message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
            message.attach_alternative(html, "text/html")
            message.send()
        except Exception:  # noqa: BLE001 (an address refused, a server down): this manager only, unmarked
            log.exception("weekly summary (run %s) for %s not sent", attempt, user.get_username())
            continue
        WeeklySummarySent.objects.get_or_create(week_start=week_start, user=user)
        sent += 1
    if sent < len(managers) and attempt < jobs.JOB_MAX_ATTEMPTS:
        from django_q.models import Schedule

        Schedule.objects.update_or_create(name=RETRY_SCHEDULE, defaults={
            "func": "qa.insights.weekly_summary.weekly_summaries_retry", "schedule_type": Schedule.ONCE, "repeats": 1,
            "kwargs": repr({"today": today.isoformat(), "attempt": attempt + 1}),
            "next_run": timezone.now() + jobs.job_retry_delay(attempt),
        })
    return sent


RETRY_SCHEDULE = "weekly summary retry"


def weekly_summaries_retry(*, today: str, attempt: int) -> int:
    """The planned retry of a run whose e-mails did not all go: the same week, to those who have not had it."""
    return weekly_summaries_send(today=date.fromisoformat(today), attempt=attempt)
