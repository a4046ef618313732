"""Review queues: transitions, the claim race, roles in the admin and the API, history, and Heify."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa.audit import AuditEvent
from qa.db import on_postgresql
from qa.mirror.models import Transcription
from qa.reviews import queues
from qa.reviews.models import ReviewEvent
from syncer import pull, push
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db

LONG_AGO = "2026-01-01T00:00:00Z"  # a claim touched then has lapsed


@pytest.fixture
def ann():
    return person("ann", "Reviewer")


@pytest.fixture
def bob():
    return person("bob", "Reviewer")


@pytest.fixture
def max_(db):
    return person("max", "QA manager")


@pytest.fixture
def call(load):
    load(transcriptions=[builders.transcription_payload(group="PENDING_REVIEW")])
    return Transcription.objects.get()


def groups_of(call):
    """The moves of a call's history (verdicts left out)."""
    return list(call.review_events.exclude(action="verdict").order_by("id").values_list(
        "action", "from_group", "to_group"))


# --- transitions ---------------------------------------------------------------------------


def test_claim_release_archive_reopen_with_history(call, ann, max_):
    claimed = queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    assert (claimed.group, claimed.assigned_to, claimed.sync_state) == ("UNDER_REVIEW", ann, "waiting")
    released = queues.transcription_release(transcription_id=call.pk, acting_user=ann, note="not mine")
    assert (released.group, released.assigned_to) == ("PENDING_REVIEW", None)
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    archived = queues.transcription_archive(transcription_id=call.pk, acting_user=ann, note="all good",
                                          agree_rest=True)
    assert (archived.group, archived.assigned_to) == ("ARCHIVED", None)
    reopened = queues.transcription_reopen(transcription_id=call.pk, acting_user=max_)
    assert reopened.group == "PENDING_REVIEW"
    assert groups_of(call) == [
        ("claim", "PENDING_REVIEW", "UNDER_REVIEW"), ("release", "UNDER_REVIEW", "PENDING_REVIEW"),
        ("claim", "PENDING_REVIEW", "UNDER_REVIEW"), ("archive", "UNDER_REVIEW", "ARCHIVED"),
        ("reopen", "ARCHIVED", "PENDING_REVIEW"),
    ]
    assert call.review_events.get(action="archive").note == "all good"
    assert call.review_events.get(action="archive").actor == ann


def test_a_call_in_no_group_can_be_claimed(load, ann):
    load(transcriptions=[builders.transcription_payload(group=None)])
    assert queues.transcription_claim(transcription_id=Transcription.objects.get().pk, reviewer=ann).group == \
        "UNDER_REVIEW"


@pytest.mark.parametrize("group, step, message", [
    ("ARCHIVED", "claim", "Cannot claim a call that is in archived"),
    ("PENDING_REVIEW", "release", "Cannot release a call that is in pending review"),
    ("PENDING_REVIEW", "reopen", "Cannot reopen a call that is in pending review"),
])
def test_refused_transitions_say_why(load, ann, max_, group, step, message):
    load(transcriptions=[builders.transcription_payload(group=group)])
    pk = Transcription.objects.get().pk
    run = {
        "claim": lambda: queues.transcription_claim(transcription_id=pk, reviewer=ann),
        "release": lambda: queues.transcription_release(transcription_id=pk, acting_user=max_),
        "reopen": lambda: queues.transcription_reopen(transcription_id=pk, acting_user=max_),
    }[step]
    with pytest.raises(ValidationError) as exc:
        run()
    assert message in exc.value.messages[0]
    assert Transcription.objects.get().group == group and not ReviewEvent.objects.exists()


def test_second_claim_is_told_who_has_it(call, ann, bob):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    with pytest.raises(queues.ClaimLost) as exc:
        queues.transcription_claim(transcription_id=call.pk, reviewer=bob)
    assert exc.value.holder == ann and "ann is already reviewing" in exc.value.messages[0]


def test_reviewers_cannot_touch_each_others_claims_but_managers_can(call, ann, bob, max_):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    with pytest.raises(PermissionDenied):
        queues.transcription_release(transcription_id=call.pk, acting_user=bob)
    with pytest.raises(PermissionDenied):
        queues.transcription_reassign(transcription_id=call.pk, to_user=bob, reason="x", acting_user=ann)
    with pytest.raises(ValidationError):
        queues.transcription_reassign(transcription_id=call.pk, to_user=bob, reason=" ", acting_user=max_)
    moved = queues.transcription_reassign(transcription_id=call.pk, to_user=bob, reason="ann is off", acting_user=max_)
    assert moved.assigned_to == bob
    assert call.review_events.get(action="reassign").note == "ann is off"
    with pytest.raises(PermissionDenied):
        queues.transcription_reopen(transcription_id=call.pk, acting_user=ann)


