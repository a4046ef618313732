"""The two roles of the back office, as auth groups named exactly "QA manager" and "Reviewer".

Created by a data migration (qa/migrations/0003_roles.py) and ensured again
after every migrate or flush, so they are always there with these permissions.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

EDIT = ("add", "change", "delete", "view")
# Asking Heify for its own analytics report spends its monthly quota: a manager's call.
COMPARE_WITH_HEIFY = "qa.compare_with_heify"
ROLES = {
    # Scorecards, agents and configurations, and every queue action.
    "QA manager": [
        *(f"{verb}_{model}" for model in ("configuration", "extractionfield", "evaluator", "criterion",
                                          "participant") for verb in EDIT),
        "view_transcription", "add_transcription", "change_transcription", "view_reviewitem",
        "review_transcription", "manage_review_queues",
        "view_reviewevent", "view_criterionverdict", "compare_with_heify",
    ],
    # Reads everything, works the queues, writes notes; edits no scorecard or agent.
    "Reviewer": [
        "view_configuration", "view_evaluator", "view_criterion", "view_participant",
        "view_transcription", "view_reviewitem", "review_transcription",
        "view_reviewevent", "view_criterionverdict",
    ],
}


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
