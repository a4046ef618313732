"""The review page a reviewer works on all day: verdicts in the evaluation table, saved in place,
messages that name the criterion, the score checkable by hand, one call reachable from both pages,
and titles a QA person would use."""

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from qa.mirror.models import Transcription
from qa.reviews import queues
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann():
    return person("ann", "Reviewer")


@pytest.fixture
def max_(db):
    return person("max", "QA manager")


SCALE_EVALUATOR = {
    "criteria": [
        {"id": builders.new_id(), "name": "Greeting", "description": "Standard opening?", "type": "BOOLEAN",
         "weight": 20},
        {"id": builders.new_id(), "name": "Empathy", "description": "Rate 1-5.", "type": "SCALE", "weight": 50},
        {"id": builders.new_id(), "name": "Resolved", "description": "Resolved?", "type": "BOOLEAN", "weight": 30},
        {"id": builders.new_id(), "name": "No insults", "description": "Rude words?", "type": "STRICT", "weight": 0},
    ],
}


def load_scale_call(load) -> dict:
    """One call scored 90 by SCALE_EVALUATOR, every criterion passed; the evaluator's payload is returned."""
    evaluator = builders.evaluator_payload(**SCALE_EVALUATOR)
    payload = builders.transcription_payload(evaluator=evaluator, group="PENDING_REVIEW", name="scale.mp3")
    payload["details"]["evaluation"] = {"score": 90.0, "critical_fail_triggered": False, "criteria_results": [
        {"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True},
        {"name": "Resolved", "passed": True}, {"name": "No insults", "passed": True},
    ]}
    load(evaluators=[evaluator], transcriptions=[payload])
    return evaluator


@pytest.fixture
def scale_call(load):
    load_scale_call(load)
    return Transcription.objects.get()


def review_url(call, step=None):
    if step:
        return reverse("admin:qa_reviewitem_step", args=[call.pk, step])
    return reverse("admin:qa_reviewitem_change", args=[call.pk])


def row_html(page: str, n: int) -> str:
    match = re.search(rf'<tr id="qa-criterion-{n}".*?</tr>', page, re.S)
    assert match, f"no row {n}"
    return match.group(0)


# --- verdicts in the evaluation table -----------------------------------------------------------------


def test_verdict_controls_sit_in_the_evaluation_table_before_the_conversation(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    page = client.get(review_url(scale_call)).content.decode()
    table = page[page.index('<table class="qa-table qa-criteria">'):]
    table = table[:table.index("</table>")]
    for n in range(1, 5):
        assert f'form="qa-verdict-form-{n}"' in table  # the controls, in the AI's row
        assert f'id="qa-verdict-form-{n}"' in page  # their form, outside the admin's own
    assert page.index('form="qa-verdict-form-1"') < page.index("qa-conversation-heading")
    assert "qa-verdicts-heading" not in page  # no second table far below


def test_a_saved_disagree_shows_in_its_row_and_its_control(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    client.post(review_url(scale_call, "verdict"), {"criterion": "Empathy", "agrees": "no", "reason": "cold tone"})
    row = row_html(client.get(review_url(scale_call)).content.decode(), 2)
    assert "Disagrees: cold tone — ann" in row
    assert '<option value="no" selected>Disagree</option>' in row  # it showed "Agree" again
    assert 'value="cold tone"' in row


def test_every_verdict_message_names_the_criterion(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    refused = client.post(review_url(scale_call, "verdict"), {"criterion": "Empathy", "agrees": "no"}, follow=True)
    assert "Empathy: not saved — Say why your result differs" in refused.content.decode()
    saved = client.post(review_url(scale_call, "verdict"), {"criterion": "Resolved", "agrees": "yes"}, follow=True)
    assert "Resolved: saved — Agrees — ann." in saved.content.decode()


def test_without_the_script_a_save_comes_back_at_the_row(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    response = client.post(review_url(scale_call, "verdict"), {"criterion": "Resolved", "agrees": "yes"})
    assert response.status_code == 302 and response["Location"].endswith("/change/#qa-criterion-3")


def test_the_script_gets_json_and_no_message_waits_for_the_next_page(client, scale_call, ann):
    queues.transcription_claim(transcription_id=scale_call.pk, reviewer=ann)
    client.force_login(ann)
    url = review_url(scale_call, "verdict")
    saved = client.post(url, {"criterion": "Empathy", "agrees": "no", "reason": "cold"},
                        HTTP_ACCEPT="application/json")
    assert saved.status_code == 200
    assert saved.json() == {"ok": True, "message": "Empathy: saved — Disagrees: cold — ann.", "verdict": {
        "criterion": "Empathy", "agrees": False, "reason": "cold", "label": "Disagrees: cold — ann"}}
    refused = client.post(url, {"criterion": "Greeting", "agrees": "no"}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 400 and refused.json()["message"].startswith("Greeting: not saved — Say why")
    page = client.get(review_url(scale_call))
    assert not list(page.context["messages"])


def test_the_script_is_told_plainly_when_the_role_forbids(client, scale_call):
    nobody = User.objects.create_user("nobody", password="pw-for-tests-1", is_staff=True)
    client.force_login(nobody)
    response = client.post(review_url(scale_call, "verdict"), {"criterion": "Greeting", "agrees": "yes"},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert response.json()["message"] == "Greeting: not saved — You are not allowed to record review verdicts."


def test_a_reviewer_who_may_not_record_verdicts_is_told_why(client, scale_call, ann):
    client.force_login(ann)
    page = client.get(review_url(scale_call)).content.decode()
    assert "Start review first: verdicts come from the reviewer who holds the call." in page
    assert 'form="qa-verdict-form-1"' not in page


# --- the score, checkable by hand -------------------------------------------------------------------------


def test_scale_criteria_show_their_range_and_every_criterion_its_points(admin_client, scale_call):
    page = admin_client.get(review_url(scale_call)).content.decode()
    assert "30–50" in row_html(page, 2) and "3–5/5" in row_html(page, 2)  # Heify said only "passed"
    assert "20" in row_html(page, 1) and "/ 20" in row_html(page, 1)
    total = re.search(r'data-testid="points-total">(.*?)</td>', page, re.S).group(1)
    assert "80–100" in total and "Heify's score 90" in total


def test_a_scale_value_heify_gives_is_shown_with_its_exact_points(admin_client, load):
    evaluator = builders.evaluator_payload(**SCALE_EVALUATOR)
    payload = builders.transcription_payload(evaluator=evaluator)
    payload["details"]["evaluation"] = {"score": 90.0, "critical_fail_triggered": False, "criteria_results": [
        {"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True, "value": 4},
        {"name": "Resolved", "passed": True}, {"name": "No insults", "passed": True},
    ]}
    load(evaluators=[evaluator], transcriptions=[payload])
    call = Transcription.objects.get()
    page = admin_client.get(reverse("admin:qa_transcription_change", args=[call.pk])).content.decode()
    assert "4/5" in row_html(page, 2) and ">40 <" in row_html(page, 2)
    total = re.search(r'data-testid="points-total">(.*?)</td>', page, re.S).group(1)
    assert re.search(r"^\s*90\s", total)


def test_points_come_from_the_revision_that_scored_the_call_not_the_current_criteria(admin_client, load):
    evaluator = load_scale_call(load)
    # A month after Heify scored the call, the weights change (revision 2): the call stays revision 1's.
    reweighted = [dict(c, weight=w) for c, w in zip(evaluator["criteria"], (40, 30, 30, 0), strict=True)]
    load(evaluators=[{**evaluator, "criteria": reweighted, "updated_at": "2026-04-07T10:00:00+00:00"}])
    call = Transcription.objects.get()
    for url in (review_url(call), reverse("admin:qa_transcription_change", args=[call.pk])):
        page = admin_client.get(url).content.decode()
        assert "revision 1" in page
        assert "/ 20" in row_html(page, 1) and "30–50" in row_html(page, 2)  # not 40, nor 18–30
        total = re.search(r'data-testid="points-total">(.*?)</td>', page, re.S).group(1)
        assert "80–100" in total  # 88–100 by the current weights


def test_a_critical_call_says_its_score_does_not_count(admin_client, load):
    payload = builders.transcription_payload(name="rude.mp3", group="PENDING_REVIEW")
    payload["details"]["evaluation"].update(score=95, critical_fail_triggered=True)
    load(transcriptions=[payload])
    call = Transcription.objects.get()
    page = admin_client.get(review_url(call)).content.decode()
    assert "does not count: a critical criterion failed" in page
    for changelist in ("admin:qa_reviewitem_changelist", "admin:qa_transcription_changelist"):
        listed = admin_client.get(reverse(changelist)).content.decode()
        assert "<s>95</s>" in listed and "the score does not count" in listed


# --- one call, one place to act -----------------------------------------------------------------------------


def test_the_transcription_page_and_the_review_page_link_to_each_other(admin_client, scale_call):
    details = reverse("admin:qa_transcription_change", args=[scale_call.pk])
    assert f'href="{review_url(scale_call)}"' in admin_client.get(details).content.decode()
    assert f'href="{details}"' in admin_client.get(review_url(scale_call)).content.decode()


def test_the_transcription_list_offers_queue_moves_to_managers_only(client, scale_call, ann, max_):
    changelist = reverse("admin:qa_transcription_changelist")
    data = {"action": "move_to_archived", "_selected_action": [scale_call.pk]}
    client.force_login(ann)
    assert "move_to_archived" not in client.get(changelist).content.decode()
    client.post(changelist, data)
    scale_call.refresh_from_db()
    assert scale_call.group == "PENDING_REVIEW"
    client.force_login(max_)
    assert "move_to_archived" in client.get(changelist).content.decode()
    client.post(changelist, data)
    scale_call.refresh_from_db()
    assert scale_call.group == "ARCHIVED"


# --- titles and labels -------------------------------------------------------------------------------------------


def test_screens_have_titles_a_qa_person_would_use(admin_client, scale_call):
    pages = {
        reverse("admin:qa_reviewitem_changelist"): "Pending review queue",
        reverse("admin:qa_reviewitem_changelist") + "?queue=ARCHIVED": "Archived queue",
        reverse("admin:qa_reviewitem_changelist") + "?queue=UNDER_REVIEW&mine=1": "My reviews",
        reverse("admin:qa_transcription_changelist"): "All calls",
        review_url(scale_call): "Review a call",
        reverse("admin:qa_transcription_change", args=[scale_call.pk]): "Call",
    }
    for url, title in pages.items():
        page = admin_client.get(url).content.decode()
        assert f"<h1>{title}</h1>" in page, url
        assert "Select review queue item" not in page and "View review queue item" not in page
        assert "Select transcription to view" not in page and "View transcription" not in page


def test_the_calls_list_says_upload_and_the_breadcrumbs_say_review_queues(admin_client, scale_call):
    calls = admin_client.get(reverse("admin:qa_transcription_changelist")).content.decode()
    assert "Upload a call" in calls and "Add transcription" not in calls
    review = admin_client.get(review_url(scale_call)).content.decode()
    assert "Review queues</a>" in review and "Review queue items" not in review


def test_no_column_header_reads_like_a_field_name(admin_client, load):
    load(evaluators=[builders.evaluator_payload()], participants=[builders.participant_payload()])
    for name in ("evaluator", "participant"):
        page = admin_client.get(reverse(f"admin:qa_{name}_changelist")).content.decode()
        assert "updated_at" not in page.lower() and "Updated in Heify" in page


def test_the_evaluator_language_filter_lists_only_languages_in_use(admin_client, load):
    load(evaluators=[builders.evaluator_payload(language="en"), builders.evaluator_payload(language="es")])
    response = admin_client.get(reverse("admin:qa_evaluator_changelist"))
    spec = next(s for s in response.context["cl"].filter_specs if s.title == "language")
    shown = [choice["display"] for choice in spec.choices(response.context["cl"])]
    assert shown == ["All", "English (en)", "Spanish (es)"]
    narrowed = admin_client.get(reverse("admin:qa_evaluator_changelist") + "?language=es")
    assert [e.language for e in narrowed.context["cl"].result_list] == ["es"]