def test_a_user_without_a_role_cannot_review(call):
    with pytest.raises(PermissionDenied):
        queues.transcription_claim(transcription_id=call.pk, reviewer=person("eve"))


def test_an_untouched_claim_returns_to_the_queue(call, ann, settings):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    Transcription.objects.update(review_touched_at="2026-01-01T00:00:00Z")
    assert queues.release_expired_claims() == 1
    call.refresh_from_db()
    assert (call.group, call.assigned_to) == ("PENDING_REVIEW", None)
    assert call.review_events.latest("id").action == "expire"


def test_a_note_keeps_a_claim_alive(call, ann):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    Transcription.objects.update(review_touched_at="2026-01-01T00:00:00Z")
    queues.transcription_note(transcription_id=call.pk, author=ann, text="listening now")
    assert queues.release_expired_claims() == 0


def test_verdicts_are_kept_beside_the_ai_result(call, ann):
    results = list(call.criteria_results)
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                         verdicts=[queues.Verdict("Greeting", False, "they did greet")])
    with pytest.raises(ValidationError):
        queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                             verdicts=[queues.Verdict("Greeting", False, "")])
    with pytest.raises(ValidationError):
        queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                             verdicts=[queues.Verdict("Nope", True)])
    call.refresh_from_db()
    assert call.criteria_results == results
    assert call.criterion_verdicts.get().reason == "they did greet"


def test_queue_is_ordered_by_urgency_and_counted(load):
    def tx(name, critical, day, group="PENDING_REVIEW"):
        payload = builders.transcription_payload(name=name, group=group, created_at=f"2026-03-{day:02d}T10:00:00+00:00")
        payload["details"]["evaluation"]["critical_fail_triggered"] = critical
        return payload

    load(transcriptions=[tx("new", False, 9), tx("old", False, 1), tx("critical new", True, 8),
                         tx("critical old", True, 2), tx("done", False, 1, "ARCHIVED")])
    assert [t.name for t in queues.review_queue("PENDING_REVIEW")] == ["critical old", "critical new", "old", "new"]
    assert queues.queue_counts() == {"PENDING_REVIEW": 4, "UNDER_REVIEW": 0, "ARCHIVED": 1, None: 0}


# --- Heify --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_group_changes_reach_heify_and_wait_when_it_is_down(heify_account):
    reviewer = person("rita", "Reviewer")
    pull.pull(["transcriptions"])
    call = Transcription.objects.filter(group="PENDING_REVIEW").first()
    queues.transcription_claim(transcription_id=call.pk, reviewer=reviewer)
    remote = {t["transcription_id"]: t for t in heify_account.state.objects("transcriptions")}
    assert remote[call.heify_id]["group"] == "UNDER_REVIEW"
    call.refresh_from_db()
    assert call.sync_state == "synced"

    heify_account.state.down = True
    queues.transcription_archive(transcription_id=call.pk, acting_user=reviewer, agree_rest=True)
    call.refresh_from_db()
    assert (call.group, call.sync_state) == ("ARCHIVED", "waiting")
    heify_account.state.down = False
    # A pull meanwhile does not undo the waiting move.
    assert pull.pull(["transcriptions"])["transcriptions"].skipped == 1
    call.refresh_from_db()
    assert call.group == "ARCHIVED"
    push.push_waiting()
    remote = {t["transcription_id"]: t for t in heify_account.state.objects("transcriptions")}
    assert remote[call.heify_id]["group"] == "ARCHIVED"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not on_postgresql(), reason="real concurrent transactions need PostgreSQL")
