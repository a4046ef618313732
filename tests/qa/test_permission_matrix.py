"""Who may do what: one table, every cell checked.

Users: anonymous, a staff user in no group, a Reviewer, a QA manager, a superuser and an Agent (their account linked
to the participant whose call the table acts on). Rows: every admin
page and review step the project adds (and the model pages it registers), every admin action, every API
endpoint and method. A cell is allowed when the user's name is in the row's set, denied otherwise.

What "allowed" and "denied" look like:
- admin pages (GET): 200, or else the login page (anonymous) or 403 (the admin's index sends an agent to their own
  page instead: a refusal too); the few POSTs that answer with a redirect say so (REDIRECTS);
- admin review steps (POST): done, or refused with an error message and nothing changed;
- admin actions: the rows changed, or not;
- the API: any answer but 401/403 (a write is sent an invalid body, so an allowed one answers 400 without
  touching Heify), or else 401 (anonymous) or 403.
Heify is down for the whole test (nothing listens at HEIFY_API_URL), with a budget of a few milliseconds.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa.mirror.models import Configuration, Evaluator, Participant, Transcription
from qa.reviews.models import CalibrationSession, CoachingSession, Dispute, ReviewEvent
from tests import builders

pytestmark = pytest.mark.django_db

A, S, R, M, SU, AG = "anonymous", "staff", "reviewer", "manager", "superuser", "agent"
USERS = (A, S, R, M, SU, AG)
STAFF = {S, R, M, SU}  # the admin's staff pages: an agent (staff by their role) is refused them all
SIGNED_IN = STAFF | {AG}  # their own account: a token, who they are, the API's documentation
READERS = {R, M, SU}
MANAGERS = {M, SU}

# Where a review step finds the call before it runs (the acting user may or may not hold the claim).
PENDING, CLAIMED_BY_OTHER, CLAIMED_BY_SELF, ARCHIVED = "pending", "claimed by another", "claimed by self", "archived"
# Under review with nobody holding it: moved there in Heify, or another's claim lapsed (qa.reviews.queues.open_claim).
UNHELD, LAPSED = "under review, nobody holds it", "claimed by another, lapsed"

# --- THE TABLE ------------------------------------------------------------------------------------------
# (surface, what, method, address, state of the call or body, who may)
# Addresses: {cfg} {ev} {pt} {tx} are Heify ids (API), {cfg_pk} {ev_pk} {pt_pk} {tx_pk} primary keys (admin).
ADMIN_PAGES = [
    ("admin home", "GET", "/admin/", STAFF),
    ("configurations: list", "GET", "/admin/qa/configuration/", READERS),
    ("configurations: add", "GET", "/admin/qa/configuration/add/", MANAGERS),
    ("configuration: page", "GET", "/admin/qa/configuration/{cfg_pk}/change/", READERS),
    ("configuration: delete", "GET", "/admin/qa/configuration/{cfg_pk}/delete/", MANAGERS),
    ("evaluators: list", "GET", "/admin/qa/evaluator/", READERS),
    ("evaluators: add", "GET", "/admin/qa/evaluator/add/", MANAGERS),
    ("evaluator: page", "GET", "/admin/qa/evaluator/{ev_pk}/change/", READERS),
    ("evaluator: delete", "GET", "/admin/qa/evaluator/{ev_pk}/delete/", MANAGERS),
    ("participants: list", "GET", "/admin/qa/participant/", READERS),
    ("participants: add", "GET", "/admin/qa/participant/add/", MANAGERS),
    ("participant: page and dashboard", "GET", "/admin/qa/participant/{pt_pk}/change/?as_of=2026-03-21", READERS),
    ("participant: delete", "GET", "/admin/qa/participant/{pt_pk}/delete/", MANAGERS),
    ("team overview", "GET", "/admin/qa/participant/team/", READERS),
    ("compare with Heify: page", "GET", "/admin/qa/participant/{pt_pk}/heify-report/", MANAGERS),
    ("compare with Heify: ask Heify", "POST", "/admin/qa/participant/{pt_pk}/heify-report/", MANAGERS),
    ("transcriptions: list", "GET", "/admin/qa/transcription/", READERS),
    ("transcriptions: upload a call", "GET", "/admin/qa/transcription/add/", MANAGERS),
    ("transcription: page", "GET", "/admin/qa/transcription/{tx_pk}/change/", READERS),
    ("review queues", "GET", "/admin/qa/reviewitem/", READERS),
    ("review page", "GET", "/admin/qa/reviewitem/{tx_pk}/change/", READERS),
    ("evaluator revisions: list", "GET", "/admin/qa/evaluatorrevision/", READERS),
    ("evaluator revisions: one evaluator's, with a diff", "GET", "/admin/qa/evaluatorrevision/evaluator/{ev_pk}/",
     READERS),
    ("AI agreement", "GET", "/admin/qa/evaluatoragreement/?evaluator={ev}", MANAGERS),
    ("sampling rules: list", "GET", "/admin/qa/samplingrule/", MANAGERS),
    ("sampling rules: add", "GET", "/admin/qa/samplingrule/add/", MANAGERS),
    ("calibration sessions: list", "GET", "/admin/qa/calibrationsession/", READERS),
    ("calibration sessions: add", "GET", "/admin/qa/calibrationsession/add/", MANAGERS),
    ("calibration session: score sheet (its raters)", "GET", "/admin/qa/calibrationsession/{cal_pk}/score/", {R}),
    ("calibration session: results", "GET", "/admin/qa/calibrationsession/{cal_pk}/results/", MANAGERS),
    ("calibration session: close", "POST", "/admin/qa/calibrationsession/{cal_pk}/results/", MANAGERS),
    ("coaching sessions: list", "GET", "/admin/qa/coachingsession/", MANAGERS),
    ("coaching sessions: add", "GET", "/admin/qa/coachingsession/add/", MANAGERS),
    ("coaching session: page", "GET", "/admin/qa/coachingsession/{coach}/change/", MANAGERS),

    ("API tokens: own list", "GET", "/admin/knox/authtoken/", STAFF),
    ("sign-in lock-outs", "GET", "/admin/axes/accessattempt/", {SU}),
    ("transcriptions: export", "GET", "/admin/qa/transcription/export/csv/", READERS),
    ("review queue: export", "GET", "/admin/qa/reviewitem/export/xlsx/", READERS),
    ("team overview: export", "GET", "/admin/qa/participant/team/export/csv/", READERS),
    ("participant report: export", "GET", "/admin/qa/participant/{pt_pk}/report/export/csv/?as_of=2026-03-21",
     READERS),
    ("alert rules: list", "GET", "/admin/qa/alertrule/", MANAGERS),
    ("alert rules: add", "GET", "/admin/qa/alertrule/add/", MANAGERS),
    ("alerts: list", "GET", "/admin/qa/alert/", MANAGERS),
    ("disputes queue", "GET", "/admin/qa/dispute/", MANAGERS),
    ("dispute: resolve (an empty form is refused by name)", "POST", "/admin/qa/dispute/{dsp_pk}/resolve/", MANAGERS),
    ("audit log: list", "GET", "/admin/qa/auditevent/", MANAGERS),
    ("audit log: export", "GET", "/admin/qa/auditevent/export/csv/", MANAGERS),
    ("configuration: history (its audit rows to managers)", "GET", "/admin/qa/configuration/{cfg_pk}/history/",
     READERS),
    ("transcription: history (its audit rows to managers)", "GET", "/admin/qa/transcription/{tx_pk}/history/",
     READERS),
    # Issue 23: the agent's own page (a superuser has no participant linked: the page says so), its acknowledge
    # button (the call is not reviewed: refused by message, but reached), and the participant's link form.
    ("agent's page", "GET", "/admin/me/", {AG, SU}),
    ("agent's page: acknowledge a call", "POST", "/admin/me/calls/{tx_pk}/acknowledge/", {AG}),
    ("agent's page: dispute a result", "POST", "/admin/me/calls/{tx_pk}/dispute/", {AG}),
    ("agent's page: acknowledge a coaching session", "POST", "/admin/me/coaching/{coach}/acknowledge/", {AG}),
    ("participant: link an agent's account", "POST", "/admin/qa/participant/{pt_pk}/agent/", MANAGERS),
]
# Admin POSTs that answer an allowed user with a redirect (to the page they came from), not 200.
REDIRECTS = {"agent's page: acknowledge a call", "agent's page: dispute a result",
             "participant: link an agent's account", "agent's page: acknowledge a coaching session"}
ADMIN_STEPS = [  # POST /admin/qa/reviewitem/<pk>/review/<step>/
    ("claim", PENDING, {}, READERS),
    ("claim", UNHELD, {}, READERS),
    ("claim", LAPSED, {}, READERS),
    ("claim", CLAIMED_BY_OTHER, {}, set()),
    ("release", CLAIMED_BY_OTHER, {"note": "n"}, MANAGERS),
    ("archive", CLAIMED_BY_OTHER, {"note": "n", "agree_rest": "1"}, MANAGERS),
    ("reopen", ARCHIVED, {"note": "n"}, MANAGERS),
    ("reassign", CLAIMED_BY_OTHER, {"to_user": "{pete_pk}", "reason": "on holiday"}, MANAGERS),
    ("note", CLAIMED_BY_OTHER, {"note": "a note"}, READERS),
    ("verdict", CLAIMED_BY_SELF, {"criterion": "Greeting", "agrees": "no", "reason": "it was said"}, READERS),
]
ADMIN_ACTIONS = [  # (action, changelist, state before, who may)
    ("move_to_pending", "/admin/qa/reviewitem/?queue=ARCHIVED", ARCHIVED, MANAGERS),
    ("move_to_archived", "/admin/qa/reviewitem/", PENDING, MANAGERS),
    ("move_to_no_group", "/admin/qa/reviewitem/", PENDING, MANAGERS),
    ("delete_selected", "/admin/knox/authtoken/", "own token", STAFF),
]
API = [  # (what, method, address, state of the call, body, who may)
    *[row for name, key in (("configuration", "cfg"), ("evaluator", "ev"), ("participant", "pt")) for row in (
        (f"{name}s: list", "GET", f"/api/v1/{name}s/", None, None, READERS),
        (f"{name}s: create", "POST", f"/api/v1/{name}s/", None, {}, MANAGERS),
        (f"{name}: read", "GET", f"/api/v1/{name}s/{{{key}}}/", None, None, READERS),
        (f"{name}: replace", "PUT", f"/api/v1/{name}s/{{{key}}}/", None, {}, MANAGERS),
        (f"{name}: change", "PATCH", f"/api/v1/{name}s/{{{key}}}/", None, {"tag": ""}, MANAGERS),
        (f"{name}: delete", "DELETE", f"/api/v1/{name}s/{{{key}}}/", None, None, MANAGERS),
    )],
    ("participant: analytics", "GET", "/api/v1/participants/{pt}/analytics/", None, None, READERS),
    ("participant: analytics with Heify's", "GET", "/api/v1/participants/{pt}/analytics/?remote=true", None, None,
     MANAGERS),
    ("transcriptions: list", "GET", "/api/v1/transcriptions/", None, None, READERS),
    ("transcription: read", "GET", "/api/v1/transcriptions/{tx}/", None, None, READERS),
    ("transcription: set group", "PATCH", "/api/v1/transcriptions/{tx}/", None, {"group": "BOGUS"}, MANAGERS),
    ("transcription: claim", "POST", "/api/v1/transcriptions/{tx}/claim/", PENDING, None, READERS),
    ("transcription: claim one nobody holds", "POST", "/api/v1/transcriptions/{tx}/claim/", UNHELD, None, READERS),
    ("transcription: take over a lapsed claim", "POST", "/api/v1/transcriptions/{tx}/claim/", LAPSED, None,
     READERS),
    ("transcription: release", "POST", "/api/v1/transcriptions/{tx}/release/", CLAIMED_BY_OTHER, {}, MANAGERS),
    ("transcription: archive", "POST", "/api/v1/transcriptions/{tx}/archive/", CLAIMED_BY_OTHER,
     {"agree_rest": True}, MANAGERS),
    ("transcription: move", "POST", "/api/v1/transcriptions/{tx}/move/", PENDING, {"group": "ARCHIVED"}, MANAGERS),
    ("transcription: notes", "GET", "/api/v1/transcriptions/{tx}/notes/", None, None, READERS),
    ("transcription: write a note", "POST", "/api/v1/transcriptions/{tx}/notes/", CLAIMED_BY_OTHER,
     {"text": "a note"}, READERS),
    ("evaluator: revisions", "GET", "/api/v1/evaluators/{ev}/revisions/", None, None, READERS),
    ("evaluator: what-if", "POST", "/api/v1/evaluators/{ev}/what-if/", None, {}, MANAGERS),
    ("evaluator: agreement", "GET", "/api/v1/evaluators/{ev}/agreement/", None, None, MANAGERS),
    ("transcription: record verdicts", "PUT", "/api/v1/transcriptions/{tx}/verdicts/", CLAIMED_BY_OTHER, {},
     READERS),
    # Coaching: managers open and see every session; the agent coached reads theirs, acknowledges it, may complete it.
    ("coaching: list", "GET", "/api/v1/coaching/", None, None, MANAGERS | {AG}),
    ("coaching: open", "POST", "/api/v1/coaching/", None, {}, MANAGERS),
    ("coaching session: read", "GET", "/api/v1/coaching/{coach}/", None, None, MANAGERS | {AG}),
    ("coaching session: acknowledge", "POST", "/api/v1/coaching/{coach}/acknowledge/", None, None, {AG}),
    ("coaching session: complete", "POST", "/api/v1/coaching/{coach}/complete/", None, None, MANAGERS | {AG}),
    ("auth: get a token (own credentials)", "POST", "/api/v1/auth/token/", None, "credentials", SIGNED_IN),
    ("auth: revoke the token used", "POST", "/api/v1/auth/logout/", None, None, SIGNED_IN),
    ("schema", "GET", "/api/v1/schema/", None, None, SIGNED_IN),
    ("docs", "GET", "/api/v1/docs/", None, None, SIGNED_IN),
    # Issue 23. Who is signed in: anyone; their calls: agents (a superuser's list is empty: no participant).
    ("me", "GET", "/api/v1/me/", None, None, SIGNED_IN),
    ("me: my calls", "GET", "/api/v1/me/transcriptions/", None, None, {AG, SU}),
    # The call is the agent's, not reviewed: the agent is answered 400 (nothing to acknowledge), anyone else 403.
    ("transcription: acknowledge", "POST", "/api/v1/transcriptions/{tx}/acknowledge/", PENDING, None, {AG}),
    # Agents only, on their own calls (an empty body is a 400 to the call's agent; a superuser is linked to none).
    ("transcription: dispute a result", "POST", "/api/v1/transcriptions/{tx}/disputes/", None, {}, {AG}),
    # Managers every dispute, a reviewer those of the results they gave, an agent theirs.
    ("disputes: list", "GET", "/api/v1/disputes/", None, None, READERS | {AG}),
    ("dispute: resolve", "POST", "/api/v1/disputes/{dsp}/resolve/", None, {}, MANAGERS),
    ("participant: link an agent's account", "PUT", "/api/v1/participants/{pt}/agent/", None, {}, MANAGERS),
    # Last: a manager's DELETE unlinks the table's agent.
    ("participant: unlink the agent's account", "DELETE", "/api/v1/participants/{pt}/agent/", None, None, MANAGERS),
]
CELLS = len(USERS) * (len(ADMIN_PAGES) + len(ADMIN_STEPS) + len(ADMIN_ACTIONS) + len(API))
PASSWORD = "pw-for-tests-1"


# --- the world the table is checked against ----------------------------------------------------------------


@pytest.fixture
def world(load, settings):
    settings.HEIFY_INTERACTIVE_RETRY_TOTAL = settings.HEIFY_RETRY_TOTAL = 0.01  # Heify is down: say so at once
    configuration, evaluator = builders.configuration_payload(), builders.evaluator_payload()
    participant = builders.participant_payload()
    load(configurations=[configuration], evaluators=[evaluator], participants=[participant],
         transcriptions=[builders.transcription_payload(configuration=configuration, evaluator=evaluator,
                                                        participant=participant, group=group, name=name)
                         for group, name in (("PENDING_REVIEW", "call.mp3"), (None, "calibrated.mp3"))])
    users = {A: None, SU: User.objects.create_superuser("su", password=PASSWORD)}
    for name, role in ((S, None), (R, "Reviewer"), (M, "QA manager"), ("olga", "Reviewer"), ("pete", "Reviewer")):
        user = User.objects.create_user(name, password=PASSWORD, is_staff=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
        users[name] = user
    users[AG] = User.objects.create_user(AG, password=PASSWORD)
    users[AG].groups.add(Group.objects.get(name="Agent"))  # staff by the role
    Participant.objects.update(agent_user=users[AG])
    users[AG].refresh_from_db()
    call = Transcription.objects.get(name="call.mp3")
    session = CalibrationSession.objects.create(name="March", created_by=users[M])
    # A call of its own: its raters score it blind (no verdict on the AI's), which is not what the table is about.
    session.calls.set([Transcription.objects.get(name="calibrated.mp3")])
    session.reviewers.set([users[R], users["olga"]])
    coached = CoachingSession.objects.create(participant=Participant.objects.get(), created_by=users[M])
    dispute = Dispute.objects.create(transcription=call, criterion_name="Greeting", reason="I greeted.")
    ids = {
        "coach": str(coached.pk),  # in addresses where the schema has {id}, as the Heify ids are
        "cfg": configuration["configuration_id"], "ev": evaluator["evaluator_id"], "pt": participant["participant_id"],
        "tx": call.heify_id, "cfg_pk": Configuration.objects.get().pk, "ev_pk": Evaluator.objects.get().pk,
        "pt_pk": Participant.objects.get().pk, "tx_pk": call.pk, "pete_pk": users["pete"].pk,
        "cal_pk": session.pk, "dsp": str(dispute.pk), "dsp_pk": dispute.pk,
    }
    return users, call, ids


def put_call(call, state, actor, other):
    assignee = {CLAIMED_BY_OTHER: other, CLAIMED_BY_SELF: actor or other, LAPSED: other}.get(state)
    group = {PENDING: "PENDING_REVIEW", ARCHIVED: "ARCHIVED"}.get(state, "UNDER_REVIEW")
    touched = (None if assignee is None else
               timezone.now() - timedelta(hours=settings.REVIEW_CLAIM_TIMEOUT_HOURS + 1) if state == LAPSED else
               timezone.now())
    Transcription.objects.filter(pk=call.pk).update(group=group, assigned_to=assignee, review_touched_at=touched,
                                                    sync_state="synced", sync_error="")
    call.refresh_from_db()


def admin_client(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def api_client(user):
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def check(cells: list[tuple[str, str, bool, bool, str]]) -> None:
    """Every cell (row, user, expected, actual, what was seen) agrees with the table; the list of those that
    do not, otherwise."""
    wrong = [f"{row} / {user}: expected {'allowed' if want else 'denied'}, got {seen}"
             for row, user, want, got, seen in cells if want != got]
    assert not wrong, "\n".join(wrong)


# --- the checks ----------------------------------------------------------------------------------------------


def test_the_table_covers_every_api_operation_and_every_admin_page_the_project_adds(world):
    print(f"permission matrix: {CELLS} cells")
    _users, _call, ids = world
    names = {value: "{id}" for key, value in ids.items() if not key.endswith("_pk")}
    in_table = {(method, re.sub(r"[^/]+", lambda m: names.get(m.group(), m.group()),
                                address.format(**ids).split("?")[0]))
                for _, method, address, *_ in API}
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}
    assert operations - in_table == set(), "API operations missing from the table"
    # The admin: every URL a qa ModelAdmin adds through get_urls is a row (the model pages are rows too).
    custom = {pattern.name for model_admin in admin.site._registry.values() if model_admin.opts.app_label == "qa"
              for pattern in model_admin.get_urls() if pattern.name and not pattern.name.endswith(
                  ("_changelist", "_add", "_change", "_delete", "_history", "_autocomplete"))}
    covered = {resolve(address.format(**ids).split("?")[0]).url_name for _, _, address, _ in ADMIN_PAGES}
    covered |= {resolve(f"/admin/qa/reviewitem/{ids['tx_pk']}/review/{step}/").url_name for step, *_ in ADMIN_STEPS}
    assert custom and custom - covered == set(), "admin pages missing from the table"


def test_admin_pages(world):
    users, _call, ids = world
    clients = {name: admin_client(users[name]) for name in USERS}
    cells = []
    for row, method, address, may in ADMIN_PAGES:
        for name in USERS:
            response = getattr(clients[name], method.lower())(address.format(**ids))
            denied = response.status_code == 403 or (response.status_code == 302 and (
                response["Location"].startswith("/admin/login/") or response["Location"] == "/admin/me/"))
            allowed = response.status_code == (302 if row in REDIRECTS else 200) and not denied
            assert denied or allowed, (row, name, response.status_code)
            cells.append((row, name, name in may, not denied, response.status_code))
    check(cells)


def test_admin_review_steps(world):
    users, call, ids = world
    clients = {name: admin_client(users[name]) for name in USERS}
    cells = []
    for step, state, data, may in ADMIN_STEPS:
        for name in USERS:
            put_call(call, state, users[name], users["olga"])
            before = (call.group, call.assigned_to_id, ReviewEvent.objects.count(),
                      list(call.criterion_verdicts.values_list("agrees", "reviewer")))
            clients[name].cookies.pop("messages", None)  # only this step's messages
            response = clients[name].post(
                f"/admin/qa/reviewitem/{call.pk}/review/{step}/", {k: v.format(**ids) for k, v in data.items()})
            call.refresh_from_db()
            after = (call.group, call.assigned_to_id, ReviewEvent.objects.count(),
                     list(call.criterion_verdicts.values_list("agrees", "reviewer")))
            errors = [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
            login = response.status_code == 302 and response["Location"].startswith("/admin/login/")
            done = response.status_code == 302 and not login and not errors and after != before
            refused = (login or response.status_code == 403 or bool(errors)) and after == before
            assert done or refused, (step, name, response.status_code, errors, before, after)
            cells.append((f"review step {step} ({state})", name, name in may, done, errors or response.status_code))
    check(cells)


def test_admin_actions(world):
    users, call, _ids = world
    cells = []
    for action, changelist, state, may in ADMIN_ACTIONS:
        for name in USERS:
            user = users[name]
            if action == "delete_selected":
                token = AuthToken.objects.create(user=user or users["olga"])[0]
                selected, data = token.pk, {"post": "yes"}
                changed = lambda token=token: not AuthToken.objects.filter(pk=token.pk).exists()  # noqa: E731
            else:
                put_call(call, state, user, users["olga"])
                selected, data, group = call.pk, {}, call.group
                changed = lambda group=group: Transcription.objects.get(pk=call.pk).group != group  # noqa: E731
            response = admin_client(user).post(changelist, {"action": action, "_selected_action": [selected],
                                                            **data})
            assert response.status_code in (200, 302, 403), (action, name, response.status_code)
            cells.append((f"action {action}", name, name in may, changed(), response.status_code))
    check(cells)


def test_api(world):
    users, call, ids = world
    clients = {name: api_client(users[name]) for name in USERS}
    cells = []
    for row, method, address, state, body, may in API:
        for name in USERS:
            user = users[name]
            if state:
                put_call(call, state, user, users["olga"])
            if body == "credentials":
                sent = {"username": user.username if user else "nobody", "password": PASSWORD}
            else:
                sent = body
            # Revoking a token: one of its own, so the other rows keep theirs.
            client = api_client(user) if address.endswith("/logout/") else clients[name]
            payload = {} if sent is None else {"data": json.dumps(sent), "content_type": "application/json"}
            response = client.generic(method, address.format(**ids), **payload)
            status = response.status_code
            # Not a server error, and the address exists (a 503 says Heify is down, as it is here).
            assert status not in (404, 500), (row, name, status, response.content[:300])
            if body is not None and row.startswith("auth: get a token"):
                allowed = status == 200
            else:
                allowed = status not in (401, 403)
                assert allowed or status == (401 if user is None else 403), (row, name, status)
            cells.append((row, name, name in may, allowed, status))
    check(cells)
