"""Evaluator revisions: from local edits and from pulls, the revision each call records, the API and the admin."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from qa.mirror import revisions, services
from qa.mirror.models import Evaluator, EvaluatorRevision, Participant, Transcription
from tests import builders
from tests.qa.test_api import API, assert_error, client_for, user_with

pytestmark = pytest.mark.django_db


def criteria(greeting=20, resolved=80):
    return [
        {"name": "Greeting", "description": "Standard opening?", "type": "boolean", "weight": greeting},
        {"name": "No offensive language", "description": "Rude words?", "type": "strict", "weight": 0},
        {"name": "Issue resolved", "description": "Resolved?", "type": "boolean", "weight": resolved},
    ]


def numbers(evaluator):
    return list(evaluator.revisions.order_by("number").values_list("number", "source"))


def test_local_edits_write_a_revision_each_and_heifys_echo_adds_none(heify):
    evaluator, _ = services.evaluator_save(evaluator=Evaluator(), data={"tag": "Support", "criteria": criteria()})
    assert evaluator.sync_state == "synced"  # Heify took it and its answer went through the mirror
    assert numbers(evaluator) == [(1, "local")]
    first = evaluator.revisions.get()
    assert first.in_force_from is None
    assert [(c["name"], c["type"], c["weight"]) for c in first.criteria] == [
        ("Greeting", "boolean", 20.0), ("No offensive language", "strict", 0.0), ("Issue resolved", "boolean", 80.0)]

    evaluator.refresh_from_db()
    services.evaluator_save(evaluator=evaluator, data={"tag": "Support", "criteria": criteria(40, 60)},
                            expected_version=evaluator.version)
    assert numbers(evaluator) == [(1, "local"), (2, "local")]
    second = evaluator.revisions.get(number=2)
    assert second.in_force_from is not None and [c["weight"] for c in second.criteria] == [40.0, 0.0, 60.0]

    # Saving the same criteria again (a description of the evaluator changes) is no new revision.
    evaluator.refresh_from_db()
    services.evaluator_save(evaluator=evaluator, data={"tag": "Support", "description": "x",
                                                       "criteria": criteria(40, 60)})
    assert numbers(evaluator) == [(1, "local"), (2, "local")]


def test_a_refused_save_leaves_no_revision(load):
    load(evaluators=[builders.evaluator_payload()])
    evaluator = Evaluator.objects.get()
    with pytest.raises(Exception, match="sum to 100"):
        services.evaluator_save(evaluator=evaluator, data={"tag": evaluator.tag, "criteria": criteria(30, 30)})
    assert numbers(evaluator) == [(1, "heify")]


def test_pulls_write_a_revision_only_when_criteria_change(load):
    payload = builders.evaluator_payload()
    load(evaluators=[payload])
    evaluator = Evaluator.objects.get()
    assert numbers(evaluator) == [(1, "heify")]

    load(evaluators=[{**payload, "description": "Only the description changed",
                      "updated_at": "2026-02-01T09:00:00+00:00"}])
    assert numbers(evaluator) == [(1, "heify")]

    changed = [dict(c) for c in payload["criteria"]]
    changed[0]["weight"], changed[2]["weight"] = 50, 50
    load(evaluators=[{**payload, "criteria": changed, "updated_at": "2026-03-01T09:00:00+00:00"}])
    assert numbers(evaluator) == [(1, "heify"), (2, "heify")]
    second = evaluator.revisions.get(number=2)
    assert second.in_force_from.isoformat() == "2026-03-01T09:00:00+00:00"
    load(evaluators=[{**payload, "criteria": changed, "updated_at": "2026-03-01T09:00:00+00:00"}])
    assert evaluator.revisions.count() == 2


def test_each_call_records_the_revision_in_force_when_heify_completed_it(load):
    payload = builders.evaluator_payload()

    def call(completed_at, **overrides):
        body = builders.transcription_payload(evaluator=payload, **overrides)
        body["details"]["completed_at"] = completed_at
        return body

    before = call("2026-02-20T10:00:00Z")
    load(evaluators=[payload], transcriptions=[before])
    changed = [dict(c) for c in payload["criteria"]]
    changed[0]["weight"], changed[2]["weight"] = 50, 50
    after = call("2026-03-02T10:00:00Z")
    failed = builders.transcription_payload(evaluator=payload, status="FAILED", details=None,
                                            error={"code": "X", "message": "bad audio"})
    load(evaluators=[{**payload, "criteria": changed, "updated_at": "2026-03-01T09:00:00+00:00"}],
         transcriptions=[after, failed])

    by_id = dict(revisions.with_evaluator_revision(Transcription.objects.all()).values_list(
        "heify_id", "evaluator_revision"))
    assert by_id == {before["transcription_id"]: 1, after["transcription_id"]: 2, failed["transcription_id"]: None}
    # The same answer from the CASE over one evaluator's revisions (the pinning reads it that way), and from the
    # spans a join reads (qa.scorecards.whatif).
    starts = revisions.revision_starts(Evaluator.objects.get())
    cased = Transcription.objects.annotate(n=revisions.revision_case(starts)).values_list("heify_id", "n")
    assert dict(cased) == by_id
    assert revision_by_spans(Evaluator.objects.get()) == {k: v for k, v in by_id.items() if v is not None}
    # The same answer without the annotation (one call at a time).
    assert revisions.call_revision(Transcription.objects.get(heify_id=after["transcription_id"])) == 2


def revision_by_spans(evaluator) -> dict[str, int | None]:
    """Each scored call of `evaluator` -> the number of the span (revisions.in_force_spans) that holds its moment,
    by the join condition itself (revisions.SPAN_HOLDS)."""
    from django.db import connection

    calls = Transcription.all_objects.filter(evaluator_id=evaluator.heify_id, score__isnull=False).annotate(
        moment=revisions.scored_at()).values("heify_id", "moment")
    calls_sql, calls_params = calls.query.sql_with_params()
    spans_sql, spans_params = revisions.in_force_spans(evaluator).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT c.heify_id, s.number FROM ({calls_sql}) AS c LEFT JOIN ({spans_sql}) AS s ON "
                       + revisions.SPAN_HOLDS.format(span="s", moment="c.moment"), (*calls_params, *spans_params))
        return dict(cursor.fetchall())


def test_the_spans_of_revisions_in_force_give_each_call_the_revision_that_scored_it(load):
    """in_force_spans and SPAN_HOLDS against revision_in_force, where revisions share a start, a call completes
    at a start, and a revision without a start comes after dated ones."""
    from datetime import UTC, datetime

    payload = builders.evaluator_payload()
    moments = ["2026-02-20T10:00:00+00:00", "2026-03-01T00:00:00+00:00", "2026-03-05T10:00:00+00:00",
               "2026-03-10T00:00:00+00:00", "2026-03-20T10:00:00+00:00"]
    calls = []
    for moment in moments:
        calls.append(builders.transcription_payload(evaluator=payload, created_at=moment))
        calls[-1]["details"]["completed_at"] = moment
    load(evaluators=[payload], transcriptions=calls)  # revision 1, without a start
    evaluator = Evaluator.objects.get()

    def add(number, start):
        EvaluatorRevision.objects.create(evaluator=evaluator, number=number, criteria=[], at=datetime.now(UTC),
                                         in_force_from=start, source="heify")

    def in_force():
        return dict(revisions.with_evaluator_revision(Transcription.objects.filter(score__isnull=False))
                    .values_list("heify_id", "evaluator_revision"))

    add(2, datetime(2026, 3, 1, tzinfo=UTC))
    add(3, datetime(2026, 3, 1, tzinfo=UTC))  # the same start: the later one scores
    add(4, datetime(2026, 3, 10, tzinfo=UTC))
    assert revision_by_spans(evaluator) == in_force()
    assert sorted(in_force().values()) == [1, 3, 3, 4, 4]
    add(5, None)  # without a start: it overtakes every one before it
    assert revision_by_spans(evaluator) == in_force() == {call["transcription_id"]: 5 for call in calls}


def test_transcription_json_carries_evaluator_revision_beside_sync(api_user, load):
    payload = builders.evaluator_payload()
    scored = builders.transcription_payload(evaluator=payload)
    unscored = builders.transcription_payload(status="PENDING", details=None)
    load(evaluators=[payload], transcriptions=[scored, unscored])
    api = client_for(api_user)
    one = api.get(f"{API}/transcriptions/{scored['transcription_id']}/").json()["data"]
    keys = list(one)
    assert one["evaluator_revision"] == 1 and keys.index("evaluator_revision") == keys.index("sync") - 1
    assert "evaluator_revision" not in one["details"]
    rows = api.get(f"{API}/transcriptions/").json()["data"]
    listed = {row["transcription_id"]: row["evaluator_revision"] for row in rows}
    assert listed == {scored["transcription_id"]: 1, unscored["transcription_id"]: None}


@pytest.fixture
def api_user(db):
    return user_with("view_transcription", "view_evaluator")


def test_revisions_api_lists_newest_first_in_heifys_envelope(api_user, load):
    payload = builders.evaluator_payload()
    load(evaluators=[payload])
    changed = [dict(c) for c in payload["criteria"]]
    changed[0]["weight"], changed[2]["weight"] = 50, 50
    load(evaluators=[{**payload, "criteria": changed, "updated_at": "2026-03-01T09:00:00+00:00"}])
    api = client_for(api_user)
    body = api.get(f"{API}/evaluators/{payload['evaluator_id']}/revisions/").json()
    assert set(body) == {"data", "next_cursor"} and body["next_cursor"] is None
    assert [r["number"] for r in body["data"]] == [2, 1]
    assert body["data"][0]["source"] == "heify" and body["data"][0]["criteria"][0]["weight"] == 50
    assert body["data"][1]["in_force_from"] is None
    page = api.get(f"{API}/evaluators/{payload['evaluator_id']}/revisions/?limit=1").json()
    assert len(page["data"]) == 1 and page["next_cursor"]
    assert_error(api.get(f"{API}/evaluators/nope/revisions/"), 404)
    assert_error(client_for(user_with("view_transcription", username="other")).get(
        f"{API}/evaluators/{payload['evaluator_id']}/revisions/"), 403)


def test_a_revision_cannot_be_changed(load):
    load(evaluators=[builders.evaluator_payload()])
    revision = EvaluatorRevision.objects.get()
    revision.criteria = []
    with pytest.raises(ValueError, match="immutable"):
        revision.save()


def test_admin_shows_revisions_with_a_diff_and_pages_say_which_revision_scored_a_call(client, load):
    payload = builders.evaluator_payload()
    participant = builders.participant_payload()
    call = builders.transcription_payload(evaluator=payload, participant=participant)
    load(evaluators=[payload], participants=[participant], transcriptions=[call])
    changed = [dict(c) for c in payload["criteria"]]
    changed[0]["weight"], changed[2]["weight"] = 50, 50
    changed.append({"id": builders.new_id(), "name": "Empathy", "description": "Kind?", "type": "STRICT", "weight": 0})
    # In force after the call was completed (2026-03-07): the call was scored by revision 1.
    load(evaluators=[{**payload, "criteria": changed, "updated_at": "2026-03-10T09:00:00+00:00"}])
    manager = User.objects.create_user("max", password="pw-for-tests-1", is_staff=True)
    manager.groups.add(Group.objects.get(name="QA manager"))
    client.force_login(manager)

    evaluator = Evaluator.objects.get()
    edit = client.get(reverse("admin:qa_evaluator_change", args=[evaluator.pk])).content.decode()
    history_url = reverse("admin:qa_evaluatorrevision_evaluator", args=[evaluator.pk])
    assert history_url in edit
    page = client.get(history_url)
    assert page.status_code == 200
    diff = {row["name"]: (row["change"], row["fields"]) for row in page.context["diff"]}
    assert diff == {"Greeting": ("changed", ["weight"]), "No offensive language": ("unchanged", []),
                    "Issue resolved": ("changed", ["weight"]), "Empathy": ("added", [])}
    back = client.get(history_url, {"a": 2, "b": 1}).context["diff"]
    assert {row["name"]: row["change"] for row in back}["Empathy"] == "removed"

    pk = Transcription.objects.get().pk
    review = client.get(reverse("admin:qa_reviewitem_change", args=[pk])).content.decode()
    assert "Evaluator revision" in review and "revision 1" in review
    dashboard = client.get(reverse("admin:qa_participant_change", args=[Participant.objects.get().pk]),
                           {"as_of": "2026-03-31"})
    assert [c["evaluator_revision"] for c in dashboard.context["calls"]] == [1]
    assert 'data-testid="call-revision">1<' in dashboard.content.decode()


def test_a_reviewer_cannot_reach_revisions_without_reading_evaluators(client, load):
    load(evaluators=[builders.evaluator_payload()])
    nobody = User.objects.create_user("n", password="pw-for-tests-1", is_staff=True)
    client.force_login(nobody)
    response = client.get(reverse("admin:qa_evaluatorrevision_evaluator", args=[Evaluator.objects.get().pk]))
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_evaluators_already_here_get_revision_1_by_migration():
    from tests.qa.test_migrations import migrate

    apps = migrate(("qa", "0011_review_queue_names"))
    try:
        Evaluator_ = apps.get_model("qa", "Evaluator")
        Criterion_ = apps.get_model("qa", "Criterion")
        old = Evaluator_.objects.create(heify_id="e-1", tag="Support")
        Criterion_.objects.create(evaluator=old, position=1, name="Resolved", type="boolean", weight="80.00")
        Criterion_.objects.create(evaluator=old, position=0, name="Greeting", type="boolean", weight="20.00")
        Evaluator_.objects.create(tag="Local draft")
        Revision = migrate(("qa", "0012_evaluator_revisions")).get_model("qa", "EvaluatorRevision")
        rows = {r.evaluator.tag: r for r in Revision.objects.select_related("evaluator")}
        assert {tag: (r.number, r.source, r.in_force_from) for tag, r in rows.items()} == {
            "Support": (1, "heify", None), "Local draft": (1, "local", None)}
        assert rows["Support"].criteria == [
            {"name": "Greeting", "description": "", "type": "boolean", "weight": 20.0},
            {"name": "Resolved", "description": "", "type": "boolean", "weight": 80.0},
        ]
    finally:
        migrate()
