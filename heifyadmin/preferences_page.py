"""A person's own page of preferences (/admin/preferences/): the language they read the back office in, for
everyone signed in, agents included (it is one of the site's own pages, like the password change). The choice is
kept (qa.preferences.preference_set_language) and applies from the next page on; the page also names the team's
time zone, the one every time is shown in.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from heifyadmin.language import remember, set_language_cookie
from qa.preferences import kept_language, preference_set_language


class LanguageForm(forms.Form):
    # Each language by its own name (LANGUAGES), so a person can find theirs whatever the page is in.
    language = forms.ChoiceField(
        label=_("Language"), required=False,
        choices=[("", _("The browser's language")), *settings.LANGUAGES],
        help_text=_("The back office and the e-mails it sends you are written in it."),
    )


def preferences_view(request):
    kept = kept_language(request.user)
    form = LanguageForm(request.POST or None, initial={"language": kept or ""})
    if request.method == "POST" and form.is_valid():
        try:
            chosen = preference_set_language(user=request.user, language=form.cleaned_data["language"])
        except ValidationError as exc:
            form.add_error("language", exc.message_dict.get("language"))
        else:
            remember(request, chosen)  # this answer's message is in the new language already
            if chosen:
                messages.success(request, gettext("Your language is kept: %(language)s.")
                                 % {"language": dict(settings.LANGUAGES)[chosen]})
            else:
                messages.success(request, gettext("The back office follows your browser's language again."))
            response = HttpResponseRedirect(reverse("admin:preferences"))
            if chosen:
                set_language_cookie(response, chosen)
            else:
                response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH,
                                       domain=settings.LANGUAGE_COOKIE_DOMAIN)
            return response
    context = {
        **admin.site.each_context(request),
        "title": gettext("Your preferences"),
        "form": form,
        "time_zone": settings.TIME_ZONE,
    }
    return TemplateResponse(request, "admin/preferences.html", context)


preferences_view.for_agents = True  # an agent reaches it too (heifyadmin.admin_site refuses them unmarked views)