@pytest.mark.parametrize("start", ["pending", "under review, nobody holds it", "under review, its claim lapsed"])
def test_two_concurrent_claims_one_wins(start):
    from syncer import mirror

    group = "PENDING_REVIEW" if start == "pending" else "UNDER_REVIEW"
    mirror.load_snapshot(builders.snapshot(transcriptions=[builders.transcription_payload(group=group)]))
    pk = Transcription.objects.get().pk
    if start.endswith("lapsed"):
        Transcription.objects.update(assigned_to=person("ann", "Reviewer"), review_touched_at=LONG_AGO)
    reviewers = [person("r1", "Reviewer"), person("r2", "Reviewer")]
    barrier, outcomes = threading.Barrier(2), {}

    def claim(user):
        try:
            barrier.wait()
            queues.transcription_claim(transcription_id=pk, reviewer=user)
            outcomes[user.username] = "won"
        except queues.ClaimLost as lost:
            outcomes[user.username] = f"lost to {lost.holder.username}"
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    winner = Transcription.objects.get().assigned_to.username
    loser = next(u.username for u in reviewers if u.username != winner)
    assert outcomes == {winner: "won", loser: f"lost to {winner}"}
    assert ReviewEvent.objects.filter(action="claim").count() == 1
    assert AuditEvent.objects.filter(action="claim").count() == 1


# --- the admin --------------------------------------------------------------------------------------


def review_url(call, step=None):
    if step:
        return reverse("admin:qa_reviewitem_step", args=[call.pk, step])
    return reverse("admin:qa_reviewitem_change", args=[call.pk])


def test_reviewer_works_a_call_in_the_admin(client, call, ann):
    client.force_login(ann)
    home = client.get(reverse("admin:index")).content.decode()
    assert "Review queues" in home and "Pending review" in home
    queue = client.get(reverse("admin:qa_reviewitem_changelist")).content.decode()
    assert call.name in queue
    page = client.get(review_url(call)).content.decode()
    assert "Start review" in page and "Greeting" in page
    client.post(review_url(call, "claim"))
    client.post(review_url(call, "note"), {"note": "Customer was upset about billing."})
    client.post(review_url(call, "verdict"), {"criterion": "Greeting", "agrees": "no", "reason": "greeted late"})
    page = client.get(review_url(call)).content.decode()
    assert "Customer was upset about billing." in page and "Passed: greeted late — ann" in page  # the AI failed it
    assert client.post(review_url(call, "archive"), {"agree_rest": "1"}).status_code == 302
    call.refresh_from_db()
    assert call.group == "ARCHIVED"
    mine = client.get(reverse("admin:qa_reviewitem_changelist") + "?queue=UNDER_REVIEW&mine=1")
    assert call.name not in mine.content.decode()


def test_admin_claim_lost_says_who(client, call, ann, bob):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    client.force_login(bob)
    response = client.post(review_url(call, "claim"), follow=True)
    assert "ann is already reviewing this call." in response.content.decode().lower()


def test_reviewer_cannot_edit_scorecards_or_agents_but_manager_can(client, ann, max_, load):
    load(evaluators=[builders.evaluator_payload()], participants=[builders.participant_payload()])
    client.force_login(ann)
    assert client.get(reverse("admin:qa_evaluator_add")).status_code == 403
    assert client.get(reverse("admin:qa_participant_add")).status_code == 403
    assert client.get(reverse("admin:qa_evaluator_changelist")).status_code == 200  # may read
    client.force_login(max_)
    assert client.get(reverse("admin:qa_evaluator_add")).status_code == 200
    assert client.get(reverse("admin:qa_participant_add")).status_code == 200


def test_bulk_move_is_for_managers_only(client, call, ann, max_):
    data = {"action": "move_to_archived", "_selected_action": [call.pk]}
    changelist = reverse("admin:qa_reviewitem_changelist")
    client.force_login(ann)
    assert "move_to_archived" not in client.get(changelist).content.decode()
    client.post(changelist, data)
    call.refresh_from_db()
    assert call.group == "PENDING_REVIEW"
    client.force_login(max_)
    client.post(changelist, data)
    call.refresh_from_db()
    assert call.group == "ARCHIVED" and call.review_events.get().action == "move"


# --- the API --------------------------------------------------------------------------------------------


def api_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def test_api_review_actions_and_the_lost_race(call, ann, bob, max_):
    url = f"/api/v1/transcriptions/{call.heify_id}"
    claimed = api_for(ann).post(f"{url}/claim/")
    assert claimed.json()["data"]["group"] == "UNDER_REVIEW"
    call.refresh_from_db()
    assert claimed["ETag"] == f'"{call.version}"'  # as the schema declares, for If-Match
    lost = api_for(bob).post(f"{url}/claim/")
    assert lost.status_code == 409 and "ann is already reviewing" in lost.json()["error"]["message"]
    note = api_for(ann).post(f"{url}/notes/", {"text": "checked"}, format="json")
    assert note.status_code == 201 and note.json()["data"]["note"] == "checked"
    assert api_for(bob).post(f"{url}/release/").status_code == 403
    assert api_for(ann).post(f"{url}/release/").json()["data"]["group"] == "PENDING_REVIEW"
    assert api_for(ann).post(f"{url}/move/", {"group": "ARCHIVED"}, format="json").status_code == 403
    moved = api_for(max_).post(f"{url}/move/", {"group": "ARCHIVED", "note": "dup"}, format="json")
    assert moved.json()["data"]["group"] == "ARCHIVED"
    bad = api_for(max_).post(f"{url}/move/", {"group": "LATER"}, format="json")
    assert bad.status_code == 400 and "group" in bad.json()["error"]["fields"]
    history = api_for(ann).get(f"{url}/notes/").json()["data"]
    assert [e["action"] for e in history] == ["move", "release", "note", "claim"]


