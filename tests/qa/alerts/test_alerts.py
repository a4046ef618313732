"""Alerts: rules, events fired once, delivery by e-mail (a real SMTP server) and a signed webhook, with retries."""

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from qa.alerts import services as alerts
from qa.alerts import tasks as alert_tasks
from qa.alerts.models import Alert, AlertCondition, AlertDelivery, AlertRule
from qa.insights import analytics
from qa.insights import tasks as insight_tasks
from qa.mirror.models import Participant, Transcription
from qa.reviews import queues
from syncer import tasks
from tests import builders
from tests.builders import person
from tests.qa.insights.conftest import review

pytestmark = pytest.mark.django_db
Kind, State = AlertRule.Kind, AlertDelivery.State
SECRET = "alert-webhook-secret-for-tests"


@pytest.fixture
def manager():
    return person("max", "QA manager", email="max@example.com")


def rule(kind, manager=None, **fields):
    made = AlertRule.objects.create(name=f"{kind} rule", kind=kind, **fields)
    if manager:
        made.users.add(manager)
    return made


def calls_for(participant, scores, *, critical=(), start=None):
    """Scored calls of one participant, oldest first, an hour apart, ending just before now."""
    start = start or timezone.now() - timedelta(hours=len(scores) + 1)
    calls = []
    for n, score in enumerate(scores):
        call = builders.transcription_payload(participant=participant, name=f"call {n}",
                                              created_at=(start + timedelta(hours=n)).isoformat())
        call["details"]["evaluation"]["score"] = score
        call["details"]["evaluation"]["critical_fail_triggered"] = n in critical
        calls.append(call)
    return calls


# --- a critical fail, through real pulls -----------------------------------------------------------------


def test_a_critical_fail_fires_once_across_repeated_pulls(heify, manager, django_capture_on_commit_callbacks):
    critical_rule = rule(Kind.CRITICAL_FAIL, manager)
    agent = builders.participant_payload(tag="Ann Agent")
    calls = calls_for(agent, [80, 12, 90], critical=[1])
    heify.state.load(builders.snapshot(participants=[agent], transcriptions=calls))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.pull_all()
        tasks.pull_all()  # sees the same critical call again: nothing written, nothing fired
        calls[1]["name"] = "renamed in Heify"  # written again by the next pull: still the same event
        heify.state.load(builders.snapshot(transcriptions=[calls[1]]))
        tasks.pull_all()
        assert Transcription.objects.get(name="renamed in Heify").critical_fail_triggered
    alert = Alert.objects.get()
    assert alert.rule == critical_rule and alert.event_key == f"critical:{calls[1]['transcription_id']}"
    assert alert.transcription.heify_id == calls[1]["transcription_id"] and "Ann Agent" in alert.subject
    assert [m.to for m in mail.outbox] == [["max@example.com"]] and "Critical fail" in mail.outbox[0].subject
    assert alert.deliveries.get().state == State.SENT
    # Critical calls already here when the rule was made are history, not news.
    later_rule = rule(Kind.CRITICAL_FAIL, manager)
    assert alerts.calls_stored(heify_ids=[c["transcription_id"] for c in calls]) == 0
    assert not later_rule.alerts.exists()


def test_a_heify_notification_fires_once_through_its_refresh(heify, manager, django_capture_on_commit_callbacks):
    from syncer.models import WebhookEvent

    rule(Kind.CRITICAL_FAIL, manager)
    call = calls_for(builders.participant_payload(), [5], critical=[0])[0]
    heify.state.load(builders.snapshot(transcriptions=[call]))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.poll_in_flight()  # nothing in flight here: nothing fetched, nothing fired
        assert not Alert.objects.exists()
        # Heify's notification, twice (a retry of its own): the call is fetched, the event fires once.
        for _ in range(2):
            event = WebhookEvent.objects.create(kind="success", body="{}", reported_status="IN_PROGRESS",
                                                transcription_heify_id=call["transcription_id"])
            assert tasks.process_webhook_event(event.pk) == WebhookEvent.Status.PROCESSED
    assert Alert.objects.get().event_key == f"critical:{call['transcription_id']}" and len(mail.outbox) == 1


