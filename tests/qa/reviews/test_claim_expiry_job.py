"""Claim expiry takes the claims one by one (issue 20, section 3): one whose release raises is logged and left
for the next run; the others return to the queue."""

import pytest
from django.contrib.auth.models import Group, User

from qa.db import on_postgresql
from qa.mirror.models import Transcription
from qa.reviews import queues
from tests import builders

pytestmark = pytest.mark.django_db


def test_a_claim_whose_release_raises_never_stops_the_others(load):
    ann = User.objects.create_user("ann", password="pw-for-tests-1", is_staff=True)
    ann.groups.add(Group.objects.get(name="Reviewer"))
    load(transcriptions=[builders.transcription_payload(group="PENDING_REVIEW", name=f"call {n}") for n in range(3)])
    for call in Transcription.objects.order_by("pk"):
        queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    Transcription.objects.update(review_touched_at="2026-01-01T00:00:00Z")
    # Stored at the top of its column (not through an action): PostgreSQL refuses the next version.
    Transcription.objects.filter(name="call 1").update(version=2**31 - 1)

    released = queues.release_expired_claims()
    groups = dict(Transcription.objects.values_list("name", "group"))
    assert groups["call 0"] == groups["call 2"] == "PENDING_REVIEW"
    if on_postgresql():
        assert released == 2 and groups["call 1"] == "UNDER_REVIEW"
    else:  # SQLite holds a larger integer: no poison there
        assert released == 3
