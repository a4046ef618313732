"""The admin site: every list takes only the filters it offers, and every search has a bounded cost.

Django's changelist applies any lookup on a model's own fields that the query string names
(`?webhook_success_url__startswith=https://x/webhooks/heify/a`), whether or not the list offers it: a
person who may see a list could read, by guessing one character at a time, any field of it, the webhook
secret included. Here a list applies only the parameters its own list_filter and date_hierarchy consume
(and Django's own: search, ordering, page, popup); anything else is Django's "incorrect lookup" (the list
redirects to `?e=1`, where it says which parameters it did not apply), never a filtered list. Every
ModelAdmin registered on the site, ours and the third-party apps' alike, gets this: the site mixes
`OfferedLookupsOnly` into each class it registers (and `TimesInTheTeamZone`: a form's times name their zone).

An agent (qa.policy.sees_own_only) reaches only their own page (qa.agents.views, marked `agent_view`), signing
out and changing their password: every other admin page answers 403, and the index sends them to their page.

A search longer than qa.mirror.rules allows (words, characters) is not run: the list says why and shows no rows. An
action on rows named by anything but their ids is refused with a message.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.db.models import DateTimeField
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from heifyadmin import preferences_page
from qa import limits, policy
from qa.agents import views as agent_views


@functools.cache
def _offered_only(changelist_class):
    class OfferedLookupsChangeList(changelist_class):
        def get_filters(self, request):
            asked = set(self.get_filters_params())
            result = super().get_filters(request)
            # What the list filters and the date hierarchy consumed is gone from the remaining lookups; the
            # date hierarchy's own bounds are added back under names nobody asked for.
            refused = sorted(asked & set(result[2]))
            if refused:
                request.refused_lookups = refused  # the access log redacts their values
                # Said on the page the refusal redirects to (names only: a value is never repeated).
                message = gettext("This list cannot be filtered by %(names)s: it shows every row instead.") % {
                    "names": ", ".join(refused)}
                messages.warning(request, message[:300])
                raise IncorrectLookupParameters(message)
            return result

    OfferedLookupsChangeList.__name__ = OfferedLookupsChangeList.__qualname__ = changelist_class.__name__
    return OfferedLookupsChangeList


class OfferedLookupsOnly:
    """Mixed into every ModelAdmin of the site (before the admin's own class)."""

    def get_changelist(self, request, **kwargs):
        return _offered_only(super().get_changelist(request, **kwargs))

    def get_search_results(self, request, queryset, search_term):
        try:
            limits.clean_search(search_term)
        except ValidationError as exc:
            if not request.path.endswith("/autocomplete/"):
                messages.error(request, " ".join(exc.messages))
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def response_action(self, request, queryset):
        """An action on rows named by something no row's id can be (`abc`, a NUL) is refused with a message,
        as Django refuses an action with no rows selected (it raised ValueError: a 500)."""
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            try:
                if "\x00" not in value:
                    self.opts.pk.to_python(value)
                    continue
            except ValidationError:
                pass
            self.message_user(request, gettext("No action was taken: %(value)s is not the id of a row of this list.")
                              % {"value": repr(value[:40])}, messages.WARNING)
            return None
        return super().response_action(request, queryset)


class TimesInTheTeamZone:
    """Every date-and-time field of an admin form names the time zone its times are in (TIME_ZONE): Django's widgets
    name none, and their "Note: You are 1 hour ahead of server time" says only that the browser's differs. Shown
    times already carry it (DATETIME_FORMAT ends in the zone's name)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(db_field, DateTimeField):
            zone = gettext("Times in %(zone)s (the team's time zone).") % {"zone": settings.TIME_ZONE}
            formfield.help_text = f"{formfield.help_text} {zone}".strip()
        return formfield


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@functools.cache
def _permissions_sql(using: str) -> str:
    """The user's own permissions and their groups', as ModelBackend reads them in two queries
    (`user_permissions` and `Permission.objects.filter(group__user=user)`, "<app label>.<codename>"), in one; the
    user's id twice its parameters. Written once per process from the models' tables."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    q = connections[using].ops.quote_name
    user_model = get_user_model()
    own = user_model._meta.get_field("user_permissions").remote_field.through._meta
    membership = user_model._meta.get_field("groups").remote_field.through._meta
    granted = Group._meta.get_field("permissions").remote_field.through._meta
    permission, content_type = q(Permission._meta.db_table), q(ContentType._meta.db_table)

    def column(meta, name):
        return q(meta.get_field(name).column)

    def names(through: str, joins: str, user_column: str) -> str:
        return (f"SELECT '{through}', ct.{q('app_label')}, p.{q('codename')} FROM {permission} p "
                f"INNER JOIN {content_type} ct ON ct.{q('id')} = p.{q('content_type_id')} {joins} "
                f"WHERE {user_column} = %s")

    return " UNION ALL ".join([
        names("user", f"INNER JOIN {q(own.db_table)} up ON up.{column(own, 'permission')} = p.{q('id')}",
              f"up.{column(own, 'user')}"),
        names("group", f"INNER JOIN {q(granted.db_table)} gp ON gp.{column(granted, 'permission')} = p.{q('id')} "
                       f"INNER JOIN {q(membership.db_table)} ug ON ug.{column(membership, 'group')} = "
                       f"gp.{column(granted, 'group')}", f"ug.{column(membership, 'user')}"),
    ])


def permissions_read(user) -> None:
    """Read `user`'s permissions, their own and their groups', in one query, into the caches Django's ModelBackend
    keeps on the user object for the rest of the request (it reads them in two queries, on the first has_perm).
    Nothing outlives the request, so a role changed is seen by the next one, as without it. Left to the backend:
    a user it gives no permissions (anonymous, inactive), a superuser (it reads every permission), a user whose
    permissions were read already, and a site without ModelBackend."""
    if (not user.is_authenticated or not user.is_active or user.is_superuser or hasattr(user, "_perm_cache")
            or MODEL_BACKEND not in settings.AUTHENTICATION_BACKENDS):
        return
    with connections[user._state.db or "default"].cursor() as cursor:
        cursor.execute(_permissions_sql(cursor.db.alias), [user.pk, user.pk])
        rows = cursor.fetchall()
    names: dict[str, set[str]] = {"user": set(), "group": set()}
    for through, app_label, codename in rows:
        names[through].add(f"{app_label}.{codename}")
    # ModelBackend's own names for them (django.contrib.auth.backends.ModelBackend._get_permissions and
    # get_all_permissions; tests/heifyadmin/test_admin_permissions_read.py checks it answers as without them).
    user._user_perm_cache, user._group_perm_cache = names["user"], names["group"]
    user._perm_cache = names["user"] | names["group"]


class HeifyAdminSite(admin.AdminSite):
    site_header = _("Heify back office")
    site_title = _("Heify back office")
    index_title = _("Quality assurance")

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, OfferedLookupsOnly):
            admin_class = type(admin_class.__name__, (OfferedLookupsOnly, TimesInTheTeamZone, admin_class),
                               {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__})
        super().register(model_or_iterable, admin_class, **options)

    # The site's own views an agent may reach besides the agents' pages: their index redirects them to their page.
    AGENT_SITE_VIEWS = frozenset({"index", "logout", "password_change", "password_change_done", "i18n_javascript"})

    def admin_view(self, view, cacheable=False):
        wrapped = super().admin_view(view, cacheable)
        own_view = getattr(view, "__self__", None) is self and view.__name__ in self.AGENT_SITE_VIEWS
        if own_view or getattr(view, "for_agents", False):

            @functools.wraps(wrapped)
            def site_view(request, *args, **kwargs):
                permissions_read(request.user)
                return wrapped(request, *args, **kwargs)

            return site_view

        @functools.wraps(wrapped)
        def not_for_agents(request, *args, **kwargs):
            permissions_read(request.user)
            if policy.sees_own_only(request.user):
                raise PermissionDenied(gettext("An agent's account sees their own evaluations only."))
            return wrapped(request, *args, **kwargs)

        return not_for_agents

    def each_context(self, request):
        request.qa_app_list_lazy = True  # see get_app_list
        try:
            context = super().each_context(request)
        finally:
            del request.qa_app_list_lazy
        if policy.sees_own_only(request.user):
            context["is_nav_sidebar_enabled"] = False  # it would list nothing: the page takes the whole width
        return context

    def get_app_list(self, request, app_label=None):
        # Every page's context holds the app list for the navigation sidebar (each_context), which the calls'
        # pages and lists leave out: there it is built only if a template reads it (a permission check and a
        # URL for each model otherwise, on every request).
        if getattr(request, "qa_app_list_lazy", False):
            return SimpleLazyObject(lambda: self._app_list(request, app_label))
        return self._app_list(request, app_label)

    def _app_list(self, request, app_label=None):
        # The sidebar and the index list no model to an agent: every model page refuses them.
        return [] if policy.sees_own_only(request.user) else super().get_app_list(request, app_label)

    def index(self, request, extra_context=None):
        if policy.sees_own_only(request.user):
            return HttpResponseRedirect(reverse("admin:agent_page", current_app=self.name))
        return super().index(request, extra_context)

    def get_urls(self):
        return [
            path("preferences/", self.admin_view(preferences_page.preferences_view), name="preferences"),
            path("me/", self.admin_view(agent_views.agent_page), name="agent_page"),
            path("me/calls/<int:pk>/acknowledge/", self.admin_view(agent_views.acknowledge), name="agent_acknowledge"),
            path("me/calls/<int:pk>/dispute/", self.admin_view(agent_views.dispute), name="agent_dispute"),
            path("me/coaching/<int:pk>/acknowledge/", self.admin_view(agent_views.coaching_acknowledge),
                 name="agent_coaching_acknowledge"),
            path("qa/participant/<int:pk>/agent/", self.admin_view(agent_views.participant_agent),
                 name="qa_participant_agent"),
            *super().get_urls(),
        ]
