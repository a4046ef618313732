"""Every list fits a 1280x800 laptop screen: no horizontal scrolling, no header cut short."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from qa.mirror.models import Transcription
from qa.reviews import queues
from syncer import demo, mirror

# What overflows: the page itself, any box that scrolls sideways (the changelist's
# `.results`), and any column header whose text is cut ("IN QUEUE FO").
OVERFLOW = """() => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) found.push(`the page: ${root.scrollWidth} px in ${root.clientWidth}`);
  for (const box of document.querySelectorAll("#content *")) {
    const style = getComputedStyle(box);
    if (["auto", "scroll"].includes(style.overflowX) && box.scrollWidth > box.clientWidth + 1) {
      found.push(`${box.tagName.toLowerCase()}.${box.className}: ${box.scrollWidth} px in ${box.clientWidth}`);
    }
  }
  for (const header of document.querySelectorAll("thead th")) {
    const text = header.querySelector(".text") || header;
    if (text.scrollWidth > text.clientWidth + 1) found.push(`header "${header.innerText.trim()}" is cut`);
  }
  return found;
}"""


@pytest.fixture
def demo_account(db):
    mirror.load_snapshot(demo.generate(seed=5, transcriptions=150))
    boss = User.objects.create_superuser("boss", password="a-long-test-password")
    # Some calls reviewed, so that the lists show scores of record beside the AI's (ranges, critical fails).
    reviewable = Transcription.objects.filter(status="COMPLETED", score__isnull=False).exclude(group="ARCHIVED")
    for call in reviewable.order_by("-occurred_at")[:12]:
        results = list(call.criterion_results.exclude(passed=None).values_list("name", "passed")[:2])
        queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=boss, verdicts=[
            queues.Verdict(name, passed=not passed, reason="layout") if kind != "scale" else
            queues.Verdict(name, value=1 if passed else 5, reason="layout")
            for (name, passed), kind in zip(results, call.criterion_results.exclude(passed=None).values_list(
                "type", flat=True)[:2], strict=True)])


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")


LISTS = [
    reverse("admin:qa_transcription_changelist"),
    reverse("admin:qa_reviewitem_changelist"),
    reverse("admin:qa_reviewitem_changelist") + "?queue=UNDER_REVIEW",
    reverse("admin:qa_reviewitem_changelist") + "?queue=ARCHIVED",
    reverse("admin:qa_reviewitem_changelist") + "?queue=none",
    reverse("admin:qa_participant_changelist"),
    reverse("admin:qa_evaluator_changelist"),
    reverse("admin:qa_configuration_changelist"),
    reverse("admin:qa_participant_team"),
]


@pytest.mark.django_db(transaction=True)
def test_no_list_overflows_a_1280x800_screen(live_server, laptop, demo_account, screenshot_at):
    sign_in(laptop, live_server)
    problems = {}
    for url in LISTS:
        laptop.goto(live_server.url + url)
        found = laptop.evaluate(OVERFLOW)
        if found:
            problems[url] = found
    laptop.goto(live_server.url + reverse("admin:qa_transcription_changelist"))
    screenshot_at(laptop, "calls-list-1280")
    laptop.goto(live_server.url + reverse("admin:qa_reviewitem_changelist"))
    screenshot_at(laptop, "review-queue-1280")
    laptop.goto(live_server.url + reverse("admin:qa_reviewitem_changelist") + "?queue=UNDER_REVIEW")
    screenshot_at(laptop, "review-queue-under-review-1280")
    assert not problems, problems


@pytest.mark.django_db(transaction=True)
def test_long_names_are_cut_with_the_whole_name_on_hover(live_server, laptop, demo_account):
    sign_in(laptop, live_server)
    laptop.goto(live_server.url + reverse("admin:qa_transcription_changelist"))
    names = laptop.evaluate("""() => [...document.querySelectorAll('#result_list tbody .field-name_display [title]')]
        .map(name => ({title: name.title, text: name.textContent, cut: name.scrollWidth > name.clientWidth}))""")
    assert names and all(name["title"] == name["text"] for name in names)
    assert any(name["cut"] for name in names)  # the demo's long file names are cut, not wrapped
    # One line per row: a file name no longer breaks mid-word.
    heights = laptop.evaluate("""() => [...document.querySelectorAll('#result_list tbody tr')]
        .map(row => row.getBoundingClientRect().height)""")
    assert max(heights) < 1.5 * min(heights), heights
