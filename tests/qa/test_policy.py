"""qa.policy: every answer for every kind of user, the reviewers() selector, the doors that ask it (a DRF
permission class, the template filter, the pages whose links it decides), and the layout rule that keeps the
permission names in it alone. (The blind rule's answers: tests/security/test_calibration_blind.py.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.contrib.auth.models import Permission as AuthPermission
from django.contrib.contenttypes.models import ContentType
from django.template import Context, Template
from django.test import Client

from qa import policy
from qa.api.permissions import requires
from qa.mirror.models import Participant
from qa.policy import Permission
from qa.reviews.admin.calibration import CalibrationSessionForm
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SU, M, R, S, INACTIVE, A, AG = "superuser", "manager", "reviewer", "staff", "inactive", "anonymous", "agent"
ALL = (SU, M, R, S, INACTIVE, A, AG)


@pytest.fixture
def users():
    superuser = User.objects.create_superuser("sue", password=builders.TEST_PASSWORD)
    # Inactive, yet a superuser and a QA manager: neither may let them do anything.
    inactive = person("ian", "QA manager")
    inactive.is_superuser, inactive.is_active = True, False
    inactive.save()
    return {SU: User.objects.get(pk=superuser.pk), M: person("mia", "QA manager"), R: person("rex", "Reviewer"),
            S: person("sam"), INACTIVE: User.objects.get(pk=inactive.pk), A: AnonymousUser(),
            AG: person("ana", "Agent")}


def answers(users, question) -> set[str]:
    """The kinds of user `question(user)` says yes to."""
    return {kind for kind in ALL if question(users[kind])}


# --- the enum -----------------------------------------------------------------------------------------


def test_every_permission_names_a_permission_the_database_has():
    for permission in Permission:
        app_label, codename = permission.value.split(".")
        assert permission.codename == codename
        assert AuthPermission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), permission


def test_may_refuses_a_bare_string_instead_of_answering_no(users):
    with pytest.raises(TypeError, match="not a qa.policy.Permission"):
        policy.may(users[SU], Permission.VIEW_EVALUATOR.value)


# --- each question, each kind of user --------------------------------------------------------------------

MAY = {
    Permission.REVIEW_TRANSCRIPTION: {SU, M, R},
    Permission.MANAGE_REVIEW_QUEUES: {SU, M},
    Permission.COMPARE_WITH_HEIFY: {SU, M},
    Permission.CHANGE_CONFIGURATION: {SU, M},
    Permission.VIEW_EVALUATOR: {SU, M, R},
    Permission.CHANGE_EVALUATOR: {SU, M},
    Permission.VIEW_PARTICIPANT: {SU, M, R},
    Permission.VIEW_REVIEWITEM: {SU, M, R},
    Permission.VIEW_AUDITEVENT: {SU, M},
    Permission.VIEW_OWN_EVALUATIONS: {SU, AG},
}


def test_the_table_has_every_permission():
    assert set(MAY) == set(Permission)


@pytest.mark.parametrize("permission", list(MAY), ids=lambda p: p.name)
def test_may(users, permission):
    assert answers(users, lambda user: policy.may(user, permission)) == MAY[permission]


@pytest.mark.parametrize(("question", "who"), [
    (policy.is_reviewer, {SU, M, R}),
    (policy.may_manage_queues, {SU, M}),
    (policy.may_see_webhook_secret, {SU, M}),
    (policy.may_compare_with_heify, {SU, M}),
    (policy.may_read_audit, {SU, M}),
    (policy.is_agent, {SU, AG}),
], ids=lambda q: getattr(q, "__name__", ""))
def test_questions_about_the_person(users, question, who):
    assert answers(users, question) == who


@pytest.fixture
def participant(load):
    payload = builders.participant_payload()
    load(participants=[payload])
    return Participant.objects.get(heify_id=payload["participant_id"])


# --- reviewers() ---------------------------------------------------------------------------------------


def test_reviewers_are_whom_is_reviewer_says_yes_to(users):
    people = [user for user in users.values() if user.pk]
    assert [u.username for u in policy.reviewers()] == sorted(u.username for u in people if policy.is_reviewer(u))
    assert {u.username for u in policy.reviewers()} == {"mia", "rex", "sue"}


def test_reviewers_counts_the_permission_held_directly_and_not_twice(users):
    direct = person("dora")
    direct.user_permissions.add(AuthPermission.objects.get(content_type__app_label="qa",
                                                           codename=Permission.REVIEW_TRANSCRIPTION.codename))
    users[M].user_permissions.add(*direct.user_permissions.all())  # a role and the permission itself
    assert [u.username for u in policy.reviewers()] == ["dora", "mia", "rex", "sue"]


def test_a_permission_of_the_same_codename_elsewhere_makes_no_reviewer(users):
    """The two copies of this query the admin had matched the codename alone, so a permission of another app
    with the same codename listed its holder, whom the review steps then refused (has_perm names the app)."""
    lookalike = AuthPermission.objects.create(content_type=ContentType.objects.get_for_model(Group),
                                              codename=Permission.REVIEW_TRANSCRIPTION.codename, name="Look-alike")
    group = Group.objects.create(name="Look-alikes")
    group.permissions.add(lookalike)
    impostor = person("ivy")
    impostor.groups.add(group)
    impostor.user_permissions.add(lookalike)
    impostor = User.objects.get(pk=impostor.pk)
    assert not policy.is_reviewer(impostor)
    assert "ivy" not in {u.username for u in policy.reviewers()}


def test_the_calibration_form_offers_the_reviewers(users):
    form = CalibrationSessionForm()
    assert list(form.fields["reviewers"].queryset) == list(policy.reviewers())
    assert list(form.fields["expert"].queryset) == list(policy.reviewers())


# --- the doors that ask it ---------------------------------------------------------------------------------


def test_the_api_permission_class(users):
    refuse = requires(Permission.CHANGE_EVALUATOR, "edit evaluators")()
    assert refuse.message == "You are not allowed to edit evaluators."
    assert answers(users, lambda user: refuse.has_permission(SimpleNamespace(user=user), None)) == {SU, M}


def test_the_template_filter(users):
    template = Template('{% load policy %}{% if user|may:"COMPARE_WITH_HEIFY" %}yes{% endif %}')
    assert answers(users, lambda user: template.render(Context({"user": user})) == "yes") == {SU, M}
    with pytest.raises(KeyError):
        Template('{% load policy %}{{ user|may:"COMPARE" }}').render(Context({"user": users[SU]}))


def page(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_admin_home_shows_the_review_queues_to_those_who_read_them(users):
    for kind in (SU, M, R, S):
        html = page(users[kind], "/admin/")
        assert ('id="review-queues"' in html) is (kind != S), kind
        assert ("/admin/qa/participant/team/" in html) is (kind != S), kind


def test_the_compare_with_heify_button_is_for_managers(users, participant):
    for kind in (SU, M, R):
        html = page(users[kind], f"/admin/qa/participant/{participant.pk}/change/")
        assert ("Compare with Heify" in html) is (kind in (SU, M)), kind


# --- layout: the permission names live in qa/policy.py alone ----------------------------------------------

OWN_FILES = [p for d in ("qa", "heifyadmin", "syncer", "tests", "benchmarks") for p in (ROOT / d).rglob("*.py")]


def permission_literals(tree, codenames: set[str]) -> list[int]:
    """The lines of string literals that name a qa permission as has_perm does ("qa.<codename>")."""
    return sorted(node.lineno for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and re.fullmatch(r"qa\.\w+", node.value) and node.value[3:] in codenames)


@pytest.fixture
def codenames():
    return set(AuthPermission.objects.filter(content_type__app_label="qa").values_list("codename", flat=True))


def test_no_module_but_the_policy_names_a_permission(codenames):
    allowed = {ROOT / "qa" / "policy.py"}
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in OWN_FILES
        if path not in allowed and "migrations" not in path.parts
        for line in permission_literals(ast.parse(path.read_text(), filename=str(path)), codenames)
    ]
    assert offenders == [], "name a permission as qa.policy.Permission, and ask qa.policy"
    templates = [f"{p.relative_to(ROOT)}" for p in (ROOT / "templates").rglob("*.html") if "perms.qa." in p.read_text()]
    assert templates == [], 'templates ask qa.policy too: {% load policy %} {% if user|may:"NAME" %}'


def test_the_layout_rule_catches_a_literal_and_lets_other_qa_names_be(codenames):
    tree = ast.parse('user.has_perm("qa.view_evaluator")\nuid = "qa.revoke_tokens"\nname = "qa.analytics"\n')
    assert permission_literals(tree, codenames) == [1]
