"""API permissions: Django's model permissions, reading included, and one class per qa.policy question."""

from django.utils.functional import lazy
from django.utils.translation import gettext
from rest_framework.permissions import BasePermission, DjangoModelPermissions

from qa import policy


class ModelPermissions(DjangoModelPermissions):
    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


def requires(permission: policy.Permission, what: str) -> type[BasePermission]:
    """A permission class that lets in whoever qa.policy.may(user, `permission`), and refuses with "You are not
    allowed to `what`." (401 when nobody signed in). `what` is best a translated phrase (gettext_lazy)."""

    class Requires(BasePermission):
        message = lazy(lambda: gettext("You are not allowed to %(what)s.") % {"what": what}, str)()

        def has_permission(self, request, view):
            return policy.may(request.user, permission)

    return Requires
