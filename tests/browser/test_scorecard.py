"""Scorecard intelligence in a real browser: a manager previews a weight change, then opens the agreement page."""

import pytest
from django.contrib.auth.models import Group, User

from qa.mirror.models import Evaluator, Transcription
from qa.reviews import queues
from syncer import mirror
from tests import builders
from tests.browser.test_dashboard import INK


@pytest.mark.django_db(transaction=True)
def test_manager_previews_a_weight_change_then_reads_the_agreement(live_server, page, screenshot):
    evaluator = builders.evaluator_payload(tag="Support calls")
    calls = []
    for n in range(12):
        body = builders.transcription_payload(evaluator=evaluator, group="PENDING_REVIEW",
                                              created_at=f"2026-03-{n + 1:02d}T10:00:00+00:00")
        greeting, resolved = n % 3 != 0, n % 2 == 0
        body["details"]["evaluation"]["score"] = 20 * greeting + 80 * resolved
        body["details"]["evaluation"]["criteria_results"] = [
            {"name": "Greeting", "passed": greeting}, {"name": "No offensive language", "passed": True},
            {"name": "Issue resolved", "passed": resolved}]
        calls.append(body)
    mirror.load_snapshot(builders.snapshot(evaluators=[evaluator], transcriptions=calls))
    manager = User.objects.create_user("max", password="a-long-test-password", is_staff=True)
    manager.groups.add(Group.objects.get(name="QA manager"))
    manager = User.objects.get(pk=manager.pk)
    for n, call in enumerate(Transcription.objects.order_by("occurred_at")[:6]):
        queues.transcription_claim(transcription_id=call.pk, reviewer=manager)
        queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=manager,
                                             verdicts=[queues.Verdict("Greeting", n % 2 == 0,
                                                                      "" if n % 2 == 0 else "Heard a greeting.")])

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "max")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    pk, version = Evaluator.objects.values_list("pk", "version").get()
    page.goto(f"{live_server.url}/admin/qa/evaluator/{pk}/change/")
    page.fill("input[name='criteria-0-weight']", "70")
    page.fill("input[name='criteria-2-weight']", "30")
    page.click("#qa-whatif-run")
    flips = page.get_by_test_id("whatif-flips")
    flips.wait_for()
    assert "would go from pass to fail" in flips.inner_text()
    figures = page.get_by_test_id("whatif-figures").inner_text()
    assert "Average score" in figures and "Pass rate" in figures
    page.wait_for_function("window.Chart && Chart.getChart(document.getElementById('qa-whatif-chart'))")
    assert page.evaluate(INK, "qa-whatif-chart") > 1000
    datasets = page.evaluate(
        "Chart.getChart(document.getElementById('qa-whatif-chart')).data.datasets.map(d => d.label)")
    assert datasets == ["Before", "After"]
    # A preview saves nothing: same version, still one revision.
    assert Evaluator.objects.values_list("version", flat=True).get() == version
    assert Evaluator.objects.get().revisions.count() == 1
    page.locator("#qa-whatif").scroll_into_view_if_needed()
    screenshot("evaluator-what-if")

    page.goto(f"{live_server.url}/admin/qa/evaluatoragreement/")
    table = page.locator("#agreement-criteria")
    table.wait_for()
    row = table.locator("tr[data-criterion='Greeting']").inner_text()
    assert "6" in row and "50" in row  # 6 reviewed, half of them agreed
    screenshot("agreement")
