"""Nobody waits on Heify but the person who asked it: no transaction or lock is open while Heify is called.

Real threads, each with its own database connection, drive the admin while
the emulator (over HTTP) takes 3 s to answer each request. A second user's
purely local write and a review claim must answer in under 1 s; a bound of
1 s against a Heify that needs 3 s per request (6 s for an edit: a GET and a
PUT) cannot pass by luck, and leaves a loaded CI machine plenty of room.
"""

import json
import threading
import time

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_q.conf import Conf

from qa.mirror import services
from qa.mirror.models import Participant, Transcription
from qa.reviews.models import ReviewEvent
from syncer import pull, push

pytestmark = pytest.mark.django_db(transaction=True)

SLOW = 3.0  # seconds Heify takes to answer any request
QUICK = 1.0  # what a local write or a claim may take meanwhile


def logged_in(name, role):
    user = User.objects.create_user(name, password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def timed(func):
    started = time.monotonic()
    response = func()
    return time.monotonic() - started, response


@pytest.fixture
def slow_heify(heify_account, settings, monkeypatch):
    pull.pull()
    settings.HEIFY_TIMEOUT = 4 * SLOW  # the manager's edit really waits for Heify's answer
    # Tasks go to the broker as in production (the suite otherwise runs them inline).
    monkeypatch.setattr(Conf, "SYNC", False)
    heify_account.state.latency = SLOW
    yield heify_account
    heify_account.state.latency = 0


def test_local_writes_and_claims_do_not_wait_while_an_edit_waits_on_heify(slow_heify):
    reviewer, other_reviewer = logged_in("ann", "Reviewer"), logged_in("bob", "Reviewer")
    manager = logged_in("max", "QA manager")
    participant = Participant.objects.order_by("pk").first()
    reviewed, to_claim = Transcription.objects.filter(
        group="PENDING_REVIEW", status="COMPLETED").exclude(criteria_results=[]).order_by("pk")[:2]
    slow_heify.state.latency = 0
    assert reviewer.post(reverse("admin:qa_reviewitem_step", args=[reviewed.pk, "claim"])).status_code == 302
    slow_heify.state.latency = SLOW

    edit = {}

    def manager_edits():
        try:
            edit["seconds"], edit["response"] = timed(lambda: manager.post(
                reverse("admin:qa_participant_change", args=[participant.pk]),
                {"tag": participant.tag, "metadata": json.dumps({"shift": "late"}),
                 "based_on_version": participant.version}))
        finally:
            connection.close()  # this thread's own connection

    step = lambda call, name: reverse("admin:qa_reviewitem_step", args=[call.pk, name])  # noqa: E731
    writes = {
        "note": lambda: reviewer.post(step(reviewed, "note"), {"note": "Upset about billing."}),
        "verdict": lambda: reviewer.post(
            step(reviewed, "verdict"), {"criterion": reviewed.criteria_results[0]["name"], "agrees": "yes"}),
        "claim": lambda: other_reviewer.post(step(to_claim, "claim")),
    }
    took = {}

    def write(name):
        try:
            took[name] = timed(writes[name])
        finally:
            connection.close()

    thread = threading.Thread(target=manager_edits)
    thread.start()
    time.sleep(1.0)  # the edit is now waiting on Heify's first answer (it needs at least 2 x SLOW)
    others = [threading.Thread(target=write, args=(name,)) for name in writes]
    for other in others:
        other.start()
    for other in [*others, thread]:
        other.join(30)
    print(f"\nwhile Heify answers in {SLOW:.0f} s: "
          + ", ".join(f"{name} {seconds:.2f} s" for name, (seconds, _) in took.items())
          + f"; the manager's edit took {edit['seconds']:.2f} s")

    assert {name: response.status_code for name, (_, response) in took.items()} == dict.fromkeys(writes, 302)
    assert ReviewEvent.objects.filter(action__in=["note", "verdict"], transcription=reviewed).count() == 2
    to_claim.refresh_from_db()
    assert to_claim.group == "UNDER_REVIEW" and to_claim.assigned_to.username == "bob"
    assert edit["seconds"] >= 2 * SLOW  # it did wait on Heify (a GET and a PUT) all the while
    assert {name: seconds < QUICK for name, (seconds, _) in took.items()} == dict.fromkeys(writes, True)

    # The manager's edit reached Heify; the claim reaches it afterwards, through the push.
    assert edit["response"].status_code == 302
    participant.refresh_from_db()
    assert (participant.metadata, participant.sync_state) == ({"shift": "late"}, "synced")
    slow_heify.state.latency = 0
    push.push_waiting()
    remote = {t["transcription_id"]: t for t in slow_heify.state.objects("transcriptions")}
    assert remote[to_claim.heify_id]["group"] == "UNDER_REVIEW"


def test_the_push_job_holds_no_lock_while_heify_answers_and_two_workers_send_each_change_once(slow_heify):
    reviewer = logged_in("ann", "Reviewer")
    participants = list(Participant.objects.order_by("pk")[:2])
    call = Transcription.objects.filter(group="PENDING_REVIEW").order_by("pk").first()
    note_url = reverse("admin:qa_reviewitem_step", args=[call.pk, "note"])
    assert reviewer.post(note_url, {"note": "before"}).status_code == 302  # what a first request loads, loaded
    slow_heify.state.latency, slow_heify.state.down = 0, True
    for participant in participants:  # two changes wait for Heify
        services.participant_save(participant=participant, data={"tag": participant.tag, "metadata": {"n": 1}},
                                  expected_version=participant.version)
    slow_heify.state.latency, slow_heify.state.down = SLOW, False
    slow_heify.state.clear_request_log()
    results = []

    def worker():
        try:
            results.append(push.push_waiting())
        finally:
            connection.close()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    time.sleep(1.0)  # both workers now wait on Heify
    note_seconds, note = timed(lambda: reviewer.post(note_url, {"note": "meanwhile"}))
    for thread in workers:
        thread.join(60)
    print(f"\nwhile the push job waits on a Heify answering in {SLOW:.0f} s: a note took {note_seconds:.2f} s")

    assert note.status_code == 302 and note_seconds < QUICK
    puts = sorted(r.path for r in slow_heify.state.request_log if r.method == "PUT")
    assert puts == sorted(f"/participant/{p.heify_id}" for p in participants)  # each sent once
    assert sum(result["pushed"] for result in results) == 2
    assert set(Participant.objects.filter(pk__in=[p.pk for p in participants]).values_list(
        "sync_state", flat=True)) == {"synced"}
