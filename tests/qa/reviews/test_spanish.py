"""The review domain in Spanish (issue 25): the queue, the review page, its script's texts, the refusals, the
Disputes queue, the agent's page and the dispute e-mails, each in its reader's language. English stays as it was
(the other tests of this folder read it); here, key words only, and no English left of what was marked."""

import pytest
from django.core import mail
from django.urls import reverse

from qa.alerts.models import Alert
from qa.mirror.models import Transcription
from qa.reviews import queues
from tests.builders import person
from tests.qa.reviews.test_disputes import _commits, raise_, resolve, world  # noqa: F401 (the fixtures)
from tests.qa.reviews.test_review_page import load_scale_call, review_url

pytestmark = pytest.mark.django_db
ES = {"HTTP_ACCEPT_LANGUAGE": "es"}


@pytest.fixture
def ann():
    return person("ann", "Reviewer")


@pytest.fixture
def call(load):
    load_scale_call(load)
    return Transcription.objects.get()


def test_the_pending_review_queue_reads_in_spanish(client, ann, call):
    client.force_login(ann)
    page = client.get(reverse("admin:qa_reviewitem_changelist"), **ES).content.decode()
    for spanish in ("Cola: Pendiente de revisión", "Mis revisiones", "Sin revisor asignado", "Exportar CSV",
                    "Puntuación de la IA", "En espera"):
        assert spanish in page, spanish
    for english in ("Pending review queue", "My reviews", "Nobody holds", "Export CSV", "Waiting"):
        assert english not in page, english


def test_the_review_page_reads_in_spanish_and_loads_the_script_catalogue(client, ann, call):
    client.force_login(ann)
    page = client.get(review_url(call), **ES).content.decode()
    for spanish in ("Revisar una llamada", "Iniciar revisión", "Cola:", "pendiente de revisión", "Conversación",
                    "Evaluación", "Criterio", "Resultado de la IA", "Historial", "Cumple"):
        assert spanish in page, spanish
    for english in ("Start review", "Queue:", "Conversation", "AI result", "History", "Nothing yet."):
        assert english not in page, english
    assert reverse("javascript-catalog") in page  # before review.js
    assert page.index(reverse("javascript-catalog")) < page.index("qa/review")

    client.post(review_url(call, "claim"), **ES)
    page = client.get(review_url(call), **ES).content.decode()
    for spanish in ("Archivar y siguiente", "Su resultado", "Sin decidir", "motivo (Intro guarda)"):
        assert spanish in page, spanish
    assert "Archive and next" not in page


def test_a_refused_verdict_is_said_in_spanish_and_its_script_texts_come_from_the_catalogue(client, ann, call):
    client.force_login(ann)
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    answer = client.post(review_url(call, "verdict"), {"criterion": "Greeting", "result": "fail"},
                         HTTP_ACCEPT="application/json", **ES)
    assert answer.status_code == 400
    assert answer.json()["message"] == ("Greeting: no se ha guardado — Indique por qué su resultado difiere del de "
                                        "la IA.")
    saved = client.post(review_url(call, "verdict"), {"criterion": "Greeting", "result": "agree"},
                        HTTP_ACCEPT="application/json", **ES).json()
    assert saved["message"].startswith("Greeting: guardado — Cumple, como la IA")
    catalogue = client.get(reverse("javascript-catalog"), **ES)
    assert catalogue.status_code == 200
    assert "Sin decidir: %(criteria)s." in catalogue.content.decode()
    english = client.get(reverse("javascript-catalog"))
    assert "Sin decidir" not in english.content.decode()


def test_the_disputes_queue_and_a_refusal_read_in_spanish(client, world):  # noqa: F811 (the fixture)
    dispute = raise_(world)
    client.force_login(world["max"])
    page = client.get(reverse("admin:qa_dispute_changelist"), **ES).content.decode()
    for spanish in ("Disputas", "Abiertas (1)", "Motivo del agente", "Resolver", "aceptada", "rechazada"):
        assert spanish in page, spanish
    assert "Agent's reason" not in page
    page = client.post(reverse("admin:qa_dispute_resolve", args=[dispute.pk]), {"outcome": "rejected"},
                       follow=True, **ES).content.decode()
    assert f"Disputa n.º {dispute.pk}" in page


def test_the_agents_page_reads_in_spanish(client, world):  # noqa: F811 (the fixture)
    client.force_login(world["ana"])
    page = client.get(reverse("admin:agent_page"), **ES).content.decode()
    for spanish in ("Mis evaluaciones", "Mi panel", "Mis llamadas", "Confirmar lectura de esta revisión",
                    "Disputar un resultado"):
        assert spanish in page, spanish
    assert "My calls" not in page


def test_a_dispute_e_mail_goes_out_in_each_recipients_language(world, monkeypatch):  # noqa: F811
    # mia and ana chose Spanish on their page (qa.preferences); everyone else never chose: the site's English.
    from django.contrib.auth.models import User

    from qa.preferences import preference_set_language

    for user in User.objects.filter(username__in=("mia", "ana")):
        preference_set_language(user=user, language="es")
    dispute = raise_(world)
    english, spanish = Alert.objects.get(event_key=f"dispute:{dispute.pk}:raised"), \
        Alert.objects.get(event_key=f"dispute:{dispute.pk}:raised:es")
    assert english.subject.startswith(f"Dispute #{dispute.pk}: ana disputes Resolved")
    assert spanish.subject.startswith(f"Disputa n.º {dispute.pk}: ana disputa Resolved")
    assert "Un responsable de calidad que no revisó la llamada" in spanish.body
    assert set(spanish.recipients.values_list("username", flat=True)) == {"mia"}
    assert "mia" not in set(english.recipients.values_list("username", flat=True))
    sent = {tuple(message.to): message.subject for message in mail.outbox}
    assert sent[("mia@example.com",)].startswith("[Heify QA] Disputa n.º")

    resolve(dispute_id=dispute.pk, outcome="rejected", reason="Escuchada de nuevo: no se resolvió.",
            acting_user=world["max"])
    told = Alert.objects.get(event_key=f"dispute:{dispute.pk}:resolved")
    assert told.subject == f"Su disputa n.º {dispute.pk} sobre Resolved: rechazada"
    assert "El resultado oficial se mantiene." in told.body


def test_scores_on_the_lists_are_written_the_readers_way():
    """A list's 86.7 reads 86,7 in Spanish (issue 25: numbers as people write them); a whole score stays whole."""
    from django.utils import translation

    from qa.reviews.admin.transcriptions import format_points, format_score

    with translation.override("es"):
        assert (format_score(86.66), format_score(76.0), format_points(12.5, 20)) == ("86,7", "76", "12,5–20")
    with translation.override("en"):
        assert (format_score(86.66), format_score(76.0), format_points(12.5, 20)) == ("86.7", "76", "12.5–20")