def test_api_roles(call, ann, max_, load):
    assert api_for(ann).get("/api/v1/transcriptions/").status_code == 200
    assert api_for(ann).post("/api/v1/participants/", {"tag": "x"}, format="json").status_code == 403
    assert api_for(person("eve")).post(f"/api/v1/transcriptions/{call.heify_id}/claim/").status_code == 403
    assert api_for(person("nobody")).get(f"/api/v1/transcriptions/{call.heify_id}/notes/").status_code == 403
    assert api_for(max_).patch(f"/api/v1/transcriptions/{call.heify_id}/", {"group": None},
                               format="json").status_code in (200, 202)


# --- a claim protects the reviewer's work (issue 11 §1) ----------------------------------------------


def steps_of(user, call):
    return {str(step) for step in queues.allowed_steps(user, Transcription.objects.select_related(
        "assigned_to").get(pk=call.pk))}


REVIEWER_STEPS = {"claim", "note"}
@pytest.mark.parametrize("group, who, expected", [
    ("PENDING_REVIEW", "ann", REVIEWER_STEPS),
    ("PENDING_REVIEW", "max", {"claim", "archive", "move", "note", "verdict"}),
    ("PENDING_REVIEW", "eve", set()),
    (None, "bob", REVIEWER_STEPS),
    (None, "max", {"claim", "archive", "move", "note", "verdict"}),
    ("UNDER_REVIEW", "ann", {"release", "archive", "note", "verdict"}),  # ann holds the claim
    ("UNDER_REVIEW", "bob", {"note"}),
    ("UNDER_REVIEW", "max", {"release", "archive", "reassign", "move", "note", "verdict"}),
    ("UNDER_REVIEW", "eve", set()),
    ("ARCHIVED", "ann", set()),
    ("ARCHIVED", "max", {"reopen", "move"}),
    # Under review with nobody holding it (moved there in Heify): any reviewer may claim it.
    ("UNHELD", "bob", REVIEWER_STEPS),
    ("UNHELD", "max", {"claim", "release", "archive", "reassign", "move", "note", "verdict"}),
    ("UNHELD", "eve", set()),
    # ann's claim lapsed: another reviewer may take it over; ann keeps it by acting, not by claiming it again.
    ("LAPSED", "ann", {"release", "archive", "note", "verdict"}),
    ("LAPSED", "bob", REVIEWER_STEPS),
    ("LAPSED", "max", {"claim", "release", "archive", "reassign", "move", "note", "verdict"}),
])
def test_allowed_steps_says_what_each_person_may_do_now(load, ann, bob, max_, group, who, expected):
    loaded_as = {"UNDER_REVIEW": "PENDING_REVIEW", "LAPSED": "PENDING_REVIEW", "UNHELD": "UNDER_REVIEW"}
    load(transcriptions=[builders.transcription_payload(group=loaded_as.get(group, group))])
    call = Transcription.objects.get()
    if group in ("UNDER_REVIEW", "LAPSED"):
        queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    if group == "LAPSED":
        Transcription.objects.update(review_touched_at=LONG_AGO)
    user = {"ann": ann, "bob": bob, "max": max_, "eve": person("eve")}[who]
    assert steps_of(user, call) == expected


def test_another_reviewer_cannot_replace_the_holders_verdict(call, ann, bob):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                         verdicts=[queues.Verdict("Greeting", True)])
    events = ReviewEvent.objects.count()
    with pytest.raises(PermissionDenied) as refused:
        queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=bob,
                                             verdicts=[queues.Verdict("Greeting", False, "no greeting")])
    assert "ann is reviewing this call" in str(refused.value)
    verdict = call.criterion_verdicts.get()
    assert (verdict.reviewer, verdict.agrees, verdict.as_manager) == (ann, True, False)
    assert ReviewEvent.objects.count() == events