# --- conditions that turn on ----------------------------------------------------------------------------------


def test_degradation_fires_when_the_reports_alert_turns_on_and_again_only_after_it_turned_off(load, manager):
    degradation_rule = rule(Kind.DEGRADATION, manager)
    agent = builders.participant_payload(tag="Dan Agent")
    start = timezone.now() - timedelta(days=3)
    load(participants=[agent], transcriptions=calls_for(agent, [80] * 10 + [60] * 10, start=start))
    participant = Participant.objects.get(tag="Dan Agent")

    def evaluate():
        return alerts.calls_stored(heify_ids=Transcription.objects.values_list("heify_id", flat=True))

    assert analytics.participant_report(participant)["degradation_alert"] is True
    assert evaluate() == 1 and evaluate() == 0
    alert = Alert.objects.get()
    assert alert.participant_id == participant.heify_id and "80 → 60" in alert.subject
    assert alert.link.endswith(f"/admin/qa/participant/{participant.pk}/change/")
    # Recovered: the alert turns off (nothing fires); then it degrades again: a second event.
    load(participants=[agent], transcriptions=calls_for(agent, [85] * 10, start=start + timedelta(hours=30)))
    assert analytics.participant_report(participant)["degradation_alert"] is False
    assert evaluate() == 0 and not AlertCondition.objects.get(rule=degradation_rule).active
    load(participants=[agent], transcriptions=calls_for(agent, [50] * 10, start=start + timedelta(hours=50)))
    assert analytics.participant_report(participant)["degradation_alert"] is True
    assert evaluate() == 1
    assert sorted(Alert.objects.values_list("event_key", flat=True)) == [
        f"degradation:{participant.heify_id}:1", f"degradation:{participant.heify_id}:2"]


def test_pass_rate_over_the_last_n_calls(load, manager):
    rule(Kind.PASS_RATE, manager, last_calls=5, pass_rate_below=50)
    good, poor = builders.participant_payload(tag="Good"), builders.participant_payload(tag="Poor")
    # Poor: of the last 5 only the 90 passes (20%: the 95 had a critical fail); older calls do not count.
    load(participants=[good, poor], transcriptions=[
        *calls_for(good, [90, 90, 40, 90, 90]), *calls_for(poor, [90, 90, 90, 30, 90, 20, 95, 10], critical=[6]),
    ])
    assert alerts.calls_stored(heify_ids=Transcription.objects.values_list("heify_id", flat=True)) == 1
    alert = Alert.objects.get()
    assert alert.subject == "Poor's pass rate is 20% over the last 5 calls"


def test_a_review_move_evaluates_only_the_participant_it_touched(load, manager, django_capture_on_commit_callbacks):
    rule(Kind.PASS_RATE, manager, last_calls=2, pass_rate_below=60)
    ann, bob = builders.participant_payload(tag="Ann"), builders.participant_payload(tag="Bob")
    ann_calls = calls_for(ann, [10, 20])
    ann_calls[0]["group"] = "PENDING_REVIEW"
    load(participants=[ann, bob], transcriptions=[*ann_calls, *calls_for(bob, [10, 20])])
    call = Transcription.objects.get(heify_id=ann_calls[0]["transcription_id"])
    with django_capture_on_commit_callbacks(execute=True):
        queues.transcription_claim(transcription_id=call.pk, reviewer=manager)
    # Both fail the rule, but only Ann's call moved: Bob is not looked at.
    assert list(Alert.objects.values_list("participant_id", flat=True)) == [ann["participant_id"]]
    assert not AlertCondition.objects.filter(participant_id=bob["participant_id"]).exists()


