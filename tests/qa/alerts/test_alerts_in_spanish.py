"""Alerts in each recipient's language (issue 25): an alert is stored as a message and written, when sent, once per
language its recipients read; the admin's rules and alerts read in the reader's language."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from qa.alerts import services as alerts
from qa.alerts import texts
from qa.alerts.models import Alert, AlertRule
from qa.mirror.models import Transcription
from qa.reviews import queues
from tests import builders
from tests.builders import person
from tests.qa.alerts.test_alerts import calls_for

pytestmark = pytest.mark.django_db
Kind = AlertRule.Kind


@pytest.fixture
def readers(monkeypatch):
    """Max never chose (the site's English), Mia chose Spanish on her page (qa.preferences)."""
    from qa.preferences import preference_set_language

    mia = person("mia", "QA manager", email="mia@example.com")
    preference_set_language(user=mia, language="es")
    return person("max", "QA manager", email="max@example.com"), mia


def test_a_pass_rate_alert_goes_to_each_recipient_in_their_language(load, readers,
                                                                     django_capture_on_commit_callbacks):
    made = AlertRule.objects.create(name="Below half", kind=Kind.PASS_RATE, last_calls=5, pass_rate_below=50.5)
    made.users.add(*readers)
    poor = builders.participant_payload(tag="Poor")
    with django_capture_on_commit_callbacks(execute=True):
        load(participants=[poor], transcriptions=calls_for(poor, [90, 30, 20, 10, 5]))
        assert alerts.calls_stored(heify_ids=Transcription.objects.values_list("heify_id", flat=True)) == 1
    alert = Alert.objects.get()
    assert alert.subject == "Poor's pass rate is 20% over the last 5 calls"  # stored in the site's language
    sent = {message.to[0]: message for message in mail.outbox}
    assert sorted(sent) == ["max@example.com", "mia@example.com"]
    spanish, english = sent["mia@example.com"], sent["max@example.com"]
    assert spanish.subject == "[Heify QA] La tasa de cumplimiento de Poor es del 20% en las últimas 5 llamadas"
    assert "por debajo del 50,5%." in spanish.body and "Regla: Below half (la tasa de cumplimiento" in spanish.body
    assert english.subject == "[Heify QA] Poor's pass rate is 20% over the last 5 calls"
    assert "below 50.5%." in english.body and "Rule: Below half" in english.body


def test_a_claim_waiting_names_its_moment_in_the_readers_format(load, readers, django_capture_on_commit_callbacks):
    max_, mia = readers
    AlertRule.objects.create(name="Slow", kind=Kind.CLAIM_WAITING, hours=4).users.add(mia)
    load(transcriptions=[builders.transcription_payload(group="PENDING_REVIEW", name="slow.mp3")])
    queues.transcription_claim(transcription_id=Transcription.objects.get().pk, reviewer=max_)
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts.claims_waiting(now=timezone.now() + timedelta(hours=5)) == 1
    [message] = mail.outbox
    assert message.subject == "[Heify QA] Reclamación en espera desde hace más de 4 h: slow.mp3 (max)"
    assert "max reclamó «slow.mp3» el " in message.body and "UTC y sigue en revisión." in message.body


def test_a_message_is_written_in_the_language_asked():
    message = texts.text("%(who)s is degrading%(on_score)s: %(before)s → %(now)s", who="Dan",
                         on_score=texts.text(" (reviewed score)"), before=80.0, now=47.5)
    assert texts.render(message, "en") == "Dan is degrading (reviewed score): 80 → 47.5"
    assert texts.render(message, "es") == "Dan empeora (puntuación revisada): 80 → 47,5"
    assert texts.render(texts.text(""), "es") == ""  # not the catalogue's header


def test_the_alerts_admin_reads_in_spanish(admin_client):
    made = AlertRule.objects.create(name="Below half", kind=Kind.PASS_RATE, last_calls=5, pass_rate_below=50.5)
    subject = texts.text("%(who)s's pass rate%(on_score)s is %(rate)s%% over the last %(calls)s calls", who="Poor",
                         on_score=texts.text(""), rate=20, calls=5)
    Alert.objects.create(rule=made, event_key="pass_rate:p:1", subject=texts.render(subject, "en"), body="",
                         message={"subject": subject, "body": texts.text("")})
    alerts_page = admin_client.get(reverse("admin:qa_alert_changelist"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "La tasa de cumplimiento de Poor es del 20% en las últimas 5 llamadas" in alerts_page
    page = admin_client.get(reverse("admin:qa_alertrule_changelist"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "por debajo del 50,5% en 5 llamadas" in page and "0 usuarios, 0 grupos" in page
    assert "umbral" in page.lower() and "below 50" not in page
    form = admin_client.get(reverse("admin:qa_alertrule_add"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Vigila" in form and "Tasa de cumplimiento: se dispara cuando baja de este porcentaje." in form
