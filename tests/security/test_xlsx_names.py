"""Security regression: whatever a participant's tag holds (control characters, a sheet name's forbidden
characters, any length), its report's .xlsx opens, with a sheet name Excel and openpyxl accept."""

import io
import re

import openpyxl
import pytest
from django.urls import reverse

from qa import spreadsheets
from qa.mirror.models import Participant
from tests import builders

pytestmark = pytest.mark.django_db

TAGS = ["Ann\x01Bell", "Line\r\nbreak\tand\x0b\x1f\x7f", "[Team]: a/b\\c*d?e", "'quoted'", "x" * 200,
        "\x01\x02\x03"]  # (a lone surrogate is refused before it is stored: qa.mirror.rules)


@pytest.mark.parametrize("tag", TAGS, ids=range(len(TAGS)))
def test_a_participants_report_opens_whatever_its_tag_holds(admin_client, load, tag):
    agent = builders.participant_payload(tag="placeholder")
    load(participants=[agent], transcriptions=[builders.transcription_payload(participant=agent,
                                                                              name=f"call of {tag}")])
    Participant.objects.filter(heify_id=agent["participant_id"]).update(tag=tag)  # as a pull may have stored it
    pk = Participant.objects.get().pk
    response = admin_client.get(reverse("admin:qa_participant_report_export", args=[pk, "xlsx"]) + "?as_of=2026-03-31")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    title = book.active.title
    assert title and len(title) <= 31 and not re.search(r"[\x00-\x1f\x7f\[\]:*?/\\]", title)
    assert not title.startswith("'") and not title.endswith("'")
    assert book.active.max_row == 2


def test_every_cell_is_text_excel_holds():
    table = spreadsheets.Table(title="t", headers=["a"], rows=[["x" * 40_000], ["bad\x01\ud800text"]])
    book = openpyxl.load_workbook(io.BytesIO(b"".join(spreadsheets.xlsx_chunks(table))))
    first, second = (row[0] for row in book.active.iter_rows(min_row=2, values_only=True))
    assert len(first) == spreadsheets.XLSX_CELL_MAX_LENGTH and second == "badtext"