def test_a_reviewer_records_verdicts_only_on_a_call_they_hold(call, ann):
    with pytest.raises(PermissionDenied):
        queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                             verdicts=[queues.Verdict("Greeting", True)])
    assert not call.criterion_verdicts.exists()


def test_a_managers_verdict_is_recorded_as_such_and_the_history_keeps_who_said_what(call, ann, max_):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                         verdicts=[queues.Verdict("Greeting", True)])
    Transcription.objects.update(review_touched_at="2026-01-01T00:00:00Z")
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=max_,
                                         verdicts=[queues.Verdict("Greeting", False, "the greeting came late")])
    verdict = call.criterion_verdicts.get()
    assert (verdict.reviewer, verdict.agrees, verdict.as_manager) == (max_, False, True)
    said = list(call.review_events.filter(action="verdict").order_by("id").values_list("actor__username", "note"))
    assert said[0] == ("ann", "Greeting: agrees with the AI")
    assert said[1][0] == "max"
    assert "as QA manager" in said[1][1] and "replaces ann's verdict (agrees with the AI)" in said[1][1]
    # A manager's verdict does not keep ann's claim alive: only ann's own actions do.
    assert queues.release_expired_claims() == 1


def test_notes_are_open_to_every_reviewer_but_only_the_holders_keep_the_claim_alive(call, ann, bob, max_):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    Transcription.objects.update(review_touched_at="2026-01-01T00:00:00Z")
    queues.transcription_note(transcription_id=call.pk, author=bob, text="heard this one too")
    queues.transcription_note(transcription_id=call.pk, author=max_, text="look at 02:10")
    notes = list(call.review_events.filter(action="note").order_by("id").values_list("actor__username", "note"))
    assert notes == [("bob", "heard this one too"), ("max", "look at 02:10")]
    assert queues.release_expired_claims() == 1


def test_an_archived_call_takes_no_note_and_no_verdict_until_reopened(call, ann, max_):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    queues.transcription_archive(transcription_id=call.pk, acting_user=ann, agree_rest=True)
    call.criterion_verdicts.all().delete()
    events = ReviewEvent.objects.count()
    for user in (ann, max_):
        with pytest.raises(ValidationError) as refused:
            queues.transcription_note(transcription_id=call.pk, author=user, text="late thought")
        assert "reopen it first" in refused.value.messages[0]
        with pytest.raises(ValidationError):
            queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=user,
                                                 verdicts=[queues.Verdict("Greeting", True)])
    assert ReviewEvent.objects.count() == events and not call.criterion_verdicts.exists()
    queues.transcription_reopen(transcription_id=call.pk, acting_user=max_)
    queues.transcription_note(transcription_id=call.pk, author=ann, text="late thought")


def test_admin_refuses_another_reviewers_verdict_and_shows_only_allowed_forms(client, call, ann, bob):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                         verdicts=[queues.Verdict("Greeting", True)])
    client.force_login(bob)
    page = client.get(review_url(call)).content.decode()
    assert review_url(call, "note") in page  # notes stay open to every reviewer
    assert review_url(call, "verdict") not in page and review_url(call, "release") not in page
    response = client.post(review_url(call, "verdict"), {"criterion": "Greeting", "agrees": "no", "reason": "x"},
                           follow=True)
    assert response.status_code == 200 and "ann is reviewing this call" in response.content.decode().lower()
    verdict = call.criterion_verdicts.get()
    assert (verdict.reviewer, verdict.agrees) == (ann, True)
    client.force_login(ann)
    assert review_url(call, "verdict") in client.get(review_url(call)).content.decode()


def test_api_notes_from_others_do_not_keep_the_claim_alive_and_archived_calls_take_none(call, ann, bob):
    url = f"/api/v1/transcriptions/{call.heify_id}"
    api_for(ann).post(f"{url}/claim/")
    Transcription.objects.update(review_touched_at="2026-01-01T00:00:00Z")
    assert api_for(bob).post(f"{url}/notes/", {"text": "me too"}, format="json").status_code == 201
    call.refresh_from_db()
    assert call.review_touched_at.year == 2026 and call.review_touched_at.month == 1
    api_for(ann).post(f"{url}/archive/", {"agree_rest": True}, format="json")
    refused = api_for(ann).post(f"{url}/notes/", {"text": "afterthought"}, format="json")
    assert refused.status_code == 400 and "reopen it first" in refused.json()["error"]["message"]


