"""The read-only transcription admin: changelist, filters, detail page, permissions."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from qa.mirror.models import Transcription
from tests import builders

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:qa_transcription_changelist")


def change_url(transcription):
    return reverse("admin:qa_transcription_change", args=[transcription.pk])


def listed_names(response):
    assert response.status_code == 200
    return {t.name for t in response.context["cl"].result_list}


def filter_link(response, title, display):
    """The query string of one choice in the changelist's sidebar, as a user would click it."""
    for spec in response.context["cl"].filter_specs:
        if spec.title == title:
            for choice in spec.choices(response.context["cl"]):
                if choice["display"] == display:
                    return choice["query_string"]
            raise AssertionError(f"filter {title!r} has no choice {display!r}")
    raise AssertionError(f"no filter {title!r}")


@pytest.fixture
def world(load):
    """Two evaluators, two participants and calls that differ in each filtered column."""
    conf = builders.configuration_payload(tag="Support line")
    ev_a = builders.evaluator_payload(tag="Scorecard A")
    ev_b = builders.evaluator_payload(tag="Scorecard B")
    ag_1 = builders.participant_payload(tag="Alice Agent")
    ag_2 = builders.participant_payload(tag="Bob Agent")
    failed = builders.transcription_payload(
        configuration=conf, evaluator=ev_b, participant=ag_2, name="broken.mp3", status="FAILED",
        details=None, error={"code": "AUDIO_UNREADABLE", "message": "The file could not be decoded."},
    )
    critical = builders.transcription_payload(
        configuration=conf, evaluator=ev_a, participant=ag_1, name="rude.mp3", group="PENDING_REVIEW",
    )
    critical["details"]["evaluation"]["critical_fail_triggered"] = True
    critical["details"]["evaluation"]["score"] = 12.5
    txs = [
        builders.transcription_payload(
            configuration=conf, evaluator=ev_a, participant=ag_1, name="hello.mp3",
        ),
        critical,
        builders.transcription_payload(
            configuration=conf, evaluator=ev_b, participant=ag_2, name="archived.mp3", group="ARCHIVED",
        ),
        failed,
        builders.transcription_payload(name="unscored.mp3"),  # no evaluator, no participant
    ]
    load(configurations=[conf], evaluators=[ev_a, ev_b], participants=[ag_1, ag_2], transcriptions=txs)
    return {"ev_a": ev_a, "ev_b": ev_b, "ag_1": ag_1, "ag_2": ag_2}


def test_changelist_shows_every_column(admin_client, world):
    response = admin_client.get(CHANGELIST)
    assert listed_names(response) == {"hello.mp3", "rude.mp3", "archived.mp3", "broken.mp3", "unscored.mp3"}
    # The critical call's badge beside its struck-through score (no column of its own).
    assert response.content.decode().count('class="qa-badge qa-critical"') == 1
    assert "<s>12.5</s>" in response.content.decode()
    for text in ("Alice Agent", "Scorecard B", "3:05", "Pending Review", "Failed", "2026-03-07 10:00"):
        assert text in response.content.decode()
    assert response.context["cl"].date_hierarchy is None
    assert response.context["cl"].list_per_page == 50


@pytest.mark.parametrize(
    ("title", "display", "expected"),
    [
        ("status", "Failed", {"broken.mp3"}),
        ("status", "Completed", {"hello.mp3", "rude.mp3", "archived.mp3", "unscored.mp3"}),
        ("group", "Pending Review", {"rude.mp3"}),
        ("group", "Archived", {"archived.mp3"}),
        ("group", "No group", {"hello.mp3", "broken.mp3", "unscored.mp3"}),
        ("evaluator", "Scorecard A", {"hello.mp3", "rude.mp3"}),
        ("evaluator", "No evaluator", {"unscored.mp3"}),
        ("participant", "Bob Agent", {"archived.mp3", "broken.mp3"}),
        ("participant", "No participant", {"unscored.mp3"}),
        ("critical fail triggered", "Yes", {"rude.mp3"}),
        ("critical fail triggered", "No", {"hello.mp3", "archived.mp3", "broken.mp3", "unscored.mp3"}),
    ],
)
def test_each_filter_narrows_the_list(admin_client, world, title, display, expected):
    query_string = filter_link(admin_client.get(CHANGELIST), title, display)
    assert listed_names(admin_client.get(CHANGELIST + query_string)) == expected


def test_date_filter(admin_client, world, load):
    now = timezone.now().isoformat()
    load(transcriptions=[
        builders.transcription_payload(name="today.mp3", created_at=now),
        builders.transcription_payload(name="queued.mp3", status="PENDING", created_at=None, details=None),
    ])
    response = admin_client.get(CHANGELIST)
    today = admin_client.get(CHANGELIST + filter_link(response, "date", "Today"))
    # A call Heify gives no date yet is dated when the back office first sees it.
    assert listed_names(today) == {"today.mp3", "queued.mp3"}
    last_week = admin_client.get(CHANGELIST + filter_link(response, "date", "Past 7 days"))
    assert listed_names(last_week) == {"today.mp3", "queued.mp3"}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("archived", {"archived.mp3"}),
        ("alice", {"hello.mp3", "rude.mp3"}),
        ('"scorecard b"', {"archived.mp3", "broken.mp3"}),
        ('"support line"', {"hello.mp3", "rude.mp3", "archived.mp3", "broken.mp3"}),
    ],
)
def test_search_by_name_tags(admin_client, world, term, expected):
    assert listed_names(admin_client.get(CHANGELIST, {"q": term})) == expected


def test_search_by_heify_id(admin_client, world):
    tx = Transcription.objects.get(name="rude.mp3")
    assert listed_names(admin_client.get(CHANGELIST, {"q": tx.heify_id})) == {"rude.mp3"}


