"""The API's error messages in Spanish with Accept-Language: es (issue 25): the human message translates; the
status, the code, the field names and the JSON shape stay exactly as they are in English."""

import pytest

from qa.mirror.models import Evaluator
from tests.qa.test_api import API, BAD_EVALUATOR, api, assert_error, client_for, user_with  # noqa: F401 (api)

pytestmark = pytest.mark.django_db

ES = {"HTTP_ACCEPT_LANGUAGE": "es"}


def test_a_bad_evaluator_is_a_400_in_spanish_with_the_same_code_and_fields(api):  # noqa: F811
    spanish = assert_error(api.post(f"{API}/evaluators/", BAD_EVALUATOR, format="json", **ES), 400,
                           code="invalid", field="criteria")
    english = assert_error(api.post(f"{API}/evaluators/", BAD_EVALUATOR, format="json"), 400,
                           code="invalid", field="criteria")
    assert set(spanish) == set(english) and set(spanish["fields"]) == set(english["fields"])
    assert "deben sumar 100; suman 80" in " ".join(spanish["fields"]["criteria"])
    assert "criteria: " in spanish["message"] and "they sum to" not in spanish["message"]
    assert "they sum to 80" in english["message"]
    assert not Evaluator.objects.exists()


def test_our_own_400s_404s_and_403s_read_in_spanish(api):  # noqa: F811
    limit = assert_error(api.get(f"{API}/transcriptions/", {"limit": "0"}, **ES), 400, field="limit")
    assert "limit debe ser un número entero de 1 a 500" in limit["fields"]["limit"][0]
    missing = assert_error(api.get(f"{API}/no-such-thing/", **ES), 404, code="not_found")
    assert missing["message"] == "Esta dirección no existe."
    # An agent's endpoint, asked by someone who is not one: the permission's own message.
    reviewer = client_for(user_with("view_transcription", username="revisor"))
    refused = assert_error(reviewer.get(f"{API}/me/transcriptions/", **ES), 403)
    assert refused["message"].startswith("No tiene permiso para ver las evaluaciones propias de un agente")


def test_drf_s_own_messages_come_in_spanish_too():
    from rest_framework.test import APIClient

    refused = assert_error(APIClient().get(f"{API}/participants/", **ES), 401, code="not_authenticated")
    assert "autenticación" in refused["message"].lower()
