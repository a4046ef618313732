"""The language a person reads in (issue 25): the kept choice on their own page, else Accept-Language, else
LANGUAGE_CODE; the team's time zone; the site's own texts in Spanish."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken

from qa.preferences import Preference, language_of, languages_of, preference_set_language
from tests.builders import person
from tests.heifyadmin.test_settings import manage, production_env, settings_of

pytestmark = pytest.mark.django_db
PAGE = "/admin/preferences/"


def signed_in(user, **headers) -> Client:
    client = Client(**headers)
    client.force_login(user)
    return client


def test_someone_who_never_chose_reads_the_browsers_language_else_language_code(client):
    user = person("rita", "Reviewer")
    assert language_of(user) == settings.LANGUAGE_CODE == "en"
    assert language_of(None) == "en"
    assert "Colas de revisión" in signed_in(user, HTTP_ACCEPT_LANGUAGE="es").get("/admin/").text
    assert "Review queues" in signed_in(user).get("/admin/").text
    assert 'lang="es"' in client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="es").text


def test_the_choice_is_kept_and_applies_from_the_next_page_whatever_the_browser_asks():
    user = person("rita", "Reviewer")
    browser = signed_in(user, HTTP_ACCEPT_LANGUAGE="en")
    page = browser.get(PAGE)
    assert page.status_code == 200 and "Your preferences" in page.text and "Español" in page.text
    answer = browser.post(PAGE, {"language": "es"})
    assert answer.status_code == 302 and answer.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert language_of(user) == "es"
    assert "Tu idioma queda guardado: Español." in browser.get(PAGE).text  # the message, in the new language
    index = browser.get("/admin/")
    assert "Colas de revisión" in index.text and index["Content-Language"] == "es"
    # Another browser asking for English, signed in afresh: the kept choice wins.
    assert "Colas de revisión" in signed_in(user, HTTP_ACCEPT_LANGUAGE="en").get("/admin/").text
    # The sign-in page, which knows no user, follows the cookie the choice set.
    browser.post(reverse("admin:logout"))
    assert 'lang="es"' in browser.get("/admin/login/").text


def test_forgetting_the_choice_gives_the_browser_back():
    user = person("rita", "Reviewer")
    preference_set_language(user=user, language="es")
    browser = signed_in(user, HTTP_ACCEPT_LANGUAGE="en")
    assert "Colas de revisión" in browser.get("/admin/").text
    answer = browser.post(PAGE, {"language": ""})
    assert answer.status_code == 302 and not Preference.objects.filter(user=user).exists()
    assert "Review queues" in browser.get("/admin/").text


def test_a_language_not_offered_is_refused_with_its_reason_and_changes_nothing():
    user = person("rita", "Reviewer")
    page = signed_in(user).post(PAGE, {"language": "fr"})
    assert page.status_code == 200 and "errorlist" in page.text and not Preference.objects.exists()
    with pytest.raises(ValidationError, match="not a language"):
        preference_set_language(user=user, language="fr")


def test_an_agent_reaches_their_preferences_too_and_every_page_links_to_them():
    agent = person("ana", "Agent")
    browser = signed_in(agent)
    assert browser.get(PAGE).status_code == 200
    assert browser.post(PAGE, {"language": "es"}).status_code == 302
    assert browser.get("/admin/qa/participant/").status_code == 403  # the rest of the admin is still refused
    own = browser.get("/admin/me/")
    assert f'href="{PAGE}"' in own.text and 'lang="es"' in own.text  # their page links to it, in their language
    assert f'href="{PAGE}"' in signed_in(person("rita", "Reviewer")).get("/admin/").text


def test_the_languages_of_many_recipients_are_read_in_one_query(django_assert_num_queries):
    """An e-mail to many people (alerts, disputes) asks their languages at once, as language_of would one by one."""
    people = [person(f"p{n}", "Reviewer") for n in range(4)]
    preference_set_language(user=people[1], language="es")
    preference_set_language(user=people[3], language="en")
    with django_assert_num_queries(1):
        languages = languages_of([*people, None])
    assert languages == {p.pk: language_of(p) for p in people}
    assert [languages[p.pk] for p in people] == [settings.LANGUAGE_CODE, "es", settings.LANGUAGE_CODE, "en"]


def test_a_session_from_before_the_choice_was_kept_looks_it_up_once():
    user = person("rita", "Reviewer")
    preference_set_language(user=user, language="es")
    browser = signed_in(user)
    session = browser.session
    del session["_language"]
    session.save()
    assert "Colas de revisión" in browser.get("/admin/").text
    assert browser.session["_language"] == "es"


def test_a_signed_in_request_costs_no_query_for_its_language():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(user) -> list[str]:
        browser = signed_in(user)
        browser.get("/admin/password_change/")  # the language cookie set once
        with CaptureQueriesContext(connection) as done:
            assert browser.get("/admin/password_change/").status_code == 200
        return [q["sql"] for q in done.captured_queries]

    chose, never = person("rita", "Reviewer"), person("tom", "Reviewer")
    preference_set_language(user=chose, language="es")
    assert len(queries(chose)) == len(queries(never))
    assert not any("qa_preference" in sql for sql in queries(chose))


def test_the_api_with_a_token_follows_accept_language_and_keeps_its_codes():
    user = person("rita", "Reviewer")
    token = AuthToken.objects.create(user=user)[1]
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    english = api.get("/api/v1/transcriptions/?heify_id=%00")
    spanish = api.get("/api/v1/transcriptions/?heify_id=%00", HTTP_ACCEPT_LANGUAGE="es")
    assert english.status_code == spanish.status_code == 400
    assert english.json()["error"]["code"] == spanish.json()["error"]["code"] == "invalid"
    assert "null characters" in english.json()["error"]["message"]
    assert "caracteres nulos" in spanish.json()["error"]["message"]


def test_the_site_header_and_the_agent_refusal_read_in_spanish():
    page = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="es")
    assert "Back office de Heify" in page.text
    agent = signed_in(person("ana", "Agent"), HTTP_ACCEPT_LANGUAGE="es")
    assert agent.get("/admin/qa/participant/").status_code == 403


def test_time_zone_comes_from_time_zone_or_django_time_zone(tmp_path):
    env = production_env(tmp_path, TIME_ZONE="Europe/Madrid", DJANGO_TIME_ZONE="America/Bogota")
    assert settings_of(env, "TIME_ZONE") == {"TIME_ZONE": "Europe/Madrid"}
    assert settings_of({**env, "TIME_ZONE": ""}, "TIME_ZONE") == {"TIME_ZONE": "America/Bogota"}
    assert settings_of(production_env(tmp_path), "TIME_ZONE") == {"TIME_ZONE": "UTC"}
    refused = manage({**env, "TIME_ZONE": "Mars/Olympus"}, "check")
    assert refused.returncode != 0 and "TIME_ZONE must be a time zone name" in refused.stderr


def test_the_preferences_page_names_the_team_time_zone(settings):
    settings.TIME_ZONE = "Europe/Madrid"
    page = signed_in(person("rita", "Reviewer"), HTTP_ACCEPT_LANGUAGE="es").get(PAGE)
    assert "Europe/Madrid" in page.text and "Zona horaria" in page.text


def test_an_admin_forms_times_name_the_team_time_zone(admin_client, settings):
    settings.TIME_ZONE = "Europe/Madrid"
    page = admin_client.get(reverse("admin:qa_coachingsession_add"))
    assert page.status_code == 200 and "Times in Europe/Madrid (the team's time zone)." in page.text
    spanish = admin_client.get(reverse("admin:qa_coachingsession_add"), HTTP_ACCEPT_LANGUAGE="es").text
    assert "Horas en Europe/Madrid (la zona horaria del equipo)." in spanish


def test_the_sites_own_refusals_read_in_spanish(admin_client):
    url = reverse("admin:qa_configuration_changelist")
    page = admin_client.get(url, {"heify_id__startswith": "a"}, follow=True, HTTP_ACCEPT_LANGUAGE="es").text
    assert "Esta lista no se puede filtrar por heify_id__startswith" in page
    refused = admin_client.post("/admin/qa/transcription/", {"action": "move_to_pending", "_selected_action": ["abc"],
                                                             "index": "0"}, follow=True, HTTP_ACCEPT_LANGUAGE="es").text
    assert "No se hizo nada: &#x27;abc&#x27; no es el id de ninguna fila de esta lista." in refused
    assert "null characters" not in Client().get("/admin/login/?q=%00", HTTP_ACCEPT_LANGUAGE="es").text
    assert "caracteres nulos" in Client().get("/admin/login/?q=%00", HTTP_ACCEPT_LANGUAGE="es").text
