"""One bad item never stops a job: what a scheduled job does with an item it fails on.

Each job takes its items one at a time, each in its own try. An item that
raises is marked on its own row: why (its error field), how many times in a
row (`job_failures`) and when to try again (`job_retry_at`, `job_retry_delay`'s
back-off); the job goes on with the next. At the JOB_MAX_ATTEMPTS-th failure
it is given up: the job's own "stopped" state is set (a change refused, a
rule switched off), with the reason shown in the admin, and the count starts
afresh once someone acts on it. Rows carry qa.jobs.JobItemState's fields.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)


def due(now: datetime | None = None) -> Q:
    """Items no failure holds back: never failed, or whose retry time has come."""
    return Q(job_retry_at__isnull=True) | Q(job_retry_at__lte=now or timezone.now())


def reason_of(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def item_failed(item: QuerySet, exc: BaseException, *, failures: int | None, error_field: str,
                give_up: dict, now: datetime | None = None, **changes) -> bool:
    """Record that a job failed on the row `item` selects, after `failures` failures in a row before this one;
    `changes` are written either way. True when this failure gave it up (`give_up` written too)."""
    now = now or timezone.now()
    count, reason = (failures or 0) + 1, reason_of(exc)
    pk = item.values_list("pk", flat=True).first()  # one indexed read, on a failure only
    log.error("%s %s: a job failed on it (%s in a row): %s", item.model.__name__, pk, count, reason, exc_info=exc)
    if count >= JOB_MAX_ATTEMPTS:
        item.update(**changes, **give_up, job_failures=None, job_retry_at=None,
                    **{error_field: gettext("Gave up after %(count)d failed attempts: %(reason)s")
                       % {"count": count, "reason": reason}})
        return True
    retry_at = now + job_retry_delay(count)
    # Written in the site's language (LANGUAGE_CODE, a job's), read as stored.
    item.update(**changes, job_failures=count, job_retry_at=retry_at, **{
        error_field: gettext("Failed %(count)d time(s) in a row; tried again after %(at)s UTC: %(reason)s")
        % {"count": count, "at": f"{retry_at:%Y-%m-%d %H:%M:%S}", "reason": reason}})
    return False


def item_succeeded(item: QuerySet, *, error_field: str | None = None) -> None:
    """Forget earlier failures of the row `item` selects (one UPDATE, only if there were any)."""
    cleared = {"job_failures": None, "job_retry_at": None, **({error_field: ""} if error_field else {})}
    item.exclude(job_failures=None, job_retry_at=None).update(**cleared)


class JobItemState(models.Model):
    """What a scheduled job keeps on an item it failed on (qa.jobs): how many times in a row, and when to
    try again; the reason is in the model's error field."""

    job_failures = models.PositiveSmallIntegerField(
        _("job failures"), null=True, blank=True, editable=False,
        help_text=_("How many times in a row a job failed on it (empty: none)."))
    job_retry_at = models.DateTimeField(
        _("job retry at"), null=True, blank=True, editable=False,
        help_text=_("After a failure: when the job tries it again."))

    class Meta:
        abstract = True


class JobRuleState(JobItemState):
    """A rule a scheduled job applies: why the job last failed on it (qa.jobs)."""

    job_error = models.TextField(
        _("job error"), blank=True, editable=False,
        help_text=_("Why the job last failed on this rule; at the limit the rule is switched off. Saving clears it."))

    class Meta:
        abstract = True


# An item a job fails on is tried again after job_retry_delay, up to JOB_MAX_ATTEMPTS times in all, then
# given up and shown in the admin.
JOB_MAX_ATTEMPTS = 8


JOB_RETRY_FIRST = timedelta(minutes=1)


JOB_RETRY_MAX = timedelta(hours=1)


def job_retry_delay(failures: int) -> timedelta:
    """How long after its `failures`-th failure in a row an item waits: a minute, doubling, at most an hour."""
    return min(JOB_RETRY_FIRST * 2 ** min(max(failures, 1) - 1, 16), JOB_RETRY_MAX)


def schedules_ensure(every: dict[str, tuple[str, str]]) -> None:
    """Each domain's schedules (name -> (the job's dotted path, the setting that gives its minutes)), created
    or brought up to date by name, so a rerun duplicates none. Run after every migrate (qa/apps.py)."""
    from django.conf import settings
    from django_q.models import Schedule

    for name, (func, setting) in every.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": getattr(settings, setting),
                      "repeats": -1},
        )