def test_changelist_query_count_does_not_grow_with_rows(admin_client, load):
    conf = builders.configuration_payload()
    evaluators = [builders.evaluator_payload() for _ in range(2)]
    participants = [builders.participant_payload() for _ in range(2)]
    load(configurations=[conf], evaluators=evaluators, participants=participants)

    def add_calls(count):
        load(transcriptions=[
            builders.transcription_payload(
                configuration=conf, evaluator=evaluators[i % 2], participant=participants[i % 2],
                name=f"call-{i}.mp3",
            )
            for i in range(count)
        ])

    def queries_for_changelist():
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(CHANGELIST)
        assert response.status_code == 200
        return len(response.context["cl"].result_list), len(captured)

    add_calls(3)
    rows, few = queries_for_changelist()
    assert rows == 3
    add_calls(40)
    rows, many = queries_for_changelist()
    assert rows == 43
    assert many == few


@pytest.fixture
def scored_call(load):
    conf = builders.configuration_payload()
    ev = builders.evaluator_payload(tag="Support scorecard")
    part = builders.participant_payload(tag="Sarah Support")
    tx = builders.transcription_payload(configuration=conf, evaluator=ev, participant=part, name="scored.mp3")
    tx["details"]["fields"]["fields"].append({"name": "next_action", "value": "Send confirmation email"})
    tx["details"]["evaluation"]["criteria_results"].append({"name": "Renamed since", "passed": True})
    load(configurations=[conf], evaluators=[ev], participants=[part], transcriptions=[tx])
    return Transcription.objects.get(name="scored.mp3")


def criterion_row(html, name):
    match = re.search(rf'<tr [^>]*data-criterion="{re.escape(name)}">(.*?)</tr>', html, re.S)
    assert match, f"no row for criterion {name!r}"
    return match.group(0)


def test_detail_page_shows_the_call(admin_client, scored_call, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = admin_client.get(change_url(scored_call))
    assert response.status_code == 200
    html = response.content.decode()
    # Header facts.
    for text in ("Sarah Support", "Support scorecard", "3:05", scored_call.heify_id, "No group", "80"):
        assert text in html
    # Speaker turns, each labelled, agent and customer styled apart.
    assert "Good morning, this is Sarah from support." in html
    assert "Hi, I have an issue with my subscription." in html
    speaker = r'class="qa-turn qa-turn-{}">\s*<span class="qa-speaker">{} · {}'
    assert re.search(speaker.format("agent", "Agent", "SPEAKER_00"), html)
    assert re.search(speaker.format("customer", "Customer", "SPEAKER_01"), html)
    # Summary and extracted fields.
    assert "A billing issue, resolved." in html
    assert "POSITIVE" in html and "Send confirmation email" in html
    # The evaluation, criterion by criterion.
    greeting = criterion_row(html, "Greeting")
    assert "Failed" in greeting and "Standard opening?" in greeting and "weight 20" in greeting
    assert "Boolean" in greeting and '>0 <span class="qa-quiet">/ 20</span>' in greeting  # its points
    resolved = criterion_row(html, "Issue resolved")
    assert "Passed" in resolved and "Resolved?" in resolved and '>80 <span class="qa-quiet">/ 80</span>' in resolved
    strict = criterion_row(html, "No offensive language")
    assert "Passed" in strict and "Strict · critical" in strict and "Rude words?" in strict
    # A result whose criterion the evaluator no longer has still shows.
    assert "Passed" in criterion_row(html, "Renamed since")
    # Read-only: no form field to type into, no save button.
    assert 'name="_save"' not in html


def test_detail_page_of_a_failed_call_shows_its_error(admin_client, world):
    response = admin_client.get(change_url(Transcription.objects.get(name="broken.mp3")))
    assert response.status_code == 200
    assert "AUDIO_UNREADABLE" in response.content.decode()
    assert "The file could not be decoded." in response.content.decode()


def test_nothing_can_be_changed_or_deleted_and_add_means_upload(admin_client, scored_call):
    assert "Upload to Heify" in admin_client.get(reverse("admin:qa_transcription_add")).content.decode()
    response = admin_client.post(change_url(scored_call), {"name": "renamed.mp3", "group": "ARCHIVED"})
    assert response.status_code == 403
    scored_call.refresh_from_db()
    assert (scored_call.name, scored_call.group) == ("scored.mp3", None)
    delete_url = reverse("admin:qa_transcription_delete", args=[scored_call.pk])
    assert admin_client.get(delete_url).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk_delete = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [scored_call.pk], "post": "yes"}
    )
    assert bulk_delete.status_code in (200, 302)
    assert Transcription.objects.filter(pk=scored_call.pk).exists()


def test_a_call_whose_evaluator_and_participant_are_missing_still_renders(admin_client, load):
    ghost_evaluator, ghost_participant = builders.new_id(), builders.new_id()
    load(transcriptions=[builders.transcription_payload(
        name="orphan.mp3", evaluator_id=ghost_evaluator, participant_id=ghost_participant,
    )])
    response = admin_client.get(CHANGELIST)
    assert listed_names(response) == {"orphan.mp3"}
    assert ghost_evaluator[:8] in response.content.decode()
    tx = Transcription.objects.get()
    assert tx.evaluator_id == ghost_evaluator
    response = admin_client.get(change_url(tx))
    assert response.status_code == 200
    html = response.content.decode()
    assert ghost_evaluator in html and ghost_participant in html
    assert "Failed" in criterion_row(html, "Greeting")  # the results show, without the evaluator's details
    assert "The evaluator is not in the back office" in criterion_row(html, "Greeting")
