"""A reviewer's day in a real browser: sign in, claim the most urgent call, write a note, archive it."""

import pytest
from django.contrib.auth.models import Group, User

from qa.mirror.models import Transcription
from qa.reviews.models import ReviewEvent
from syncer import mirror
from tests import builders


def call(name, *, critical, day):
    payload = builders.transcription_payload(
        name=name, group="PENDING_REVIEW", created_at=f"2026-03-{day:02d}T09:00:00+00:00")
    payload["details"]["evaluation"]["critical_fail_triggered"] = critical
    return payload


@pytest.mark.django_db(transaction=True)
def test_reviewer_claims_the_most_urgent_call_notes_and_archives_it(live_server, page, screenshot):
    evaluator, participant = builders.evaluator_payload(), builders.participant_payload(tag="Sarah Johnson")
    mirror.load_snapshot(builders.snapshot(
        evaluators=[evaluator], participants=[participant],
        transcriptions=[
            {**call("routine.mp3", critical=False, day=1), "evaluator_id": evaluator["evaluator_id"],
             "participant_id": participant["participant_id"]},
            {**call("rude-agent.mp3", critical=True, day=5), "evaluator_id": evaluator["evaluator_id"],
             "participant_id": participant["participant_id"]},
            {**call("older-routine.mp3", critical=False, day=2), "evaluator_id": evaluator["evaluator_id"],
             "participant_id": participant["participant_id"]},
        ],
    ))
    reviewer = User.objects.create_user("rita", password="a-long-test-password", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewer"))

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "rita")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.get_by_role("link", name="Pending review").first.click()

    # The queue lists the critical fail first, although it is the newest.
    first_row = page.locator("#result_list tbody tr").first
    assert "rude-agent.mp3" in first_row.inner_text()
    first_row.locator("a").first.click()
    page.get_by_role("button", name="Start review").click()
    assert page.get_by_test_id("queue").inner_text() == "under review"
    assert page.get_by_test_id("assignee").inner_text() == "rita"

    page.get_by_label("Review note").fill("Agent raised their voice at 02:10; coaching needed.")
    page.get_by_role("button", name="Save note").click()
    assert "Note saved" in page.locator(".messagelist").inner_text()
    assert "coaching needed" in page.get_by_test_id("history").inner_text()
    screenshot("review-page")

    undecided = page.get_by_test_id("undecided").inner_text()
    assert undecided == "Undecided: Greeting, No offensive language, Issue resolved."
    page.get_by_role("button", name="Agree with the AI on the rest and archive").click()
    # On to the next call of the queue it came from, claimed: the oldest of the two routine calls.
    assert "Archived. Next: “routine.mp3”, which you are now reviewing." in page.locator(".messagelist").inner_text()
    assert page.get_by_test_id("assignee").inner_text() == "rita"

    archived = Transcription.objects.get(name="rude-agent.mp3")
    assert archived.group == "ARCHIVED" and archived.assigned_to is None
    assert list(ReviewEvent.objects.filter(transcription=archived).order_by("id").values_list("action", flat=True)) \
        == ["claim", "note", *["verdict"] * archived.criterion_results.count(), "archive"]
