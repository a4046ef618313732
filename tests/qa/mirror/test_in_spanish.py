"""The mirror's screens and messages in Spanish (issue 25): Accept-Language es reads Spanish, Heify's own data
(tags, criteria names) stays as Heify holds it, and the emulator still answers as Heify does, in English."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from qa.mirror import rules
from qa.mirror.models import Evaluator, Participant
from syncer.emulator.bodies import clean_body
from syncer.emulator.errors import ApiError
from tests import builders
from tests.qa.mirror.test_admin_editing import ADD_EVALUATOR, change_url, evaluator_form

pytestmark = pytest.mark.django_db

ES = {"HTTP_ACCEPT_LANGUAGE": "es"}


def test_the_evaluator_form_with_a_rules_error_reads_in_spanish(admin_client):
    response = admin_client.post(ADD_EVALUATOR, evaluator_form(tag="evaluador temporal", criteria=[
        {"name": "Saludo inicial", "type": "boolean", "weight": "30"},
        {"name": "Escucha activa", "type": "boolean", "weight": "50"},
    ]), **ES)
    page = response.content.decode()
    assert response.status_code == 200 and not Evaluator.objects.exists()
    assert "deben sumar 100; suman 80" in page  # the rule's message
    assert "they sum to" not in page
    for word in ("Etiqueta", "Descripción", "Idioma", "Contexto", "Criterios", "Peso", "Estricto"):
        assert word in page, word
    assert "Español (es)" in page and "Spanish (es)" not in page  # the language list, in Spanish
    assert "Saludo inicial" in page and "Escucha activa" in page  # Heify's names, as typed


def test_the_evaluator_form_reads_in_english_without_a_choice(admin_client):
    response = admin_client.post(ADD_EVALUATOR, evaluator_form(criteria=[
        {"name": "Greeting", "type": "boolean", "weight": "30"},
        {"name": "Resolved", "type": "boolean", "weight": "50"},
    ]), HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert "they sum to 80" in page and "Spanish (es)" in page and "deben sumar" not in page


def test_a_strict_weight_notice_names_the_weight_as_spanish_writes_numbers(admin_client):
    response = admin_client.post(ADD_EVALUATOR, evaluator_form(criteria=[
        {"name": "Resuelto", "type": "boolean", "weight": "100"},
        {"name": "Sin insultos", "type": "strict", "weight": "12.5"},
    ]), follow=True, **ES)
    notices = [str(m) for m in response.context["messages"]]
    assert any("es estricto" in n and "(era 12,5)" in n for n in notices), notices


def test_the_participant_page_reads_in_spanish(admin_client, load):
    load(participants=[builders.participant_payload(tag="Sarah", metadata={"equipo": "Norte"})])
    participant = Participant.objects.get()
    page = admin_client.get(change_url(participant), **ES).content.decode()
    for word in ("Participantes", "Etiqueta", "sincronización", "ID de Heify", "Control de calidad"):
        assert word in page, word
    assert "Change participant" not in page
    assert "Sarah" in page and "equipo" in page  # the participant's own data, untranslated


def test_the_evaluator_and_configuration_lists_read_in_spanish(admin_client, load):
    load(configurations=[builders.configuration_payload()], evaluators=[builders.evaluator_payload()])
    page = admin_client.get(reverse("admin:qa_evaluator_changelist"), **ES).content.decode().lower()
    for word in ("evaluadores", "borrado en heify", "estrictos", "sincronizado con heify", "actualizado en heify"):
        assert word in page, word
    page = admin_client.get(reverse("admin:qa_configuration_changelist"), **ES).content.decode()
    assert "configuraciones" in page.lower() and "campos de extracción" in page.lower()


def test_rules_messages_follow_the_active_language_and_keep_their_codes():
    with translation.override("es"):
        with pytest.raises(ValidationError) as refused:
            rules.review_transition("claim", rules.Group.ARCHIVED)
        assert refused.value.code == "invalid_transition"
        assert "No se puede reclamar" in refused.value.messages[0] and "archivada" in refused.value.messages[0]
        assert rules.group_label(None) == "sin grupo"
        names = [label for _, label in rules.language_choices()]
        assert names[0] == "Detección automática (df)" and names[1:] == sorted(names[1:], key=str.casefold)
    with translation.override("en"):
        assert rules.group_label(rules.Group.PENDING_REVIEW) == "pending review"


def test_the_emulator_answers_in_english_whatever_the_sites_language():
    with translation.override("es"), pytest.raises(ApiError) as refused:
        clean_body("participants", {"tag": ""}, current=None)
    assert refused.value.code == "validation_error" and refused.value.message == "Tag is required."


def test_the_evaluator_page_in_spanish_keeps_machine_numbers_for_its_scripts(admin_client, load):
    # criteria_weights.js and the what-if read the weights' inputs: Spanish writes 12,5, a number input cannot.
    criteria = [{"id": builders.new_id(), "name": "Saludo inicial", "description": "", "type": "BOOLEAN",
                 "weight": 12.5},
                {"id": builders.new_id(), "name": "Escucha activa", "description": "", "type": "BOOLEAN",
                 "weight": 87.5}]
    load(evaluators=[builders.evaluator_payload(tag="pitch temporal", criteria=criteria)])
    page = admin_client.get(change_url(Evaluator.objects.get()), **ES).content.decode()
    assert 'value="12.50"' in page and 'value="87.50"' in page and "12,50" not in page
    assert "Previsualizar el efecto" in page and "Revisiones" in page and 'value="1000"' in page
    assert "pitch temporal" in page and "Saludo inicial" in page
