"""The alert jobs take their items one by one (issue 20, section 3): a delivery or a rule that fails is marked
with its reason, retried with back-off up to a limit and shown to managers; the others go on."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from qa import jobs
from qa.alerts import services as alerts
from qa.alerts.models import Alert, AlertDelivery, AlertRule
from qa.mirror.models import Transcription
from qa.reviews import queues
from tests import builders
from tests.qa.alerts.test_alerts import calls_for

pytestmark = pytest.mark.django_db
Kind, State = AlertRule.Kind, AlertDelivery.State


def person(name, email, role="QA manager"):
    user = User.objects.create_user(name, email=email, password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_a_tag_with_cr_lf_makes_a_one_line_subject_and_the_alert_is_sent(load, django_capture_on_commit_callbacks):
    AlertRule.objects.create(name="critical", kind=Kind.CRITICAL_FAIL).users.add(person("max", "max@example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        agent = builders.participant_payload(tag="Ann\r\nBcc: eve@example.com\x0bX")
        load(participants=[agent], transcriptions=calls_for(agent, [3], critical=[0]))
        alerts.calls_stored(heify_ids=Transcription.objects.values_list("heify_id", flat=True))
    [message] = mail.outbox
    assert message.subject.endswith("(Ann Bcc: eve@example.com X)") and message.to == ["max@example.com"]
    assert not any(c in message.subject for c in "\r\n\x0b")
    assert Alert.objects.get().subject.endswith("(Ann Bcc: eve@example.com X)")
    assert AlertDelivery.objects.get().state == State.SENT


def test_a_delivery_that_raises_is_retried_and_the_others_are_sent(load, settings):
    """A recipient whose address was stored with a newline (not through a form) makes every e-mail of its rule
    raise; deliveries_due sends the others, and backs that one off until it gives up."""
    settings.ALERT_MAX_ATTEMPTS = 2
    good = AlertRule.objects.create(name="good", kind=Kind.CRITICAL_FAIL)
    good.users.add(person("max", "max@example.com"))
    poison = AlertRule.objects.create(name="poison", kind=Kind.CRITICAL_FAIL)
    poison.users.add(person("pat", "pat@example.com"))
    User.objects.filter(username="pat").update(email="pat@example.com\nBcc: eve@example.com")
    agents = [builders.participant_payload(tag=tag) for tag in ("Ann", "Bob", "Cy")]
    load(participants=agents, transcriptions=[c for a in agents for c in calls_for(a, [3], critical=[0])])
    alerts.calls_stored(heify_ids=Transcription.objects.values_list("heify_id", flat=True))  # nothing sent yet
    assert AlertDelivery.objects.count() == 6

    assert alerts.deliveries_due() == {State.SENT: 3, State.PENDING: 3}
    assert sorted(m.to[0] for m in mail.outbox) == ["max@example.com"] * 3
    for delivery in AlertDelivery.objects.filter(alert__rule=poison):
        assert delivery.state == State.PENDING and delivery.attempts == 1
        assert "newline" in delivery.last_error and delivery.next_attempt_at > timezone.now()
    later = timezone.now() + timedelta(days=1)
    assert alerts.deliveries_due(now=later) == {State.FAILED: 3}
    assert all(d.last_error.startswith("gave up after 2 attempts")
               for d in AlertDelivery.objects.filter(alert__rule=poison))


def claimed_calls(manager, count):
    load_calls = [builders.transcription_payload(group="PENDING_REVIEW", name=f"call {n}") for n in range(count)]
    from syncer import mirror

    mirror.load_snapshot(builders.snapshot(transcriptions=load_calls))
    for call in Transcription.objects.all():
        queues.transcription_claim(transcription_id=call.pk, reviewer=manager)


def test_a_claim_rule_that_raises_is_marked_and_the_rules_after_it_fire(admin_client):
    manager = person("max", "max@example.com")
    claimed_calls(manager, 1)
    first = AlertRule.objects.create(name="a first", kind=Kind.CLAIM_WAITING, hours=1)
    poison = AlertRule.objects.create(name="b poison", kind=Kind.CLAIM_WAITING, hours=1e308)  # stored, not a form
    last = AlertRule.objects.create(name="c last", kind=Kind.CLAIM_WAITING, hours=2)
    later = timezone.now() + timedelta(hours=3)
    assert alerts.claims_waiting(now=later) == 2
    assert set(Alert.objects.values_list("rule", flat=True)) == {first.pk, last.pk}
    poison.refresh_from_db()
    assert poison.enabled and poison.job_failures == 1 and poison.job_retry_at > later
    assert "OverflowError" in poison.job_error
    assert alerts.claims_waiting(now=later) == 0  # backed off: not tried again before its time

    for _ in range(jobs.JOB_MAX_ATTEMPTS - 1):
        alerts.claims_waiting(now=AlertRule.objects.get(pk=poison.pk).job_retry_at)
    poison.refresh_from_db()
    assert not poison.enabled and poison.job_error.startswith(f"Gave up after {jobs.JOB_MAX_ATTEMPTS} failed")
    page = admin_client.get(reverse("admin:qa_alertrule_changelist")).content.decode()
    assert "Gave up after" in page

    # A manager who puts it right starts it afresh.
    response = admin_client.post(reverse("admin:qa_alertrule_change", args=[poison.pk]), {
        "name": "b poison", "kind": "claim_waiting", "enabled": "on", "hours": "1"})
    assert response.status_code == 302
    poison.refresh_from_db()
    assert (poison.job_error, poison.job_failures, poison.job_retry_at) == ("", None, None)


def test_an_evaluation_rule_that_raises_never_stops_the_others(load):
    """A pass-rate rule with no rate (stored, not through a form) raises on every participant; the critical-fail
    rule evaluated with it still fires for each, and the pull's evaluation finishes."""
    manager = person("max", "max@example.com")
    poison = AlertRule.objects.create(name="poison", kind=Kind.PASS_RATE, last_calls=1, pass_rate_below=None)
    critical = AlertRule.objects.create(name="critical", kind=Kind.CRITICAL_FAIL)
    critical.users.add(manager)
    agents = [builders.participant_payload(tag=tag) for tag in ("Ann", "Bob")]
    load(participants=agents, transcriptions=[c for a in agents for c in calls_for(a, [3], critical=[0])])
    assert alerts.calls_stored(heify_ids=Transcription.objects.values_list("heify_id", flat=True)) == 2
    assert Alert.objects.filter(rule=critical).count() == 2
    poison.refresh_from_db()
    assert poison.job_failures == 1 and "TypeError" in poison.job_error


