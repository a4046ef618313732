"""The agent's own page in the admin (/admin/me/), its acknowledge button, the admin refusing an agent every other
page, and the link form of a participant's page."""

import pytest
from django.test import Client

from qa.audit import AuditEvent
from qa.mirror.models import Participant
from qa.reviews.models import Dispute, ReviewAcknowledgement
from tests.builders import person

pytestmark = pytest.mark.django_db


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_agent_sees_their_calls_results_reasons_and_dashboard_and_nothing_of_anyone_else(
        agents, django_assert_max_num_queries):
    users, calls = agents
    client = signed_in(users["ana"])
    assert client.get("/admin/").url == "/admin/me/"  # the index sends an agent to their page
    with django_assert_max_num_queries(16):
        page = client.get("/admin/me/").content.decode()
    assert page.count('data-testid="agent-call"') == 2 and "ben.mp3" not in page and "Ben" not in page
    assert page.index("ana-new.mp3") < page.index("ana-old.mp3")  # newest first
    assert "The customer called back the next day." in page and "No greeting at all." not in page
    new = page[page.index(f'id="call-{calls["ana-new.mp3"].pk}"'):page.index(f'id="call-{calls["ana-old.mp3"].pk}"')]
    assert 'data-testid="score-of-record">60.0<' in new and "AI 90.0" in new and "reviewed by max" in new
    assert '<td data-label="AI">passed</td><td data-label="Reviewer">failed</td>' in new
    old = page[page.index(f'id="call-{calls["ana-old.mp3"].pk}"'):]
    assert 'data-testid="score-of-record">90.0<' in old and "not reviewed" in old and 'data-testid="acknowledge"' \
        not in old.split("</article>")[0]
    assert 'data-testid="agent-dashboard"' in page and 'data-testid="agent-avg">75' in page  # (60 + 90) / 2


def test_the_acknowledge_button(agents):
    users, calls = agents
    client = signed_in(users["ana"])
    new = calls["ana-new.mp3"]
    answer = client.post(f"/admin/me/calls/{new.pk}/acknowledge/", {"page": "1"})
    assert answer.status_code == 302 and answer.url == f"/admin/me/?page=1#call-{new.pk}"
    assert ReviewAcknowledgement.objects.get().reviewed_at == new.reviewed_at
    assert 'data-testid="acknowledged"' in client.get("/admin/me/").content.decode()
    assert client.post(f"/admin/me/calls/{calls['ben.mp3'].pk}/acknowledge/").status_code == 404
    assert signed_in(users["max"]).post(f"/admin/me/calls/{new.pk}/acknowledge/").status_code == 403
    refused = client.post(f"/admin/me/calls/{calls['ana-old.mp3'].pk}/acknowledge/", follow=True)
    assert "has not been reviewed yet" in refused.content.decode()


def test_an_agent_with_no_participant_is_told_so_and_others_are_refused_the_page(agents):
    users, _calls = agents
    page = signed_in(users["bo"]).get("/admin/me/").content.decode()
    assert 'data-testid="no-participant"' in page and 'data-testid="agent-call"' not in page
    assert signed_in(person("rita", "Reviewer")).get("/admin/me/").status_code == 403
    bo = signed_in(users["bo"])
    for address in ("/admin/qa/participant/", "/admin/qa/participant/team/", "/admin/knox/authtoken/",
                    "/admin/qa/transcription/export/csv/", "/admin/auth/user/"):
        assert bo.get(address).status_code == 403, address
    assert bo.get("/admin/password_change/").status_code == 200  # their own password, still


def test_a_manager_links_an_agent_on_the_participants_page(agents):
    users, _calls = agents
    ben = Participant.objects.get(tag="Ben")
    client = signed_in(users["max"])
    page = client.get(f"/admin/qa/participant/{ben.pk}/change/").content.decode()
    assert 'data-testid="agent-link"' in page and f'action="/admin/qa/participant/{ben.pk}/agent/"' in page
    rita = person("rita", "Reviewer")
    assert 'data-testid="agent-link"' not in signed_in(rita).get(
        f"/admin/qa/participant/{ben.pk}/change/").content.decode()
    refused = client.post(f"/admin/qa/participant/{ben.pk}/agent/", {"username": "ana"}, follow=True)
    assert [str(m) for m in refused.context["messages"]] == ["ana is already linked to Ana."]
    client.post(f"/admin/qa/participant/{ben.pk}/agent/", {"username": "bo"})
    assert Participant.objects.get(pk=ben.pk).agent_user == users["bo"]
    assert 'data-testid="agent-linked">bo<' in client.get(f"/admin/qa/participant/{ben.pk}/change/").content.decode()
    client.post(f"/admin/qa/participant/{ben.pk}/agent/", {"unlink": "1"})
    assert Participant.objects.get(pk=ben.pk).agent_user is None
    assert AuditEvent.objects.filter(action__in=["agent_link", "agent_unlink"]).count() == 3  # Ana's, bo's, unlink
    assert signed_in(rita).post(f"/admin/qa/participant/{ben.pk}/agent/", {"username": "bo"}).status_code == 403
    assert client.post("/admin/qa/participant/999999/agent/", {"username": "bo"}).status_code == 404


def test_the_team_overview_shows_unacknowledged_reviews(agents):
    users, _calls = agents
    page = signed_in(users["max"]).get("/admin/qa/participant/team/").content.decode()
    assert "Unacknowledged reviews" in page
    assert [cell.split("<")[0] for cell in page.split('data-testid="unacknowledged">')[1:]] == ["1", "—"]


def test_the_agent_disputes_a_result_from_their_page(agents):
    users, calls = agents
    client = signed_in(users["ana"])
    new, old = calls["ana-new.mp3"], calls["ana-old.mp3"]
    page = client.get("/admin/me/").content.decode()
    card = page[page.index(f'id="call-{new.pk}"'):page.index(f'id="call-{old.pk}"')]
    assert 'data-testid="dispute"' in card and "<option>Resolved</option>" in card
    assert 'data-testid="dispute"' not in page[page.index(f'id="call-{old.pk}"'):]  # not reviewed: nothing to dispute
    refused = client.post(f"/admin/me/calls/{new.pk}/dispute/", {"criterion": "Resolved", "reason": ""}, follow=True)
    assert "Resolved: not disputed" in refused.content.decode() and not Dispute.objects.exists()
    answer = client.post(f"/admin/me/calls/{new.pk}/dispute/", {"criterion": "Resolved", "reason": "It was fixed.",
                                                                  "page": "1"})
    assert answer.status_code == 302 and answer.url == f"/admin/me/?page=1#call-{new.pk}"
    dispute = Dispute.objects.get()
    assert (dispute.criterion_name, dispute.raised_by, dispute.status) == ("Resolved", users["ana"], "open")
    card = client.get("/admin/me/").content.decode()
    card = card[card.index(f'id="call-{new.pk}"'):card.index(f'id="call-{old.pk}"')]
    assert "disputed: open" in card and "<option>Resolved</option>" not in card and "<option>Greeting</option>" in card
    assert client.post(f"/admin/me/calls/{calls['ben.mp3'].pk}/dispute/",
                       {"criterion": "Greeting", "reason": "x"}).status_code == 404
    assert signed_in(users["max"]).post(f"/admin/me/calls/{new.pk}/dispute/", {"criterion": "Greeting",
                                                                               "reason": "x"}).status_code == 403
