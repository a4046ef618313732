"""review_sample takes the rules one by one (issue 20, section 3): a rule that raises is marked with its reason,
backed off, switched off at the limit and shown to managers; the rules after it still move their calls."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from qa import jobs
from qa.mirror.models import Transcription
from qa.reviews import sampling, tasks
from qa.reviews.models import SamplingRule
from tests import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def poison_between(load):
    """Ann and Bob, three scored calls each in the last complete week; three weekly rules, the middle one stored
    (not through a form, as a rule saved before the bound) with a margin whose sample size overflows."""
    start, _ = sampling.last_complete_period("week", timezone.now())
    agents = [builders.participant_payload(tag=tag) for tag in ("Ann", "Bob")]
    calls = []
    for agent in agents:
        for day, score in enumerate([30, 60, 90]):
            body = builders.transcription_payload(participant=agent, created_at=(start + timedelta(days=day, hours=9))
                                                  .isoformat())
            body["details"]["evaluation"].update(score=score, critical_fail_triggered=False)
            calls.append(body)
    load(participants=agents, transcriptions=calls)
    owner = User.objects.create_user("max", password="pw-for-tests-1", is_staff=True)
    owner.groups.add(Group.objects.get(name="QA manager"))
    made = [
        SamplingRule.objects.create(name="a first", owner=owner, period="week", method="lowest_score",
                                    per_participant=1),
        SamplingRule.objects.create(name="b poison", owner=owner, period="week", method="precision",
                                    precision_points=1e-300),
        SamplingRule.objects.create(name="c last", owner=owner, period="week", method="random", per_participant=1),
    ]
    return made


def test_a_rule_that_raises_is_marked_and_the_rules_after_it_move_their_calls(poison_between):
    first, poison, last = poison_between
    runs = sampling.sampling_rules_apply()
    assert [(run.rule.name, run.moved) for run in runs] == [("a first", 2), ("b poison", 0), ("c last", 2)]
    assert "stopped: OverflowError" in str(runs[1])
    assert Transcription.objects.filter(group="PENDING_REVIEW").count() == 4
    poison.refresh_from_db()
    assert poison.active and poison.job_failures == 1 and "OverflowError" in poison.job_error
    assert poison.job_retry_at > timezone.now()

    # Backed off: the next runs leave it alone until its time, then try it again, up to the limit.
    assert [run.rule.name for run in sampling.sampling_rules_apply()] == ["a first", "c last"]
    for _ in range(jobs.JOB_MAX_ATTEMPTS - 1):
        sampling.sampling_rules_apply(now=SamplingRule.objects.get(pk=poison.pk).job_retry_at)
    poison.refresh_from_db()
    assert not poison.active and poison.job_error.startswith(f"Gave up after {jobs.JOB_MAX_ATTEMPTS} failed")


def test_the_scheduled_job_reports_the_failure_and_finishes(poison_between):
    result = tasks.apply_sampling_rules()
    assert "'b poison'" in result and "OverflowError" in result and "'c last'" in result


def test_its_dry_run_says_why_instead_of_a_500_and_managers_see_the_failure(client, poison_between):
    _, poison, _ = poison_between
    client.force_login(poison.owner)
    response = client.post(reverse("admin:qa_samplingrule_changelist"),
                           {"action": "dry_run", "_selected_action": [poison.pk]}, follow=True)
    assert response.status_code == 200 and "OverflowError" in response.content.decode()
    assert SamplingRule.objects.get(pk=poison.pk).job_failures is None  # a dry run records nothing

    sampling.sampling_rules_apply()
    assert "OverflowError" in client.get(reverse("admin:qa_samplingrule_changelist")).content.decode()
    # Putting it right starts it afresh.
    response = client.post(reverse("admin:qa_samplingrule_change", args=[poison.pk]), {
        "name": "b poison", "active": "on", "period": "week", "method": "precision", "precision_points": "5"})
    assert response.status_code == 302
    poison.refresh_from_db()
    assert (poison.job_error, poison.job_failures, poison.job_retry_at) == ("", None, None)
