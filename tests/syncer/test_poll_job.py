"""The poll of calls Heify is still working on takes them one by one (issue 20, section 3): a call Heify will
not answer for is counted as failed with its reason, and the others are still refreshed."""

import pytest
from django.urls import reverse

from qa.mirror.models import Transcription
from syncer import tasks
from tests import builders

pytestmark = pytest.mark.django_db


def test_a_call_heify_will_not_answer_for_never_stops_the_poll(heify, load, admin_client):
    done = [builders.transcription_payload(name=f"call {n}") for n in range(3)]
    load(transcriptions=[{**call, "status": "IN_PROGRESS", "details": {}} for call in done])
    heify.state.load(builders.snapshot(transcriptions=done))
    # Stored with an id of another shape (an old import): the client refuses to ask Heify for it.
    poison = Transcription.objects.get(name="call 1")
    Transcription.objects.filter(pk=poison.pk).update(heify_id="legacy-42")

    result = tasks.poll_in_flight()
    assert dict(Transcription.objects.values_list("name", "status")) == {
        "call 0": "COMPLETED", "call 1": "IN_PROGRESS", "call 2": "COMPLETED"}
    assert "1 failed" in result and "legacy-42" in result
    poison.refresh_from_db()
    assert poison.sync_error.startswith("The poll could not fetch it: 'legacy-42' is not a Heify id")
    page = admin_client.get(reverse("admin:qa_transcription_change", args=[poison.pk])).content.decode()
    assert "The poll could not fetch it" in page

    # Put right (here: Heify's id restored), the next poll fetches it and the error goes.
    Transcription.objects.filter(pk=poison.pk).update(heify_id=done[1]["transcription_id"])
    assert tasks.poll_in_flight() == "1 refreshed, 0 failed"
    poison.refresh_from_db()
    assert (poison.status, poison.sync_error) == ("COMPLETED", "")
