"""The weekly summary takes the managers one by one (issue 20, section 3): one whose e-mail cannot be sent is
logged and left unmarked, and a retry of the same week is planned with back-off; the managers after them still
get theirs."""

import ast
from datetime import date

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.utils import timezone
from django_q.models import Schedule

from qa import jobs
from qa.insights import weekly_summary
from qa.insights.models import WeeklySummarySent

pytestmark = pytest.mark.django_db
MONDAY = date(2026, 11, 30)


def manager(name, email):
    user = User.objects.create_user(name, email=email, password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name="QA manager"))
    return user


def test_a_manager_whose_mail_fails_never_stops_the_others():
    first, poison, last = manager("ann", "ann@example.com"), manager("pat", "pat@example.com"), \
        manager("zoe", "zoe@example.com")
    User.objects.filter(pk=poison.pk).update(email="pat@example.com\nBcc: eve@example.com")  # stored, not a form
    assert weekly_summary.weekly_summaries_send(today=MONDAY) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@example.com", "zoe@example.com"]
    assert set(WeeklySummarySent.objects.values_list("user", flat=True)) == {first.pk, last.pk}

    retry = Schedule.objects.get(name=weekly_summary.RETRY_SCHEDULE)
    assert retry.func == "qa.insights.weekly_summary.weekly_summaries_retry" and retry.schedule_type == Schedule.ONCE
    assert timezone.now() < retry.next_run <= timezone.now() + jobs.job_retry_delay(1)
    kwargs = ast.literal_eval(retry.kwargs)
    assert kwargs == {"today": MONDAY.isoformat(), "attempt": 2}

    User.objects.filter(pk=poison.pk).update(email="pat@example.com")  # put right: the retry sends it
    assert weekly_summary.weekly_summaries_retry(**kwargs) == 1
    assert mail.outbox[-1].to == ["pat@example.com"]


def test_the_retries_stop_at_the_limit():
    manager("pat", "pat@example.com")
    User.objects.filter(username="pat").update(email="pat@example.com\nBcc: eve@example.com")
    assert weekly_summary.weekly_summaries_retry(today=MONDAY.isoformat(), attempt=jobs.JOB_MAX_ATTEMPTS) == 0
    assert not Schedule.objects.filter(name=weekly_summary.RETRY_SCHEDULE).exists()
