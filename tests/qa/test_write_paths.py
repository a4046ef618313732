"""One write path per effect: where two addresses make the same change, the same input gives the same result
and the same errors (issue 21 §4). PATCH /transcriptions/<id>/ and POST .../move/ move a call; the review page's
verdict form (admin) and PUT .../verdicts/ (API) record a verdict."""

import pytest
from django.contrib.auth.models import Permission
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa.models import Transcription
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db
API = "/api/v1"


def api_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


# --- moving a call: PATCH and move/ ---------------------------------------------------------------------------


@pytest.fixture
def two_calls(load):
    """Two calls alike (pending review, version 1): one for each address."""
    load(transcriptions=[builders.transcription_payload(group="PENDING_REVIEW") for _ in range(2)])
    return list(Transcription.objects.order_by("pk"))


def queue_mover():
    """May move calls between queues (the step's permission) and nothing else of a manager's."""
    user = person("mo")
    user.user_permissions.add(*Permission.objects.filter(
        codename__in=["manage_review_queues", "view_transcription"]))
    return type(user).objects.get(pk=user.pk)


MOVES = {  # what is sent, the If-Match header, who sends it
    "a move": ({"group": "ARCHIVED"}, None, "manager"),
    "a move with a note": ({"group": "ARCHIVED", "note": "duplicate of another call"}, None, "manager"),
    "to no group": ({"group": None}, None, "manager"),
    "to the same group": ({"group": "PENDING_REVIEW"}, None, "manager"),
    "an unknown group": ({"group": "LATER"}, None, "manager"),
    "no group given": ({}, None, "manager"),
    "a note too long": ({"group": "ARCHIVED", "note": "x" * 5001}, None, "manager"),
    "a bad If-Match": ({"group": "ARCHIVED"}, "yesterday", "manager"),
    "a stale If-Match": ({"group": "ARCHIVED"}, '"99"', "manager"),
    "the current If-Match": ({"group": "ARCHIVED"}, '"1"', "manager"),
    "a reviewer": ({"group": "BOGUS"}, None, "reviewer"),
    "a queue mover who may not edit transcriptions": ({"group": "ARCHIVED"}, None, "mover"),
}


@pytest.mark.parametrize("body, if_match, who", MOVES.values(), ids=MOVES.keys())
def test_patch_and_move_give_the_same_result_and_errors(two_calls, body, if_match, who):
    user = {"manager": lambda: person("max", "QA manager"), "reviewer": lambda: person("ann", "Reviewer"),
            "mover": queue_mover}[who]()
    api = api_for(user)
    headers = {"HTTP_IF_MATCH": if_match} if if_match else {}
    by_patch, by_move = two_calls
    patched = api.patch(f"{API}/transcriptions/{by_patch.heify_id}/", body, format="json", **headers)
    moved = api.post(f"{API}/transcriptions/{by_move.heify_id}/move/", body, format="json", **headers)

    assert patched.status_code == moved.status_code
    if patched.status_code >= 400:
        assert patched.json() == moved.json()
    else:
        assert patched.json()["data"]["group"] == moved.json()["data"]["group"]
        assert patched["ETag"] == moved["ETag"]
    history = [list(call.review_events.values_list("action", "actor", "from_group", "to_group", "note"))
               for call in two_calls]
    assert history[0] == history[1]
