"""The roles of the back office, as auth groups named exactly "QA manager", "Reviewer" and "Agent".

Created by a data migration (qa/migrations/0003_roles.py) and ensured again
after every migrate or flush, so they are always there with these permissions.

A role makes its holder staff (the admin lets no one else sign in), however
they were put in it: the user's groups (the admin's user form), the group's
user set, or code. Someone who was not staff then is recorded (StaffByRole),
and loses staff with their last role; staff by hand before any role, and
superusers, stay staff.

Which permission a name stands for, and which question the code asks of it, is qa.policy's; the lists
below grant the custom permissions by its names (Permission.X.codename).
"""

from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.db import models
from django.utils.translation import gettext_lazy as _

from qa.policy import Permission

EDIT = ("add", "change", "delete", "view")
ROLES = {
    # Scorecards, agents and configurations, and every queue action.
    "QA manager": [
        *(f"{verb}_{model}" for model in ("configuration", "extractionfield", "evaluator", "criterion",
                                          "participant") for verb in EDIT),
        "view_transcription", "add_transcription", "change_transcription", "view_reviewitem",
        Permission.REVIEW_TRANSCRIPTION.codename, Permission.MANAGE_REVIEW_QUEUES.codename,
        "view_reviewevent", "view_criterionverdict", Permission.COMPARE_WITH_HEIFY.codename,
        Permission.VIEW_AUDITEVENT.codename,  # the audit log (qa/reviews/admin/audit.py)
    ],
    # Reads everything, works the queues, writes notes; edits no scorecard or agent.
    "Reviewer": [
        "view_configuration", "view_evaluator", "view_criterion", "view_participant",
        "view_transcription", "view_reviewitem", Permission.REVIEW_TRANSCRIPTION.codename,
        "view_reviewevent", "view_criterionverdict",
    ],
    # Their own calls, evaluations, disputes and coaching (the participant their account is linked to), nothing
    # of anyone else's: no model permission, so every other admin page and API endpoint refuses them.
    "Agent": [Permission.VIEW_OWN_EVALUATIONS.codename],
}

# The roles as people read them: the groups' names above are what is stored (and what the API answers), and stay.
ROLE_LABELS = {"QA manager": _("QA manager"), "Reviewer": _("Reviewer"), "Agent": _("Agent")}


def role_label(name: str) -> str:
    """A role's name in the active language (a group that is no role: its name as stored)."""
    return str(ROLE_LABELS.get(name, name))


def ensure_roles(apps=global_apps) -> None:
    """Create the roles, or add back what they lack; `apps` is a migration's registry when run from one."""
    app_config = apps.get_app_config("qa")
    if not getattr(app_config, "models_module", None):
        # A migration's app config is a stub: it passes for a real one for this call.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    else:
        create_permissions(app_config, apps=apps, verbosity=0)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=name)
        permissions = permission_model.objects.filter(content_type__app_label="qa", codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        # A migration's registry may predate a permission added later (its own migration grants it);
        # after migrate, the real registry must have them all.
        if missing and apps is global_apps:
            raise RuntimeError(f"permissions missing for role {name}: {sorted(missing)}")
        group.permissions.add(*permissions)


def staff_follows_roles(user_ids) -> None:
    """Make these users staff if they hold a role, or take back the staff their last role gave them."""
    users = get_user_model().objects.filter(pk__in=user_ids)
    holders = set(users.filter(groups__name__in=ROLES).values_list("pk", flat=True))
    granted = list(users.filter(pk__in=holders, is_staff=False).values_list("pk", flat=True))
    if granted:
        users.filter(pk__in=granted).update(is_staff=True)
        StaffByRole.objects.bulk_create([StaffByRole(user_id=pk) for pk in granted], ignore_conflicts=True)
    lapsed = StaffByRole.objects.filter(user_id__in=users.exclude(pk__in=holders).values("pk"))
    users.filter(pk__in=lapsed.values("user_id"), is_superuser=False).update(is_staff=False)
    lapsed.delete()


def on_groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """m2m_changed of User.groups, from either side: `instance` is the user (reverse False) or the group."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        if action == "post_clear" or model.objects.filter(pk__in=pk_set, name__in=ROLES).exists():
            staff_follows_roles([instance.pk])
            instance.refresh_from_db(fields=["is_staff"])  # a later save of the object in hand keeps it
    elif instance.name in ROLES:
        if action == "post_clear":  # who was in the group is no longer known: all whom a role made staff
            pk_set = StaffByRole.objects.values_list("user_id", flat=True)
        staff_follows_roles(pk_set)


class StaffByRole(models.Model):
    """The user was not staff when a role (qa/roles.py) made them staff: losing their last role takes it back.
    No row: staff by hand (or a superuser), which no role change touches."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("user"))
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff by role")
        verbose_name_plural = _("staff by role")

    def __str__(self):
        return str(self.user_id)