# --- existence oracles (issue 11 §5): no right, same answer whether the call exists or not ----------------


@pytest.mark.parametrize("role, step, body", [
    (None, "claim", {}),
    (None, "release", {}),
    (None, "archive", {}),
    (None, "notes", {"text": "hello"}),
    ("Reviewer", "move", {"group": "ARCHIVED"}),
])
def test_api_review_steps_answer_alike_for_a_missing_and_a_forbidden_call(call, role, step, body):
    eve = api_for(person("eve", role))
    existing = eve.post(f"/api/v1/transcriptions/{call.heify_id}/{step}/", body, format="json")
    missing = eve.post(f"/api/v1/transcriptions/no-such-call/{step}/", body, format="json")
    assert (existing.status_code, missing.status_code) == (403, 403)
    assert existing.json() == missing.json()
    assert not ReviewEvent.objects.exists()


@pytest.mark.parametrize("role, step, data", [
    (None, "claim", {}),
    (None, "note", {"note": "hello"}),
    (None, "verdict", {"criterion": "Greeting", "agrees": "yes"}),
    ("Reviewer", "reopen", {}),
    ("Reviewer", "reassign", {"to_user": "1", "reason": "x"}),
])
def test_admin_review_steps_answer_alike_for_a_missing_and_a_forbidden_call(client, call, role, step, data):
    client.force_login(person("eve", role))
    missing = Transcription(pk=call.pk + 1000)
    answers = [client.post(review_url(c, step), data).status_code for c in (call, missing)]
    assert answers == [403, 403]
    assert not ReviewEvent.objects.exists()


# --- no review input gives a 500 (issue 11 §4) --------------------------------------------------------------


@pytest.mark.parametrize("to_user, message", [
    ("abc", "Choose a reviewer"),
    ("", "Choose a reviewer"),
    ("99999999999999999999999", "Choose a reviewer"),
    ("-1", "Choose a reviewer"),
    ("1\x00", "Null characters are not allowed"),
])
def test_admin_reassign_to_a_bad_user_is_refused_clearly(client, call, ann, max_, to_user, message):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    client.force_login(max_)
    response = client.post(review_url(call, "reassign"), {"to_user": to_user, "reason": "ann is off"}, follow=True)
    assert response.status_code == 200 and message in response.content.decode()
    call.refresh_from_db()
    assert call.assigned_to == ann


def test_a_reviewer_learns_nothing_of_user_ids_from_reassign(client, call, ann, max_):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    client.force_login(ann)
    answers = {client.post(review_url(call, "reassign"), {"to_user": to_user, "reason": "x"}).status_code
               for to_user in (str(max_.pk), "987654", "abc")}
    assert answers == {403}


NUL_NOTE, LONG_NOTE, LONGEST_NOTE = "before\x00after", "x" * 2_000_000, "y" * 5000


@pytest.mark.parametrize("step, data, refusal", [
    ("note", {"note": NUL_NOTE}, "null characters"),
    ("note", {"note": LONG_NOTE}, "at most 5000 characters"),
    ("note", {"note": "x" * 5001}, "at most 5000 characters"),
    ("verdict", {"criterion": "Greeting", "agrees": "no", "reason": NUL_NOTE}, "null characters"),
    ("verdict", {"criterion": "Greeting", "agrees": "no", "reason": LONG_NOTE}, "at most 5000 characters"),
    ("verdict", {"criterion": "Gree\x00ting", "agrees": "yes"}, "no result for"),
    ("release", {"note": NUL_NOTE}, "null characters"),
    ("archive", {"note": LONG_NOTE}, "at most 5000 characters"),
    ("reassign", {"to_user": "{bob}", "reason": NUL_NOTE}, "null characters"),
])
def test_admin_review_text_is_refused_clearly_and_nothing_changes(client, call, ann, bob, max_, step, data,
                                                                  refusal):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    client.force_login(max_)
    data = {key: value.replace("{bob}", str(bob.pk)) for key, value in data.items()}
    events = ReviewEvent.objects.count()
    response = client.post(review_url(call, step), data, follow=True)
    assert response.status_code == 200 and refusal in response.content.decode()
    assert ReviewEvent.objects.count() == events and not call.criterion_verdicts.exists()
    call.refresh_from_db()
    assert (call.group, call.assigned_to) == ("UNDER_REVIEW", ann)


def test_the_longest_note_is_kept_whole(client, call, ann):
    client.force_login(ann)
    client.post(review_url(call, "note"), {"note": LONGEST_NOTE})
    assert call.review_events.get(action="note").note == LONGEST_NOTE


