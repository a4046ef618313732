"""The security regression suite (issue 20, section 4): what a tester from outside found, each case on both
databases, and no answer of any of them a 5xx.

- No secret in a field a reviewer can filter, search, sort or export: the admin refuses the lookups a list
  does not offer, on every list of the site, and the guesses never reach the access log.
- A NUL in any list filter, search or autocomplete is a 400, never PostgreSQL's 500.
- One search costs a bounded number of queries.
- Behind a proxy, failed sign-ins count against the forwarded client's address, not the proxy's.
- A Content-Security-Policy on every page (the browser test shows pages' scripts run under it).
- Too many form fields, too big a body: the API's error shape, 400 / 413.
"""

import io
import logging
from urllib.parse import quote

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken
from openpyxl import load_workbook
from rest_framework.test import APIClient

from qa import limits
from qa.api.urls import router
from qa.mirror.models import Configuration
from syncer import mirror
from tests import builders

pytestmark = pytest.mark.django_db

SECRET = "whsec-Q7b2x9K4mZ1pR8tV3nL6yW0cF5hJ"
PASSWORD = "pw-for-security-tests-1"
BASE = "https://qa.example.com/webhooks/heify"


def person(name, role=None, **flags):
    user = User.objects.create_user(name, password=PASSWORD, is_staff=True, **flags)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def admin_as(user):
    client = Client()
    client.force_login(user)
    return client


