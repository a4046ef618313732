"""The insights in Spanish (issue 25): the dashboard, the team overview, the exports' headers and the weekly
summary read in the reader's language; the numbers the charts read stay machine numbers."""

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from qa.insights import weekly_summary
from qa.mirror.models import Participant
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db
ES = {"HTTP_ACCEPT_LANGUAGE": "es"}


def scored(participant, score, day, *, critical=False):
    payload = builders.transcription_payload(participant=participant, created_at=f"2026-03-{day:02d}T10:00:00+00:00")
    payload["details"]["evaluation"].update(score=score, critical_fail_triggered=critical)
    return payload


@pytest.fixture
def team_data(load):
    steady, sinking = (builders.participant_payload(tag=tag) for tag in ("Steady", "Sinking"))
    calls = [scored(steady, 80.5, 1 + n % 20) for n in range(20)]
    # Sinking: ten calls at 90, then the ten newest at 60: declining, and a degradation alert.
    calls += [scored(sinking, 90, 1 + n) for n in range(10)] + [scored(sinking, 60, 11 + n, critical=n == 0)
                                                                for n in range(10)]
    load(participants=[steady, sinking], transcriptions=calls)


def visible(html: str) -> str:
    """The page's text without its tags, scripts and JSON (what a person reads)."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_dashboard_reads_in_spanish_and_its_charts_keep_machine_numbers(admin_client, team_data):
    sinking = Participant.objects.get(tag="Sinking")
    url = reverse("admin:qa_participant_change", args=[sinking.pk]) + "?as_of=2026-03-31"
    english = admin_client.get(url).content.decode()
    spanish = admin_client.get(url, **ES).content.decode()
    text = visible(spanish)
    for words in ("Analítica", "Tasa de cumplimiento", "Tendencia", "en descenso", "Deterioro", "Fallos críticos",
                  "Criterios que más fallan", "Exportar CSV", "Resumen del equipo", "Puntuación media"):
        assert words in text, words
    for leftover in ("Pass rate", "Average score", "Critical fails", "declining", "Degradation", "Export CSV",
                     "Team overview", "newest first", "Score distribution"):
        assert leftover not in text, leftover
    chart = re.compile(r'<script id="qa-chart-data" type="application/json">(.*?)</script>', re.S)
    assert json.loads(chart.search(spanish)[1]) == json.loads(chart.search(english)[1])  # 75.0, never "75,0"
    assert json.loads(chart.search(spanish)[1])["timeline"]


def test_the_team_overview_reads_in_spanish_with_spanish_decimals(admin_client, team_data):
    url = reverse("admin:qa_participant_team")
    text = visible(admin_client.get(url, **ES).content.decode())
    for words in ("Resumen del equipo", "Participante", "Tasa de cumplimiento %", "Tendencia", "empeorando",
                  "en descenso", "estable", "Revisiones sin leer", "Exportar Excel"):
        assert words in text, words
    assert "80,5" in text and "80.5" not in text  # Steady's average, as Spanish writes it
    for leftover in ("Team overview", "degrading", "declining", "Pass rate", "Figures on", "Unacknowledged"):
        assert leftover not in text, leftover
    assert "80.5" in visible(admin_client.get(url).content.decode())  # English as before


def rows_of(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_exports_are_headed_in_the_language_of_whoever_asked(admin_client, team_data):
    response = admin_client.get(reverse("admin:qa_participant_team_export", args=["csv"]), **ES)
    translation.activate("en")  # the file is written after the view returned, on whatever thread: still Spanish
    try:
        rows = rows_of(response)
    finally:
        translation.deactivate()
    assert rows[0][:3] == ["Participante", "ID del participante", "Llamadas"]
    assert "Tendencia" in rows[0] and "Alerta de deterioro" in rows[0]
    sinking = next(row for row in rows if row[0] == "Sinking")
    assert "en descenso" in sinking and "Sí" in sinking  # the trend and the degradation alert

    pk = Participant.objects.get(tag="Sinking").pk
    report = rows_of(admin_client.get(
        reverse("admin:qa_participant_report_export", args=[pk, "csv"]) + "?as_of=2026-03-31", **ES))
    assert report[0][:4] == ["Llamada", "ID de Heify", "Fecha", "Puntuación"] and report[0][-1] == "Página de revisión"
    assert {row[report[0].index("Fallo crítico")] for row in report[1:]} == {"Sí", "No"}
    english = rows_of(admin_client.get(reverse("admin:qa_participant_team_export", args=["csv"])))
    assert english[0][:3] == ["Participant", "Participant ID", "Calls"]


MONDAY = date(2026, 11, 23)


def test_the_weekly_summary_goes_in_each_recipients_language(load, monkeypatch):
    ann = builders.participant_payload(tag="Ann")
    week = [builders.transcription_payload(participant=ann, created_at=f"{MONDAY + timedelta(days=n)}T10:00:00+00:00")
            for n in (1, 2)]
    for payload, score in zip(week, (40.4, 80), strict=True):
        payload["details"]["evaluation"]["score"] = score
    load(participants=[ann], transcriptions=week)
    person("max", "QA manager", email="max@example.com")
    person("mia", "QA manager", email="mia@example.com")
    # Mia chose Spanish (qa.preferences keeps the choice; here, its answer).
    monkeypatch.setattr(weekly_summary, "language_of", lambda user: "es" if user.username == "mia" else "en")

    assert weekly_summary.weekly_summaries_send(today=MONDAY + timedelta(days=7)) == 2
    sent = {message.to[0]: message for message in mail.outbox}
    spanish, english = sent["mia@example.com"], sent["max@example.com"]
    assert spanish.subject == "[Heify QA] Semana del 2026-11-23: 2 llamadas, tasa de cumplimiento 50%"
    assert english.subject == "[Heify QA] Week of 2026-11-23: 2 calls, pass rate 50%"
    assert "EL EQUIPO (sobre la" in spanish.body and "Hola, mia:" in spanish.body
    assert "60,2" in spanish.body and "60.2" in english.body  # the average, as each language writes it
    assert "23 nov 2026" in spanish.body.lower() and "THE TEAM" not in spanish.body
    [(html, _)] = spanish.alternatives
    assert '<html lang="es">' in html and "Agentes que más cambiaron" in html and "Semana anterior" in html
    assert "THE TEAM" in english.body and "Hello mia" not in english.body