@pytest.mark.parametrize("step, body", [
    ("notes", {"text": NUL_NOTE}),
    ("notes", {"text": "x" * 5001}),
    ("notes", '{"text": "\\ud800 lone surrogate"}'),  # JSON's escape: the test client cannot encode it raw
    ("release", {"note": NUL_NOTE}),
    ("archive", {"note": "x" * 5001}),
])
def test_api_review_text_is_refused_with_400(call, ann, step, body):
    url = f"/api/v1/transcriptions/{call.heify_id}"
    api_for(ann).post(f"{url}/claim/")
    events = ReviewEvent.objects.count()
    if isinstance(body, str):
        response = api_for(ann).post(f"{url}/{step}/", body, content_type="application/json")
    else:
        response = api_for(ann).post(f"{url}/{step}/", body, format="json")
    assert response.status_code == 400, response.content
    assert ReviewEvent.objects.count() == events


# --- calls under review that nobody holds (issue 22 §6) -------------------------------------------------------


@pytest.fixture
def unheld(load):
    """A call Heify moved under review: nobody claimed it here."""
    load(transcriptions=[builders.transcription_payload(group="UNDER_REVIEW", name="unheld.mp3")])
    return Transcription.objects.get()


def lapse(call, hours_ago):
    """The call's claim was last touched `hours_ago` hours ago (REVIEW_CLAIM_TIMEOUT_HOURS is 4)."""
    Transcription.objects.filter(pk=call.pk).update(review_touched_at=timezone.now() - timedelta(hours=hours_ago))


def test_a_call_moved_under_review_in_heify_is_claimed_by_any_reviewer(unheld, ann, bob):
    assert queues.open_claim(unheld) == queues.OpenClaim(holder=None, lapsed_at=None)
    assert queues.release_expired_claims() == 0  # nobody's claim to return: it waits for a reviewer
    claimed = queues.transcription_claim(transcription_id=unheld.pk, reviewer=ann)
    assert (claimed.group, claimed.assigned_to, claimed.claimed_at is not None) == ("UNDER_REVIEW", ann, True)
    assert queues.open_claim(claimed) is None
    event = claimed.review_events.get()
    assert (event.action, event.from_group, event.to_group, event.assignee, event.note) == (
        "claim", "UNDER_REVIEW", "UNDER_REVIEW", ann, "Nobody held this call.")
    audit = AuditEvent.objects.get(action="claim")
    assert (audit.before, audit.after) == ({"assigned_to": None},
                                           {"assigned_to": "ann", "note": "Nobody held this call."})
    with pytest.raises(queues.ClaimLost, match="ann is already reviewing this call"):
        queues.transcription_claim(transcription_id=unheld.pk, reviewer=bob)


def test_a_lapsed_claim_is_taken_over_and_the_history_says_whose(call, ann, bob, settings):
    settings.REVIEW_CLAIM_TIMEOUT_HOURS = 4
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    lapse(call, 3)  # not yet
    with pytest.raises(queues.ClaimLost, match="ann is already reviewing this call"):
        queues.transcription_claim(transcription_id=call.pk, reviewer=bob)
    lapse(call, 7)
    taken = queues.open_claim(Transcription.objects.select_related("assigned_to").get())
    assert taken.holder == ann and abs(timezone.now() - timedelta(hours=3) - taken.lapsed_at) < timedelta(minutes=1)
    claimed = queues.transcription_claim(transcription_id=call.pk, reviewer=bob)
    assert (claimed.group, claimed.assigned_to) == ("UNDER_REVIEW", bob)
    note = claimed.review_events.latest("id").note
    assert note.startswith("Took over ann's claim, lapsed at ") and note.endswith("(no activity for 4 hours).")
    audit = AuditEvent.objects.filter(action="claim").latest("id")
    assert (audit.actor, audit.before, audit.after) == (bob, {"assigned_to": "ann"},
                                                        {"assigned_to": "bob", "note": note})
    # bob's claim is live: the expiry job leaves it, and ann, once its holder, is now refused.
    assert queues.release_expired_claims() == 0
    with pytest.raises(PermissionDenied, match="bob is reviewing this call"):
        queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                             verdicts=[queues.Verdict("Greeting", agrees=True)])