def api_as(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def no_5xx(response):
    assert response.status_code < 500, (response.status_code, response.content[:500])
    return response


def _changelists():
    return [(model, reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
            for model in admin.site._registry]


@pytest.fixture
def configurations(settings):
    settings.HEIFY_WEBHOOK_SECRET = SECRET
    other = "whsec-A0000000000000000000000000000"
    payloads = [
        builders.configuration_payload(tag=f"Config {n}", webhooks={
            "success_url": f"{BASE}/{secret}/success/", "error_url": f"{BASE}/{secret}/error/"})
        for n, secret in ((1, SECRET), (2, other))
    ]
    mirror.load_snapshot(builders.snapshot(configurations=payloads))
    return list(Configuration.objects.order_by("tag"))


@pytest.fixture
def calls(db):
    participant = builders.participant_payload(tag="Emma Wilson")
    mirror.load_snapshot(builders.snapshot(
        participants=[participant],
        transcriptions=[builders.transcription_payload(participant=participant) for _ in range(3)]))


# --- 1. the webhook secret: no lookup a list does not offer ---------------------------------------------------


def test_a_reviewer_cannot_tell_a_right_guess_of_the_secret_from_a_wrong_one(configurations):
    reviewer = admin_as(person("rita", "Reviewer"))
    url = reverse("admin:qa_configuration_changelist")
    right, wrong = f"{BASE}/{SECRET[:10]}", f"{BASE}/{SECRET[:9]}#"
    answers = []
    for lookup, value in [("webhook_success_url__startswith", right), ("webhook_success_url__startswith", wrong),
                          ("webhook_success_url__regex", f"^{right}"), ("webhook_error_url__contains", SECRET),
                          ("webhook_success_url", configurations[0].webhook_success_url)]:
        response = no_5xx(reviewer.get(url, {lookup: value}))
        # Django's "incorrect lookup" handling: to the list's error page, never a filtered list.
        assert response.status_code == 302 and response["Location"].endswith("?e=1"), (lookup, response.status_code)
        answers.append((response.status_code, response["Location"]))
    assert len(set(answers)) == 1
    page = reviewer.get(url, {"webhook_success_url__startswith": right}, follow=True).content.decode()
    assert "This list cannot be filtered by webhook_success_url__startswith" in page and SECRET[:10] not in page


def test_the_lists_offered_filters_and_search_still_apply(configurations):
    manager = admin_as(person("max", "QA manager"))
    url = reverse("admin:qa_configuration_changelist")
    assert no_5xx(manager.get(url, {"sync_state__exact": "synced"})).status_code == 200
    found = no_5xx(manager.get(url, {"q": '"Config 1"'}))
    page = found.content.decode()
    assert found.status_code == 200 and "Config 1" in page and "Config 2" not in page


def test_every_list_of_the_site_refuses_a_lookup_it_does_not_offer(calls):
    """Every ModelAdmin registered on the site (ours, Django's, the apps'): a lookup on the model's own primary key,
    which Django's admin would apply, is not applied."""
    boss = admin_as(person("boss", is_superuser=True))
    checked = []
    for model, url in _changelists():
        response = no_5xx(boss.get(url, {f"{model._meta.pk.name}__gte": "0"}))
        if response.status_code == 200:  # a screen of its own (the agreement report), which lists no objects
            assert "cl" not in response.context, url
            continue
        assert response.status_code == 302 and response["Location"].endswith("?e=1"), (url, response.status_code)
        checked.append(url)
    assert "/admin/qa/configuration/" in checked and "/admin/auth/user/" in checked


def test_the_guesses_never_reach_the_access_log(configurations, caplog):
    reviewer = admin_as(person("rita", "Reviewer"))
    guess = SECRET[:12]
    with caplog.at_level(logging.INFO, logger="heifyadmin.request"):
        reviewer.get(reverse("admin:qa_configuration_changelist"),
                     {"webhook_success_url__startswith": f"{BASE}/{guess}", "summary__exact": "1"})
        reviewer.get("/api/v1/configurations/", {"webhook_success_url__startswith": f"{BASE}/{guess}"})
    lines = [record.getMessage() for record in caplog.records if record.name == "heifyadmin.request"]
    assert len(lines) == 2
    assert not any(guess in line or quote(guess, safe="") in line for line in lines), lines
    assert "summary__exact=1" in lines[0]  # an offered filter is logged as it was


def test_a_reviewer_cannot_sort_or_export_by_the_secret_in_the_api(configurations):
    reviewer = api_as(person("rita", "Reviewer"))
    orders = {
        tuple(c["tag"] for c in no_5xx(reviewer.get("/api/v1/configurations/", {"ordering": ordering})).json()["data"])
        for ordering in ("webhook_success_url", "-webhook_success_url", "webhooks__success_url", "-webhooks")
    }
    assert len(orders) == 1
    csv = no_5xx(reviewer.get("/api/v1/configurations/", {"format": "csv"}))
    assert csv.status_code == 200 and SECRET not in b"".join(csv.streaming_content).decode()
    xlsx = no_5xx(reviewer.get("/api/v1/configurations/", {"format": "xlsx"}))
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert not any(SECRET in str(cell.value) for row in sheet.iter_rows() for cell in row)


# --- 2. NUL in any filter, search or autocomplete ------------------------------------------------------------


@pytest.mark.parametrize("query", [
    "q=%00", "q=a%00b", "heify_id=%00", "status=%00", "status__exact=%00", "name__startswith=%00", "queue=%00",
    "tag=%00", "participant__heify_id__exact=%00", "o=%00", "p=%00", "%00=1",
])
def test_nul_in_any_admin_list_is_a_400(calls, query):
    boss = admin_as(person("boss", is_superuser=True))
    for _, url in _changelists():
        response = no_5xx(boss.get(f"{url}?{query}"))
        assert response.status_code == 400 and b"null characters" in response.content, (url, query)


@pytest.mark.parametrize("url", [
    "/admin/qa/transcription/export/csv/?heify_id=%00", "/admin/qa/reviewitem/export/xlsx/?queue=%00",
    "/admin/qa/participant/team/export/csv/?o=%00",
    "/admin/autocomplete/?app_label=qa&model_name=samplingrule&field_name=participant&term=%00",
    "/admin/autocomplete/?app_label=qa&model_name=calibrationsession&field_name=calls&term=a%00",
])
def test_nul_in_an_export_or_an_autocomplete_is_a_400(calls, url):
    boss = admin_as(person("boss", is_superuser=True))
    assert no_5xx(boss.get(url)).status_code == 400


@pytest.mark.parametrize("query", [
    "ordering=%00", "cursor=%00", "search=%00", "status=%00", "participant=%00", "date_from=%00&format=csv",
    "format=xlsx&tag=a%00",
])
def test_nul_in_any_api_list_is_a_400_in_the_api_error_shape(calls, query):
    api = api_as(person("boss", is_superuser=True))
    for prefix, _, _ in router.registry:
        response = no_5xx(api.get(f"/api/v1/{prefix}/?{query}"))
        assert response.status_code == 400, (prefix, query)
        assert response.json()["error"]["status"] == 400 and "null characters" in response.json()["error"]["message"]


@pytest.mark.parametrize("selected", ["\x00", "1\x00", "abc"])
def test_an_admin_action_on_rows_no_id_names_is_refused(calls, selected):
    """Form values: an action posted with ids no row can have (Django raised ValueError, a 500, on any list)."""
    boss = admin_as(person("boss", is_superuser=True))
    for _, url in _changelists():
        for action in ("delete_selected", "move_to_pending"):
            no_5xx(boss.post(url, {"action": action, "_selected_action": [selected], "index": "0"}))
    response = boss.post("/admin/qa/transcription/", {"action": "move_to_pending", "_selected_action": [selected],
                                                      "index": "0"}, follow=True)
    assert "is not the id of a row" in response.content.decode()


# --- 3. what one search may cost ---------------------------------------------------------------------------


def test_a_search_over_the_bound_is_refused_with_a_message_and_costs_nothing(calls, django_assert_max_num_queries):
    boss = admin_as(person("boss", is_superuser=True))
    words = " ".join(f"word{n}" for n in range(1300))
    with django_assert_max_num_queries(12):
        response = no_5xx(boss.get("/admin/qa/transcription/", {"q": words}))
    assert response.status_code == 200 and "nothing was searched" in response.content.decode()
    eleven = no_5xx(boss.get("/admin/qa/transcription/", {"q": " ".join("abcdefghijk")}))
    assert f"at most {limits.SEARCH_MAX_WORDS} words, not 11" in eleven.content.decode()
    long = no_5xx(boss.get("/admin/qa/configuration/", {"q": "x" * (limits.SEARCH_MAX_LENGTH + 1)}))
    assert f"at most {limits.SEARCH_MAX_LENGTH} characters" in long.content.decode()


def test_a_search_within_the_bound_runs(calls):
    boss = admin_as(person("boss", is_superuser=True))
    words = " ".join(["Emma"] * limits.SEARCH_MAX_WORDS)
    response = no_5xx(boss.get("/admin/qa/transcription/", {"q": words}))
    assert "nothing was searched" not in response.content.decode()
    assert response.content.decode().count("Emma Wilson") >= 3


def test_an_autocomplete_over_the_bound_finds_nothing(calls):
    boss = admin_as(person("boss", is_superuser=True))
    response = no_5xx(boss.get("/admin/autocomplete/", {
        "app_label": "qa", "model_name": "samplingrule", "field_name": "participant",
        "term": " ".join(["Emma"] * (limits.SEARCH_MAX_WORDS + 1))}))
    assert response.status_code == 200 and response.json()["results"] == []


# --- 4. lock-out behind a proxy -------------------------------------------------------------------------


def _sign_in(client, password, forwarded):
    return client.post("/admin/login/", {"username": "ann", "password": password, "next": "/admin/"},
                       REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)


def test_behind_a_proxy_failures_count_against_the_forwarded_address(settings):
    settings.BEHIND_PROXY = True
    person("ann", is_superuser=True)
    attacker, ann = Client(), Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        no_5xx(_sign_in(attacker, "wrong-password", "203.0.113.9"))
    assert no_5xx(_sign_in(attacker, PASSWORD, "203.0.113.9")).status_code == 429  # the attacker is locked out
    signed_in = no_5xx(_sign_in(ann, PASSWORD, "198.51.100.7"))  # ann, from her own address, is not
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}


def test_behind_a_proxy_the_api_token_endpoint_counts_by_the_forwarded_address_too(settings):
    settings.BEHIND_PROXY = True
    person("ann", is_superuser=True)

    def token(password, forwarded):
        return no_5xx(APIClient().post("/api/v1/auth/token/", {"username": "ann", "password": password},
                                       format="json", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded))

    for _ in range(settings.AXES_FAILURE_LIMIT):
        token("wrong-password", "203.0.113.9")
    assert token(PASSWORD, "203.0.113.9").status_code == 429
    assert token(PASSWORD, "198.51.100.7").status_code == 200


def test_a_forged_forwarded_address_does_not_escape_the_lock(settings):
    """The proxy appends the client's address: whatever the client put before it is not believed."""
    settings.BEHIND_PROXY = True
    person("ann", is_superuser=True)
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        no_5xx(_sign_in(client, "wrong-password", f"192.0.2.{n}, 203.0.113.9"))
    assert no_5xx(_sign_in(client, PASSWORD, "192.0.2.200, 203.0.113.9")).status_code == 429


def test_without_a_proxy_the_header_is_not_believed(settings):
    settings.BEHIND_PROXY = False
    person("ann", is_superuser=True)
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        no_5xx(_sign_in(client, "wrong-password", f"203.0.113.{n}"))
    assert no_5xx(_sign_in(client, PASSWORD, "198.51.100.7")).status_code == 429


# --- 5. Content-Security-Policy ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/admin/login/", "/admin/", "/api/v1/docs/"])
def test_every_page_has_a_strict_content_security_policy(url):
    client = admin_as(person("boss", is_superuser=True)) if url != "/admin/login/" else Client()
    response = no_5xx(client.get(url))
    assert response.status_code == 200
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    scripts = policy["script-src"].split()
    assert "'self'" in scripts and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert b"<script>" not in response.content  # every script is a file (or carries the nonce)


# --- 6. bodies too big or too many fields: the API's error shape ------------------------------------------


def test_a_form_with_too_many_fields_answers_in_the_api_error_shape(settings):
    fields = "&".join(f"f{n}=x" for n in range(2000))
    response = no_5xx(Client().post("/api/v1/auth/token/", fields, content_type="application/x-www-form-urlencoded"))
    # The API reads JSON bodies only: a form is refused for its type before its fields are counted.
    assert response.status_code == 415 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "unsupported_media_type"
    hook = no_5xx(Client().post(f"/webhooks/heify/{settings.HEIFY_WEBHOOK_SECRET}/success/", fields,
                                content_type="application/x-www-form-urlencoded"))
    assert hook.status_code == 400 and hook["Content-Type"] == "application/json"  # the webhook reads no form


def test_a_query_string_with_too_many_fields_is_a_400():
    fields = "&".join(f"f{n}=x" for n in range(2000))
    response = no_5xx(Client().get(f"/api/v1/configurations/?{fields}"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_fields"
    page = no_5xx(Client().get(f"/admin/login/?{fields}"))
    assert page.status_code == 400 and b"more than" in page.content


def test_a_3_mb_webhook_body_is_a_413_in_the_api_error_shape(settings):
    body = b'{"transcription_id": "' + b"x" * 3_000_000 + b'"}'
    response = no_5xx(Client().post(f"/webhooks/heify/{settings.HEIFY_WEBHOOK_SECRET}/success/", body,
                                    content_type="application/json"))
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["status"] == 413 and response.json()["error"]["code"] == "too_large"
