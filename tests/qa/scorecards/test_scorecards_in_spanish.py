"""The scorecards in Spanish (issue 25): the what-if's messages and page, and an evaluator's revisions."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from qa.scorecards import whatif
from tests.qa.scorecards.test_whatif import boolean_calls, new  # noqa: F401 (a fixture)
from tests.qa.test_api import API, assert_error, client_for, user_with

pytestmark = pytest.mark.django_db
ES = {"HTTP_ACCEPT_LANGUAGE": "es"}


def test_the_previews_messages_read_in_spanish(boolean_calls):  # noqa: F811
    api = client_for(user_with("change_evaluator", "view_evaluator"))
    url = f"{API}/evaluators/{boolean_calls.heify_id}/what-if/"
    with translation.override("es"), pytest.raises(ValidationError) as bad:
        whatif.clean_query(limit=0)
    assert bad.value.message_dict["limit"] == ["limit debe ser un número entero de 1 a 100.000, no 0."]
    assert_error(api.post(url, {"criteria": []}, format="json", **ES), 400, field="criteria")
    unknown = new(("Greeting", "boolean", 20), ("Issue resolved", "boolean", 50), ("Empathy", "boolean", 30))
    data = api.post(url, {"criteria": unknown}, format="json", **ES).json()["data"]
    assert data["not_evaluated"][0]["message"].startswith("'Empathy' no aparece en los resultados de ninguna")
    english = api.post(url, {"criteria": unknown}, format="json").json()["data"]
    assert "is in none of these calls' results" in english["not_evaluated"][0]["message"]


def test_the_edit_pages_preview_and_the_revisions_read_in_spanish(admin_client, boolean_calls):  # noqa: F811
    page = admin_client.get(reverse("admin:qa_evaluator_change", args=[boolean_calls.pk]), **ES).content.decode()
    assert "Previsualizar el efecto" in page and "No se guarda nada, ni aquí ni en Heify." in page
    assert "Preview the effect" not in page
    history = admin_client.get(reverse("admin:qa_evaluatorrevision_evaluator", args=[boolean_calls.pk]),
                               **ES).content.decode()
    assert "Revisiones" in history and "Vigente desde" in history and "In force from" not in history