def test_a_claim_waiting_too_long_fires_once(load, manager):
    rule(Kind.CLAIM_WAITING, manager, hours=4)
    load(transcriptions=[builders.transcription_payload(group="PENDING_REVIEW", name="slow.mp3")])
    call = Transcription.objects.get()
    queues.transcription_claim(transcription_id=call.pk, reviewer=manager)
    assert alerts.claims_waiting() == 0
    later = timezone.now() + timedelta(hours=5)
    assert alerts.claims_waiting(now=later) == 1 and alerts.claims_waiting(now=later) == 0
    assert Alert.objects.get().subject == "Claim waiting over 4 h: slow.mp3 (max)"


def test_rules_explain_what_they_lack(admin_client):
    response = admin_client.post(reverse("admin:qa_alertrule_add"), {"name": "x", "kind": "pass_rate",
                                                                     "enabled": "on"})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "last_calls" in errors and "pass_rate_below" in errors
    response = admin_client.post(reverse("admin:qa_alertrule_add"), {"name": "x", "kind": "claim_waiting"})
    assert "hours" in response.context["adminform"].form.errors


def test_only_managers_see_and_set_rules(client, manager):
    client.force_login(person("ann", "Reviewer"))
    for name in ("admin:qa_alertrule_changelist", "admin:qa_alertrule_add", "admin:qa_alert_changelist"):
        assert client.get(reverse(name)).status_code == 403
    client.force_login(manager)
    assert client.get(reverse("admin:qa_alertrule_add")).status_code == 200
    assert client.get(reverse("admin:qa_alert_changelist")).status_code == 200


# --- delivery: e-mail through a real SMTP server ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append(envelope)
            return "250 Message accepted"

    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield handler
    controller.stop()


def test_alerts_are_mailed_through_smtp_to_users_and_group_members(smtp_server, manager, load,
                                                                   django_capture_on_commit_callbacks):
    team = Group.objects.create(name="Night shift")
    for name in ("nia", "ned"):
        person(name, email=f"{name}@example.com").groups.add(team)
    person("noaddress").groups.add(team)
    critical_rule = rule(Kind.CRITICAL_FAIL, manager)
    critical_rule.groups.add(team)
    with django_capture_on_commit_callbacks(execute=True):
        load(transcriptions=calls_for(builders.participant_payload(), [3], critical=[0]))
        alerts.calls_stored(heify_ids=Transcription.objects.values_list("heify_id", flat=True))
    [envelope] = smtp_server.envelopes
    assert sorted(envelope.rcpt_tos) == ["max@example.com", "ned@example.com", "nia@example.com"]
    assert "Subject: [Heify QA] Critical fail" in envelope.content.decode()
    assert Alert.objects.get().deliveries.get().state == State.SENT


# --- delivery: the signed webhook, retried --------------------------------------------------------------------


@pytest.fixture
def receiver(settings):
    """A chat tool's incoming webhook on loopback: it answers 500 `fail` times, then 200."""
    received, plan = [], {"fail": 2}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers, body))
            failing = plan["fail"] > 0
            plan["fail"] -= failing
            self.send_response(500 if failing else 200)
            self.end_headers()
            self.wfile.write(b"down" if failing else b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.ALERT_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/hook"
    settings.ALERT_WEBHOOK_SECRET = SECRET
    settings.ALERT_RETRY_SECONDS = 60
    yield received, plan
    server.shutdown()
    server.server_close()


def test_a_failing_webhook_is_retried_with_backoff_then_succeeds_signed(receiver, load,
                                                                        django_capture_on_commit_callbacks):
    received, _ = receiver
    rule(Kind.CRITICAL_FAIL)  # no recipients: the webhook only
    with django_capture_on_commit_callbacks(execute=True):
        load(transcriptions=calls_for(builders.participant_payload(tag="Wes"), [3], critical=[0]))
        alerts.calls_stored(heify_ids=Transcription.objects.values_list("heify_id", flat=True))
    delivery = AlertDelivery.objects.get()
    assert (delivery.channel, delivery.state, delivery.attempts) == ("webhook", State.PENDING, 1)
    assert "HTTP Error 500" in delivery.last_error
    first_retry = delivery.next_attempt_at
    assert alerts.deliveries_due(now=first_retry - timedelta(seconds=1)) == {}  # not before its time
    assert alerts.deliveries_due(now=first_retry) == {State.PENDING: 1}
    delivery.refresh_from_db()
    assert delivery.next_attempt_at - first_retry == timedelta(seconds=120)  # twice as long
    assert alerts.deliveries_due(now=delivery.next_attempt_at) == {State.SENT: 1}
    assert alerts.deliveries_due(now=delivery.next_attempt_at + timedelta(days=1)) == {}  # never twice
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == (State.SENT, 3, "")
    assert len(received) == 3
    headers, body = received[-1]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers[alerts.SIGNATURE_HEADER], expected)
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["text"].startswith("*Critical fail") and payload["alert"]["kind"] == "critical_fail"