def test_the_holder_keeps_a_lapsed_claim_by_acting_on_it(call, ann, bob):
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    lapse(call, 7)
    with pytest.raises(queues.ClaimLost):  # ann holds it still: she does not claim it again
        queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    queues.transcription_note(transcription_id=call.pk, author=ann, text="still on it")
    with pytest.raises(queues.ClaimLost, match="ann is already reviewing this call"):
        queues.transcription_claim(transcription_id=call.pk, reviewer=bob)


def test_steps_on_a_call_nobody_holds_say_so(unheld, ann, bob):
    with pytest.raises(PermissionDenied, match="Nobody holds this call: claim it first"):
        queues.transcription_release(transcription_id=unheld.pk, acting_user=bob)
    queues.transcription_claim(transcription_id=unheld.pk, reviewer=ann)
    lapse(unheld, 7)
    with pytest.raises(PermissionDenied, match="ann's claim on this call lapsed: claim it to take it over"):
        queues.transcription_verdicts_record(transcription_id=unheld.pk, acting_user=bob,
                                             verdicts=[queues.Verdict("Greeting", agrees=True)])


def test_the_queue_shows_calls_nobody_holds_with_a_line_and_the_claim_button(client, load, ann, bob, max_):
    load(transcriptions=[builders.transcription_payload(group=group, name=name) for group, name in (
        ("UNDER_REVIEW", "unheld.mp3"), ("PENDING_REVIEW", "lapsed.mp3"), ("PENDING_REVIEW", "live.mp3"))])
    lapsed, live = (Transcription.objects.get(name=name) for name in ("lapsed.mp3", "live.mp3"))
    unheld = Transcription.objects.get(name="unheld.mp3")
    for held in (lapsed, live):
        queues.transcription_claim(transcription_id=held.pk, reviewer=ann)
    lapse(lapsed, 7)  # 4 hours' timeout: lapsed 3 h ago
    queue = reverse("admin:qa_reviewitem_changelist") + "?queue=UNDER_REVIEW"

    def buttons(page):
        return {pk for pk in (unheld.pk, lapsed.pk, live.pk) if f'data-testid="claim-{pk}"' in page}

    client.force_login(bob)
    page = client.get(queue).content.decode()
    assert "Nobody holds this call:" in page and "ann&#x27;s claim lapsed 3 h ago" in page
    assert buttons(page) == {unheld.pk, lapsed.pk}
    assert f'formaction="{review_url(unheld, "claim")}"' in page and 'id="qa-claim-form"' in page
    client.force_login(ann)  # her own lapsed claim: she keeps it by acting on it
    page = client.get(queue).content.decode()
    assert "Your claim lapsed 3 h ago" in page and buttons(page) == {unheld.pk}
    client.force_login(max_)
    assert buttons(client.get(queue).content.decode()) == {unheld.pk, lapsed.pk}
    # The filter lists them alone, in the queue under review whatever queue it is asked from.
    client.force_login(bob)
    nobody = client.get(reverse("admin:qa_reviewitem_changelist") + "?mine=nobody&queue=UNDER_REVIEW")
    assert "Under review, nobody holds" in nobody.content.decode()
    assert {row.pk for row in nobody.context["cl"].result_list} == {unheld.pk, lapsed.pk}
    pending = client.get(reverse("admin:qa_reviewitem_changelist")).content.decode()
    assert "?mine=nobody&amp;queue=UNDER_REVIEW" in pending
    # The button: bob takes ann's lapsed claim over and lands on the review page.
    response = client.post(review_url(lapsed, "claim"))
    assert response.status_code == 302 and response["Location"] == review_url(lapsed)
    lapsed.refresh_from_db()
    assert lapsed.assigned_to == bob
    assert buttons(client.get(queue).content.decode()) == {unheld.pk}


def test_the_api_claims_a_call_nobody_holds_and_the_loser_is_told_who(unheld, ann, bob):
    url = f"/api/v1/transcriptions/{unheld.heify_id}/claim/"
    claimed = api_for(ann).post(url)
    assert claimed.status_code in (200, 202) and claimed.json()["data"]["group"] == "UNDER_REVIEW"
    lost = api_for(bob).post(url)
    assert lost.status_code == 409 and "ann is already reviewing this call" in lost.json()["error"]["message"]
    lapse(unheld, 7)
    assert api_for(bob).post(url).status_code in (200, 202)
    unheld.refresh_from_db()
    assert unheld.assigned_to == bob
    history = api_for(bob).get(f"/api/v1/transcriptions/{unheld.heify_id}/notes/").json()["data"]
    assert history[0]["note"].startswith("Took over ann's claim")
