"""The review loop's query counts, pinned: a reviewer's queue, claim, verdicts, note, archive and the review page
(benchmarks/review_loop.py times the same requests at 1,000,000 calls). A count that grows is a round trip more on
every click of every reviewer; lower a pin when a change saves one, never raise it without saying why."""

import pytest
from django.test import Client
from django.urls import reverse

from qa.db import on_postgresql
from qa.mirror.models import Transcription
from qa.mirror.rules import Group
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db

# Each request's queries: the session, its user and the user's permissions (3: one query for both kinds of
# permission, heifyadmin.admin_site.permissions_read), then the request's own.
QUEUE = 7  # + the evaluators' and participants' filter choices, the capped count, the page's ids, its rows
REVIEW_PAGE = 8  # + the call, the calls blind to the reader, its results, its verdicts, recent calls, history
# A move (qa.reviews.queues._moved): its UPDATE, the roll-up's recount of the call's bucket (three queries on
# SQLite: the bucket, DELETE and INSERT ... SELECT; two on PostgreSQL: the bucket locked, then one statement),
# the history entry and the audit row; no savepoint.
CLAIM = 10  # + the call locked, the move (not read again: it was locked)
VERDICT = 17  # + the call locked, blind calls, the AI's results, the verdict written, the score of record, ...
NOTE = 9  # + the call locked, the claim kept alive, the history entry and the audit row
ARCHIVE_AND_NEXT = 21  # + the call locked, its results (with whether each is decided), the move; the next call
# found (its id), locked and claimed

@pytest.fixture
def calls(load):
    evaluator = builders.evaluator_payload()
    load(evaluators=[evaluator], transcriptions=[
        builders.transcription_payload(evaluator=evaluator, group="PENDING_REVIEW", name=f"call {n}.mp3")
        for n in range(3)])
    return list(Transcription.objects.order_by("occurred_at", "id"))


@pytest.fixture
def reviewer_client():
    client = Client()
    client.force_login(person("rita", "Reviewer"))
    return client


def step(client, call, name, data=None):
    response = client.post(reverse("admin:qa_reviewitem_step", args=[call.pk, name]), data or {})
    assert response.status_code == 302, response.content[:500]
    return response


def test_each_step_of_the_loop_asks_a_fixed_number_of_queries(calls, reviewer_client, django_assert_num_queries):
    client, call = reviewer_client, calls[0]
    with django_assert_num_queries(QUEUE):
        assert client.get(reverse("admin:qa_reviewitem_changelist"), {"queue": Group.PENDING_REVIEW}).status_code \
            == 200
    # PostgreSQL asks once less per move: the bucket is read as it is locked, and recounted in one statement
    # (qa.mirror.rollups.recount_call).
    extra = -1 if on_postgresql() else 0
    with django_assert_num_queries(CLAIM + extra):
        step(client, call, "claim")
    with django_assert_num_queries(REVIEW_PAGE):
        assert client.get(reverse("admin:qa_reviewitem_change", args=[call.pk])).status_code == 200
    names = list(dict.fromkeys(call.criterion_results.values_list("name", flat=True)))
    for name in names:
        with django_assert_num_queries(VERDICT):
            step(client, call, "verdict", {"criterion": name, "agrees": "yes"})
    with django_assert_num_queries(NOTE):
        step(client, call, "note", {"note": "Checked."})
    with django_assert_num_queries(ARCHIVE_AND_NEXT + 2 * extra):
        response = step(client, call, "archive", {"note": "Reviewed."})
    call.refresh_from_db()
    assert call.group == Group.ARCHIVED
    assert Transcription.objects.get(pk=calls[1].pk).group == Group.UNDER_REVIEW  # "Archive and next" claimed it
    assert f"/{calls[1].pk}/change/" in response["Location"]