def test_a_webhook_that_keeps_failing_is_given_up(receiver, settings, load):
    _, plan = receiver
    plan["fail"] = 99
    settings.ALERT_MAX_ATTEMPTS = 2
    rule(Kind.CRITICAL_FAIL)
    load(transcriptions=calls_for(builders.participant_payload(), [3], critical=[0]))
    alerts.calls_stored(heify_ids=Transcription.objects.values_list("heify_id", flat=True))
    far = timezone.now() + timedelta(days=1)
    assert alerts.deliveries_due(now=far) == {State.PENDING: 1}
    assert alerts.deliveries_due(now=far + timedelta(days=1)) == {State.FAILED: 1}
    assert AlertDelivery.objects.get().last_error.startswith("gave up after 2 attempts")


def test_a_webhook_url_without_a_secret_stops_the_start():
    env = {**os.environ, "ALERT_WEBHOOK_URL": "https://chat.example.com/hook", "ALERT_WEBHOOK_SECRET": "",
           "DJANGO_SETTINGS_MODULE": "heifyadmin.settings"}
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "ALERT_WEBHOOK_SECRET" in done.stderr


def test_the_schedules_include_the_alert_jobs_and_the_monday_summary(db):
    from django_q.models import Schedule

    for _ in range(2):
        alert_tasks.schedules_ensure()
        insight_tasks.schedules_ensure()
    names = set(Schedule.objects.values_list("name", flat=True))
    assert {"alerts deliveries due", "alerts claims waiting", "weekly summary"} <= names
    weekly = Schedule.objects.get(name="weekly summary")
    assert weekly.schedule_type == Schedule.WEEKLY and weekly.next_run.weekday() == 0
    assert insight_tasks.next_monday(datetime(2026, 12, 7, 8, tzinfo=UTC), 7) == datetime(2026, 12, 14, 7, tzinfo=UTC)
    assert insight_tasks.next_monday(datetime(2026, 12, 7, 6, tzinfo=UTC), 7) == datetime(2026, 12, 7, 7, tzinfo=UTC)


# --- the score a rule watches ---------------------------------------------------------------------------------


def scored_calls(agent, card, count):
    """`count` calls of `agent` scored by `card` (Greeting 20, Issue resolved 80, No offensive language strict),
    80 each by the AI (Greeting failed), waiting for review."""
    calls = calls_for(agent, [80] * count)
    for call in calls:
        call.update(evaluator_id=card["evaluator_id"], group="PENDING_REVIEW")
    return calls


def reviewed_and_archived(heify_id, manager, results):
    call = Transcription.objects.get(heify_id=heify_id)
    queues.transcription_claim(transcription_id=call.pk, reviewer=manager)
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=manager, verdicts=[
        queues.Verdict(name, passed=passed, reason="heard it") for name, passed in results.items()])
    queues.transcription_archive(transcription_id=call.pk, acting_user=manager, agree_rest=True)


