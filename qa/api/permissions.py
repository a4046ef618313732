"""API permissions: Django's model permissions, reading included, and one class per qa.policy question."""

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
    allowed to `what`." (401 when nobody signed in)."""

    class Requires(BasePermission):
        message = f"You are not allowed to {what}."

        def has_permission(self, request, view):
            return policy.may(request.user, permission)

    return Requires
