"""The date pickers of our screens take and show the reader's order (issue 25): day first in Spanish, ISO in English,
never the browser's US month first; links and the API stay ISO."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from qa import date_inputs
from qa.mirror.models import Participant
from tests import builders

DAY = datetime.date(2026, 3, 5)


def test_a_day_is_read_in_the_readers_formats_and_iso():
    with translation.override("es"):
        assert date_inputs.parse("05/03/2026") == DAY
        assert date_inputs.parse("2026-03-05") == DAY  # a link written in ISO still works
        assert date_inputs.parse("  ") is None
        with pytest.raises(ValidationError, match="DD/MM/AAAA"):
            date_inputs.parse("03/25/2026")  # the US order is no date in Spanish
    with translation.override("en"):
        assert date_inputs.parse("2026-03-05") == DAY
        assert date_inputs.parse("05/03/2026") == DAY  # day first, never month first
        with pytest.raises(ValidationError, match="YYYY-MM-DD"):
            date_inputs.parse("March 5")


def test_the_picker_shows_the_day_in_the_readers_order_for_the_admins_calendar():
    with translation.override("es"):
        html = date_inputs.picker("as_of", DAY)
        assert 'value="05/03/2026"' in html and 'class="vDateField"' in html and 'placeholder="dd/mm/aaaa"' in html
        assert 'type="text"' in html and 'type="date"' not in html
    with translation.override("en"):
        html = date_inputs.picker("as_of", DAY, element_id="qa-from")
        assert 'value="2026-03-05"' in html and 'id="qa-from"' in html and 'placeholder="yyyy-mm-dd"' in html


@pytest.mark.django_db
def test_the_team_overview_takes_a_spanish_day_and_keeps_its_links_iso(admin_client, load):
    payload = builders.participant_payload(tag="Ann")
    load(participants=[payload], transcriptions=[builders.transcription_payload(participant=payload)])
    page = admin_client.get(reverse("admin:qa_participant_team"), {"as_of": "05/03/2026"}, HTTP_ACCEPT_LANGUAGE="es")
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="as-of-error"' not in html
    assert "as_of=2026-03-05" in html  # the columns' sort links carry the day in ISO
    participant = Participant.objects.get(tag="Ann")
    page = admin_client.get(reverse("admin:qa_participant_change", args=[participant.pk]), {"as_of": "05/03/2026"},
                            HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'name="as_of"' in page and 'value="05/03/2026"' in page and "DateTimeShortcuts.js" in page
    assert "as_of=2026-03-05" in page  # the exports' and the calls' links stay ISO
    english = admin_client.get(reverse("admin:qa_participant_change", args=[participant.pk]),
                               {"as_of": "2026-03-05"}).content.decode()
    assert 'value="2026-03-05"' in english and 'type="date"' not in english


@pytest.mark.django_db
def test_the_agreement_page_reads_its_days_in_the_readers_order(admin_client, load):
    load(evaluators=[builders.evaluator_payload()])
    html = admin_client.get(reverse("admin:qa_evaluatoragreement_changelist"),
                            {"date_from": "01/03/2026", "date_to": "31/03/2026"}, HTTP_ACCEPT_LANGUAGE="es").text
    assert 'value="01/03/2026"' in html and 'value="31/03/2026"' in html and "DateTimeShortcuts.js" in html
