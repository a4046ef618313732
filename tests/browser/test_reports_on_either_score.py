"""The dashboard and the team overview on either score, on a 1280x800 laptop screen: both scores side by side,
nothing overflowing (screenshots in var/screenshots, read by a person)."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from qa.mirror.models import Participant, Transcription
from qa.reviews import queues
from syncer import demo, mirror
from tests.browser.test_layout import OVERFLOW, sign_in


@pytest.fixture
def reviewed_demo(db):
    """The demo account, with a QA manager's verdicts on ten calls of its busiest agent: on each, the heaviest
    criterion the AI passed failed after all (a reason given), so that the two scores differ."""
    mirror.load_snapshot(demo.generate(seed=5, transcriptions=150))
    boss = User.objects.create_superuser("boss", password="a-long-test-password")
    busiest = max(Participant.objects.all(), key=lambda p: p.transcriptions.filter(score__isnull=False).count())
    calls = busiest.transcriptions.filter(score__isnull=False, evaluator__isnull=False).exclude(group="ARCHIVED")
    reviewed = 0
    for call in calls.order_by("-occurred_at")[:25]:
        heaviest = call.criterion_results.filter(passed=True, weight__gt=0).order_by("-weight", "position").values_list(
            "name", "type").first()
        if heaviest is None or reviewed == 10:
            continue
        name, kind = heaviest
        verdict = queues.Verdict(name, value=1, reason="heard otherwise") if kind == "scale" \
            else queues.Verdict(name, passed=False, reason="heard otherwise")
        queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=boss, verdicts=[verdict])
        reviewed += 1
    assert Transcription.objects.filter(reviewed_at__isnull=False).count() == reviewed > 5
    return busiest


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_and_the_team_overview_on_both_scores(live_server, laptop, reviewed_demo, screenshot_at):
    sign_in(laptop, live_server)
    dashboard = live_server.url + reverse("admin:qa_participant_change", args=[reviewed_demo.pk])
    laptop.goto(dashboard)
    assert laptop.evaluate(OVERFLOW) == []
    panel = laptop.get_by_test_id("scores-compared")
    reviewed = Transcription.objects.filter(reviewed_at__isnull=False).count()  # 6 to 10, by the day it runs on
    assert f"{reviewed} of" in panel.inner_text().lower() and "Reviewed calls" in panel.inner_text()
    screenshot_at(laptop, "reports-dashboard-ai")
    panel.scroll_into_view_if_needed()
    screenshot_at(laptop, "reports-dashboard-scores-compared")
    laptop.locator("#qa-calls").scroll_into_view_if_needed()
    screenshot_at(laptop, "reports-dashboard-calls-both-scores")
    laptop.select_option("select[name=score]", "reviewed")
    laptop.click("#qa-dashboard button[type=submit]")
    laptop.wait_for_url("**score=reviewed**")
    assert "on the reviewed score" in laptop.inner_text("#qa-dashboard h2").lower()
    assert laptop.evaluate(OVERFLOW) == []
    screenshot_at(laptop, "reports-dashboard-reviewed")

    laptop.goto(live_server.url + reverse("admin:qa_participant_team") + "?score=reviewed&o=-reviewed_calls")
    assert laptop.evaluate(OVERFLOW) == []
    assert reviewed_demo.tag in laptop.inner_text("#team tbody tr:first-child")
    screenshot_at(laptop, "reports-team-reviewed")
    laptop.get_by_role("link", name="AI score").click()
    assert laptop.evaluate(OVERFLOW) == []
    screenshot_at(laptop, "reports-team-ai")
