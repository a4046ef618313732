"""The push job takes waiting changes one by one: one it cannot finish is marked with its reason, tried again
with back-off up to qa.jobs.JOB_MAX_ATTEMPTS, then given up (refused, for a manager to resolve); the changes
queued after it go on (issue 20, section 3)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from qa import jobs
from qa.mirror.models import Evaluator
from syncer import pull, push
from tests.qa.mirror.test_admin_editing import evaluator_form, rows_of

pytestmark = pytest.mark.django_db

ODD = "the day before yesterday"  # a created_at the mirror cannot read


def remote(heify, heify_id):
    return next(o for o in heify.state.objects("evaluators") if o["evaluator_id"] == heify_id)


@pytest.fixture
def three_waiting(admin_client, heify_account):
    """Three evaluator edits made while Heify was down; the middle one is a poison: Heify takes it but answers
    with a created_at the mirror cannot read, so the push cannot record its answer."""
    pull.pull(["evaluators"])
    first, poison, last = Evaluator.objects.order_by("pk")[:3]
    heify_account.state.down = True
    for evaluator, text in ((first, "first"), (poison, "poison"), (last, "last")):
        rows = rows_of(evaluator)
        response = admin_client.post(reverse("admin:qa_evaluator_change", args=[evaluator.pk]), evaluator_form(
            tag=evaluator.tag, criteria=rows, version=evaluator.version, initial=len(rows), description=text))
        assert response.status_code == 302
    heify_account.state.down = False
    heify_account.state.load({"evaluators": [{**remote(heify_account, poison.heify_id), "created_at": ODD}]})
    assert set(Evaluator.objects.values_list("sync_state", flat=True).filter(pk__in=[first.pk, poison.pk, last.pk])) \
        == {"waiting"}
    return first, poison, last


def test_a_change_that_fails_is_marked_and_those_after_it_are_pushed(three_waiting, heify_account):
    first, poison, last = three_waiting
    assert push.push_waiting() == {"pushed": 2, "deleted": 0, "refused": 0, "waiting": 0, "failed": 1}
    for evaluator, text in ((first, "first"), (last, "last")):
        evaluator.refresh_from_db()
        assert evaluator.sync_state == "synced" and remote(heify_account, evaluator.heify_id)["description"] == text
    poison.refresh_from_db()
    assert poison.sync_state == "waiting" and poison.push_claim is None  # released: not held for the lease
    assert "Failed 1 time" in poison.sync_error and "not an ISO 8601 timestamp" in poison.sync_error
    assert poison.job_failures == 1 and poison.job_retry_at > timezone.now()

    # Backed off: the next run leaves it alone.
    assert push.push_waiting()["failed"] == 0
    assert Evaluator.objects.get(pk=poison.pk).job_failures == 1


def test_a_change_that_keeps_failing_is_given_up_after_the_limit_and_shown(three_waiting, admin_client):
    _, poison, _ = three_waiting
    for attempt in range(1, jobs.JOB_MAX_ATTEMPTS + 1):
        Evaluator.objects.filter(pk=poison.pk).update(job_retry_at=timezone.now())  # its back-off has passed
        assert push.push_waiting()["failed"] == 1, attempt
    poison.refresh_from_db()
    assert poison.sync_state == "rejected"
    assert poison.sync_error.startswith(f"Gave up after {jobs.JOB_MAX_ATTEMPTS} failed attempts")
    assert push.push_waiting()["failed"] == 0  # given up: no longer tried
    page = admin_client.get(reverse("admin:qa_evaluator_change", args=[poison.pk])).content.decode()
    assert f"Gave up after {jobs.JOB_MAX_ATTEMPTS} failed attempts" in page


def test_back_off_doubles_up_to_an_hour():
    assert [jobs.job_retry_delay(n).total_seconds() for n in (1, 2, 3, 7, 20)] == [60, 120, 240, 3600, 3600]


def test_a_change_heify_cannot_take_now_goes_behind_the_others(three_waiting, heify_account):
    """Heify failing on one change (5xx, time-out) stops the run as an outage would, but that change is tried
    after the others next time: it never holds the queue."""
    first, poison, last = three_waiting
    heify_account.state.load({"evaluators": [{**remote(heify_account, poison.heify_id), "created_at": None}]})
    heify_account.state.down = True
    assert push.push_waiting(client=push.interactive_client())["waiting"] == 1
    heify_account.state.down = False
    first.refresh_from_db()
    assert first.sync_state == "waiting" and first.job_retry_at is not None and first.job_failures is None
    heify_account.state.clear_request_log()
    assert push.push_waiting()["pushed"] == 3
    replaced = [r.path for r in heify_account.state.request_log if r.method == "PUT"]
    assert replaced == [f"/evaluator/{e.heify_id}" for e in (poison, last, first)]


def test_a_change_taken_at_last_forgets_its_failures(three_waiting, heify_account):
    """Sent by the person (or the job) once the cause is gone, the row keeps no count of the earlier episode."""
    _, poison, _ = three_waiting
    push.push_waiting()
    heify_account.state.load({"evaluators": [{**remote(heify_account, poison.heify_id),
                                              "created_at": "2026-01-01T00:00:00Z"}]})
    Evaluator.objects.filter(pk=poison.pk).update(job_retry_at=timezone.now())
    assert push.push_one(Evaluator, poison.pk) == "pushed"
    poison.refresh_from_db()
    assert (poison.sync_state, poison.sync_error) == ("synced", "")
    assert (poison.job_failures, poison.job_retry_at) == (None, None)
