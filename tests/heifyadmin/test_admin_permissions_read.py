"""Every admin page reads its user's permissions in one query (heifyadmin.admin_site.permissions_read), where Django's
ModelBackend reads them in two: the same answers, read afresh on every request (a role changed shows at once)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from heifyadmin.admin_site import permissions_read
from qa import policy
from tests.builders import person

pytestmark = pytest.mark.django_db


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def answers(user) -> tuple:
    return (user.get_user_permissions(), user.get_group_permissions(), user.get_all_permissions(),
            {p: policy.may(user, p) for p in policy.Permission})


@pytest.mark.parametrize("role", ["Reviewer", "QA manager", "Agent", None])
def test_one_query_gives_what_the_backend_reads(role, django_assert_num_queries):
    user = person("rita", role)
    user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))  # one of their own, too
    expected = answers(fresh(user))
    read = fresh(user)
    with django_assert_num_queries(1):
        permissions_read(read)
        assert answers(read) == expected  # from what it read: no query more


def test_who_the_backend_reads_for_itself_is_left_to_it(django_assert_num_queries):
    boss = get_user_model().objects.create_superuser("boss", password="pw-for-tests-1")
    gone = person("gone", "Reviewer")
    get_user_model().objects.filter(pk=gone.pk).update(is_active=False)
    for user in (fresh(boss), fresh(gone)):
        with django_assert_num_queries(0):
            permissions_read(user)
        assert not hasattr(user, "_perm_cache")
    assert policy.may(fresh(boss), policy.Permission.MANAGE_REVIEW_QUEUES)
    assert not policy.may(fresh(gone), policy.Permission.REVIEW_TRANSCRIPTION)


def test_a_role_changed_shows_on_the_next_request():
    rita = person("rita", "Reviewer")
    client = Client()
    client.force_login(rita)
    queue = reverse("admin:qa_reviewitem_changelist")
    assert client.get(queue).status_code == 200
    rita.groups.remove(Group.objects.get(name="Reviewer"))
    assert client.get(queue).status_code == 403
    rita.groups.add(Group.objects.get(name="Agent"))
    assert client.get(queue).status_code == 403  # an agent sees their own page only
    rita.groups.set([Group.objects.get(name="Reviewer")])
    assert client.get(queue).status_code == 200
