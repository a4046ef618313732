"""The agreement page at 1280x800 in a real browser: a manager reads a scale criterion's values (the AI's against
the reviewers', the weighted kappa and its interval) beside the pass/fail table."""

import pytest

from qa.mirror.models import Transcription
from qa.reviews import queues
from syncer import mirror
from tests import builders
from tests.browser.test_calibration import sign_in
from tests.browser.test_review_keyboard import laptop  # noqa: F401 (a fixture)
from tests.builders import person
from tests.qa.reviews.test_review_page import SCALE_EVALUATOR


@pytest.mark.django_db(transaction=True)
def test_a_manager_reads_the_values_of_a_scale_criterion(live_server, laptop, screenshot_at):  # noqa: F811
    evaluator = builders.evaluator_payload(tag="Support scorecard", **SCALE_EVALUATOR)
    ai = [4, 4, 3, 5, 2, 1, 4, 3]
    given = [4, 5, 3, 4, 1, 2, 4, 2]
    bodies = []
    for n, value in enumerate(ai):
        body = builders.transcription_payload(evaluator=evaluator, group="PENDING_REVIEW",
                                              created_at=f"2026-03-{n + 1:02d}T10:00:00+00:00")
        body["details"]["evaluation"] = {"score": 20 + value * 10 + 30, "critical_fail_triggered": False,
                                         "criteria_results": [
            {"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": value >= 3, "value": value},
            {"name": "Resolved", "passed": True}, {"name": "No insults", "passed": True}]}
        bodies.append(body)
    mirror.load_snapshot(builders.snapshot(evaluators=[evaluator], transcriptions=bodies))
    ann = person("ann", "Reviewer")
    person("max", "QA manager")
    for call, value, was in zip(Transcription.objects.order_by("occurred_at"), given, ai, strict=True):
        queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
        queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann, verdicts=[
            queues.Verdict("Empathy", value=value, reason="" if value == was else "Heard otherwise."),
            queues.Verdict("Greeting", True)])

    sign_in(laptop, live_server, "max")
    laptop.goto(f"{live_server.url}/admin/qa/evaluatoragreement/")
    values = laptop.locator("#agreement-values")
    values.scroll_into_view_if_needed()
    row = values.locator("tr[data-criterion='Empathy']").first.inner_text()
    assert "\t8\t" in row and "37.5" in row and " to " in row  # 8 compared, 3 the same value, an interval
    assert laptop.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot_at(laptop, "agreement-values")
    assert not laptop.failures
