"""The poll of calls Heify is still working on takes them one by one (issue 20, section 3): a call Heify will
not answer for is counted as failed with its reason, and the others are still refreshed."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

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


@pytest.mark.parametrize(("in_flight_for", "polled_ago", "due"), [
    (None, timedelta(seconds=10), True),                   # Heify gave no created_at: every poll
    (timedelta(minutes=3), None, True),                    # never asked yet
    (timedelta(minutes=5), timedelta(seconds=40), True),   # new: every poll (half a period of slack)
    (timedelta(minutes=30), timedelta(minutes=2), False),  # in flight 30 min: every 3 min
    (timedelta(minutes=30), timedelta(minutes=3), True),
    (timedelta(days=1), timedelta(minutes=30), False),     # stuck for a day: once an hour
    (timedelta(days=1), timedelta(minutes=60), True),
    (timedelta(days=30), timedelta(minutes=59, seconds=40), True),  # never more than the most, less the slack
])
def test_a_call_is_asked_for_less_often_the_longer_heify_works_on_it(settings, in_flight_for, polled_ago, due):
    settings.HEIFY_POLL_EVERY_MINUTES, settings.HEIFY_POLL_MAX_MINUTES = 1, 60
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    assert tasks.poll_due(created_at=in_flight_for and now - in_flight_for,
                          polled_at=polled_ago and now - polled_ago, now=now) is due


def test_the_poll_skips_calls_not_due_and_asks_again_at_their_turn(heify, load, settings):
    settings.HEIFY_POLL_EVERY_MINUTES, settings.HEIFY_POLL_MAX_MINUTES = 1, 60
    a_day_ago = (timezone.now() - timedelta(days=1)).isoformat()
    calls = [{**builders.transcription_payload(name=f"call {n}"), "status": "IN_PROGRESS", "details": {},
              "created_at": a_day_ago} for n in range(2)]
    load(transcriptions=calls)
    heify.state.load(builders.snapshot(transcriptions=calls))  # Heify still working on both

    def gets():
        return sum(1 for r in heify.state.request_log if r.method == "GET" and r.path.startswith("/transcription/"))

    assert tasks.poll_in_flight() == "2 refreshed, 0 failed" and gets() == 2
    assert Transcription.objects.filter(polled_at__isnull=True).count() == 0
    # A minute later neither is due (a day in flight: once an hour), and Heify is not asked.
    assert tasks.poll_in_flight() == "0 refreshed, 0 failed; 2 not due yet" and gets() == 2
    # An hour after it was asked, "call 0" is due again; Heify has finished it by then.
    Transcription.objects.filter(name="call 0").update(polled_at=timezone.now() - timedelta(minutes=61))
    heify.state.load(builders.snapshot(transcriptions=[{**calls[0], "status": "COMPLETED"}, calls[1]]))
    assert tasks.poll_in_flight() == "1 refreshed, 0 failed; 1 not due yet" and gets() == 3
    assert dict(Transcription.objects.values_list("name", "status")) == {
        "call 0": "COMPLETED", "call 1": "IN_PROGRESS"}