def test_rules_on_the_reviewed_score_fire_on_the_reviewers_results(load, manager, django_capture_on_commit_callbacks):
    card, agent = builders.evaluator_payload(tag="Card"), builders.participant_payload(tag="Rosa")
    on_ai = [rule(Kind.PASS_RATE, manager, last_calls=4, pass_rate_below=90), rule(Kind.CRITICAL_FAIL, manager)]
    on_record = [rule(Kind.PASS_RATE, manager, last_calls=4, pass_rate_below=90, score="reviewed"),
                 rule(Kind.CRITICAL_FAIL, manager, score="reviewed")]
    calls = scored_calls(agent, card, 4)
    load(evaluators=[card], participants=[agent], transcriptions=calls)
    assert alerts.calls_stored(heify_ids=[c["transcription_id"] for c in calls]) == 0  # all pass, none critical
    # Archiving a reviewed call is a review move: its participant is evaluated, on both scores.
    with django_capture_on_commit_callbacks(execute=True):
        reviewed_and_archived(calls[0]["transcription_id"], manager, {"Issue resolved": False})  # 0 of record
        reviewed_and_archived(calls[1]["transcription_id"], manager, {"No offensive language": False})  # critical
    assert not Alert.objects.filter(rule__in=on_ai).exists()
    rate, critical = (Alert.objects.get(rule=r) for r in on_record)
    assert rate.subject == "Rosa's pass rate (reviewed score) is 50% over the last 4 calls"
    assert critical.event_key == f"critical:{calls[1]['transcription_id']}"
    assert critical.subject.startswith("Critical fail (reviewed score): call 1")
    assert "was judged a critical fail by its reviewer (score 80" in critical.body
    # The AI's view of the same calls.
    assert analytics.pass_rate_of_newest(agent["participant_id"], 4) == 100
    assert analytics.pass_rate_of_newest(agent["participant_id"], 4, score="reviewed") == 50


def test_degradation_on_the_reviewed_score(load, manager):
    card, agent = builders.evaluator_payload(tag="Card"), builders.participant_payload(tag="Dan")
    on_ai, on_record = rule(Kind.DEGRADATION, manager), rule(Kind.DEGRADATION, manager, score="reviewed")
    calls = scored_calls(agent, card, 20)
    load(evaluators=[card], participants=[agent], transcriptions=calls)
    for call in calls[-10:]:  # the newest ten were not resolved after all: 0 each
        review(call["transcription_id"], {"Issue resolved": False})
    trend, alert_on = analytics.participant_trend(agent["participant_id"], score="reviewed")
    assert (trend["direction"], trend["previous_avg"], trend["recent_avg"], alert_on) == ("declining", 80, 0, True)
    assert analytics.participant_trend(agent["participant_id"])[0]["direction"] == "stable"
    assert alerts.calls_stored(heify_ids=[c["transcription_id"] for c in calls]) == 1
    alert = Alert.objects.get()
    assert alert.rule == on_record and alert.subject == "Dan is degrading (reviewed score): 80 → 0"
    assert not on_ai.alerts.exists()


def test_a_rule_watches_the_ai_score_unless_told(admin_client):
    response = admin_client.post(reverse("admin:qa_alertrule_add"), {
        "name": "pass", "kind": "pass_rate", "enabled": "on", "last_calls": "5", "pass_rate_below": "50"})
    assert response.status_code == 302 and AlertRule.objects.get().score == "ai"
    response = admin_client.post(reverse("admin:qa_alertrule_add"), {
        "name": "pass of record", "kind": "pass_rate", "score": "reviewed", "enabled": "on", "last_calls": "5",
        "pass_rate_below": "50"})
    assert response.status_code == 302 and AlertRule.objects.get(name="pass of record").score == "reviewed"
    page = admin_client.get(reverse("admin:qa_alertrule_changelist")).content.decode()
    assert "reviewed score" in page and "AI score" in page
    response = admin_client.post(reverse("admin:qa_alertrule_add"), {
        "name": "x", "kind": "pass_rate", "score": "human", "enabled": "on", "last_calls": "5",
        "pass_rate_below": "50"})
    assert "score" in response.context["adminform"].form.errors
