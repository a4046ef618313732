"""One write path per effect: where two addresses make the same change, the same input gives the same result
and the same errors (issue 21 §4). PATCH /transcriptions/<id>/ and POST .../move/ move a call; the review page's
verdict form (admin) and PUT .../verdicts/ (API) record a verdict."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa.mirror.models import Transcription
from qa.reviews import queues
from qa.reviews.models import CriterionVerdict
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


# --- a verdict: the review page (admin) and PUT verdicts/ (API) ---------------------------------------------


def by_admin(client, call, given: dict):
    """The review page's script saving one verdict (its form sends agrees as "yes" or "no")."""
    data = {"criterion": given["criterion"], "reason": given.get("reason", "")}
    if "agrees" in given:
        data["agrees"] = {True: "yes", False: "no"}.get(given["agrees"], given["agrees"])
    return client.post(reverse("admin:qa_reviewitem_step", args=[call.pk, "verdict"]), data,
                       HTTP_ACCEPT="application/json")


def by_api(user, call, given: dict):
    return api_for(user).put(f"{API}/transcriptions/{call.heify_id}/verdicts/", {"verdicts": [given]}, format="json")


def recorded(call):
    verdicts = list(call.criterion_verdicts.values_list("criterion_name", "agrees", "reason", "reviewer", "as_manager"))
    said = list(call.review_events.filter(action="verdict").values_list("actor", "note"))
    return verdicts, said


@pytest.mark.parametrize("holder", [True, False], ids=["by the claim's holder", "by a QA manager"])
def test_the_review_page_and_the_api_record_the_same_verdict(client, two_calls, holder):
    ann, max_ = person("ann", "Reviewer"), person("max", "QA manager")
    for call in two_calls:
        queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    user = ann if holder else max_
    client.force_login(user)
    given = {"criterion": "Greeting", "agrees": False, "reason": "She did greet."}
    page, api = by_admin(client, two_calls[0], given), by_api(user, two_calls[1], given)
    assert (page.status_code, api.status_code) == (200, 200), (page.content, api.content)
    assert recorded(two_calls[0]) == recorded(two_calls[1])
    assert recorded(two_calls[0])[0] == [("Greeting", False, "She did greet.", user.pk, not holder)]


VERDICTS = {  # what is given, and what both answers say
    "no reason to disagree": ({"criterion": "Greeting", "agrees": False}, "Say why your result differs"),
    "an unknown criterion": ({"criterion": "Empathy", "agrees": True}, "no result for 'Empathy'"),
    "a reason too long": ({"criterion": "Greeting", "agrees": False, "reason": "x" * 5001},
                          "at most 5000 characters"),
    "agrees neither yes nor no": ({"criterion": "Greeting", "agrees": "perhaps", "reason": "hm"}, "agrees"),
    "agrees missing": ({"criterion": "Greeting", "reason": "hm"}, "agrees"),
}


@pytest.mark.parametrize("given, said", VERDICTS.values(), ids=VERDICTS.keys())
def test_the_review_page_and_the_api_refuse_the_same_verdicts(client, two_calls, given, said):
    ann = person("ann", "Reviewer")
    for call in two_calls:
        queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    client.force_login(ann)
    page, api = by_admin(client, two_calls[0], given), by_api(ann, two_calls[1], given)
    assert (page.status_code, api.status_code) == (400, 400)
    assert said in page.json()["message"] and said in api.json()["error"]["message"]
    assert not CriterionVerdict.objects.exists()