class RolledBack(Exception):
    pass


@pytest.fixture
def gave_up(load):
    """An alert whose e-mail gave up."""
    manager = person("max", "max@example.com")
    AlertRule.objects.create(name="critical", kind=Kind.CRITICAL_FAIL).users.add(manager)
    load(transcriptions=calls_for(builders.participant_payload(), [3], critical=[0]))
    alerts.calls_stored(heify_ids=Transcription.objects.values_list("heify_id", flat=True))  # queued on commit
    AlertDelivery.objects.update(state=State.FAILED, attempts=5, last_error="gave up after 5 attempts: down")
    return Alert.objects.get(), manager


def retry(client, alert):
    return client.post(reverse("admin:qa_alert_changelist"), {"action": "retry_failed", "_selected_action": [alert.pk]})


def test_a_manager_retries_the_deliveries_that_gave_up_and_they_are_sent_once_committed(
        client, gave_up, django_capture_on_commit_callbacks):
    alert, manager = gave_up
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert retry(client, alert).status_code == 302
    assert not mail.outbox and AlertDelivery.objects.get().state == State.PENDING  # nothing sent before the commit
    for job in queued:
        job()
    assert [m.to for m in mail.outbox] == [["max@example.com"]]
    assert AlertDelivery.objects.get().state == State.SENT


def test_a_retry_whose_transaction_rolls_back_enqueues_nothing(client, gave_up, django_capture_on_commit_callbacks):
    alert, manager = gave_up
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        with pytest.raises(RolledBack), transaction.atomic():
            retry(client, alert)
            raise RolledBack
    assert queued == [] and not mail.outbox
    assert AlertDelivery.objects.get().state == State.FAILED
