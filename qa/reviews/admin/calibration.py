"""Admin for calibration sessions (qa/reviews/calibration.py).

Managers set a session up (calls, reviewers, an optional expert) with the
admin's own form, see the results at any time and close it. A rater has two
pages: the score sheet, blind (the conversation and the criteria, and only
their own answers: a value 1-5 on scale criteria, pass/fail on the others), and
the results once they have submitted.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from qa import policy
from qa.mirror import rules
from qa.mirror.admin.base import AuditHistoryMixin, apply_rule
from qa.reviews import calibration
from qa.reviews.admin.transcriptions import speaker_turns
from qa.reviews.models import CalibrationSession

# The score sheet's answers as the service takes them: a value on a scale criterion, pass/fail on the others (the
# service refuses the one that does not fit the criterion).
ANSWERS = {"pass": True, "fail": False, **{str(v): v for v in range(rules.SCALE_MIN, rules.SCALE_MAX + 1)}}

SCALE = {"scale_min": rules.SCALE_MIN, "scale_max": rules.SCALE_MAX, "pass_mark": rules.SCALE_PASS_MARK,
         "scale_values": range(rules.SCALE_MIN, rules.SCALE_MAX + 1)}  # what the pages say of the scale


class CalibrationSessionForm(forms.ModelForm):
    class Meta:
        model = CalibrationSession
        fields = ("name", "calls", "reviewers", "expert")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reviewers = policy.reviewers()
        for name in ("reviewers", "expert"):
            if name in self.fields:
                self.fields[name].queryset = reviewers

    def clean(self):
        data = super().clean()
        if "calls" in data and "reviewers" in data:
            apply_rule(self, calibration.clean_session, calls=data["calls"], reviewers=data["reviewers"],
                       expert=data.get("expert"))
        return data


@admin.register(CalibrationSession)
class CalibrationSessionAdmin(AuditHistoryMixin, admin.ModelAdmin):
    form = CalibrationSessionForm
    list_display = ("name", "created_by", "created_at", "calls_count", "submitted", "state", "links")
    autocomplete_fields = ("calls",)
    filter_horizontal = ("reviewers",)
    readonly_fields = ("created_by", "created_at", "closed_at")

    # Managers run sessions; reviewers see the ones they rate in.
    def has_module_permission(self, request):
        return policy.is_reviewer(request.user)

    def has_view_permission(self, request, obj=None):
        return policy.is_reviewer(request.user)

    def has_add_permission(self, request):
        return policy.may_manage_queues(request.user)

    def has_change_permission(self, request, obj=None):
        return policy.may_manage_queues(request.user) and (obj is None or calibration.is_open(obj))

    def has_delete_permission(self, request, obj=None):
        return False  # answers are kept

    def get_queryset(self, request):
        sessions = super().get_queryset(request).select_related("created_by").annotate(
            calls_total=Count("calls", distinct=True), submitted_total=Count("submissions", distinct=True))
        if policy.may_manage_queues(request.user):
            return sessions
        return sessions.filter(Q(reviewers=request.user) | Q(expert=request.user)).distinct()

    def get_readonly_fields(self, request, obj=None):
        fixed = obj is not None and calibration.setup_is_fixed(obj)
        return self.readonly_fields + (("calls", "reviewers", "expert") if fixed else ())

    @admin.display(description=_("calls"))
    def calls_count(self, obj):
        return obj.calls_total

    @admin.display(description=_("submitted"))
    def submitted(self, obj):
        return obj.submitted_total

    @admin.display(description=_("state"))
    def state(self, obj):
        return gettext("closed") if obj.closed_at else gettext("open")

    @admin.display(description="")
    def links(self, obj):
        return format_html('<a href="{}">{}</a> · <a href="{}">{}</a>',
                           reverse("admin:qa_calibrationsession_score", args=[obj.pk]), gettext("score sheet"),
                           reverse("admin:qa_calibrationsession_results", args=[obj.pk]), gettext("results"))

    def save_model(self, request, obj, form, change):
        """Through qa.reviews.calibration's actions, which hold the rules (the form only says them early)."""
        data = form.cleaned_data
        setup = {  # what the form leaves out (read-only once answered) stays as it is
            "name": data["name"],
            "calls": data["calls"] if "calls" in data else obj.calls.all(),
            "reviewers": data["reviewers"] if "reviewers" in data else obj.reviewers.all(),
            "expert": data["expert"] if "expert" in data else obj.expert,
        }
        if change:
            calibration.calibration_session_update(session=obj, acting_user=request.user, **setup)
        else:
            obj.pk = calibration.calibration_session_create(acting_user=request.user, **setup).pk
        obj.refresh_from_db()  # what the admin logs and links to: the row as the action left it

    def save_related(self, request, form, formsets, change):
        """Nothing left: the action set the calls and the reviewers."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/score/", view(self.score_view), name="qa_calibrationsession_score"),
            path("<int:pk>/results/", view(self.results_view), name="qa_calibrationsession_results"),
            *super().get_urls(),
        ]

    def _context(self, request, session, title, **extra):
        return {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta,
                "session": session, **extra}

    def _session_or_404(self, request, pk: int) -> CalibrationSession:
        """The session, as Django's admin looks an object up: the permission first (without it, 403 whether the
        session exists or not), then among the sessions the user may see (one they may not answers as a missing
        one does)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def score_view(self, request, pk: int):
        """The blind score sheet: nothing but the rater's own answers until they submit."""
        session = self._session_or_404(request, pk)
        if not calibration.is_rater(session, request.user):
            raise PermissionDenied
        if request.method == "POST":
            answers, notes = {}, {}
            for key, value in request.POST.items():
                if key.startswith("answer-") and value in ANSWERS:
                    call_pk, _dash, name = key.removeprefix("answer-").partition("-")
                    if call_pk.isdigit():
                        answers[(int(call_pk), name)] = ANSWERS[value]
                        notes[(int(call_pk), name)] = request.POST.get(f"note-{call_pk}-{name}", "")
            try:
                calibration.calibration_answers_save(session=session, rater=request.user, answers=answers,
                                                     notes=notes, submit="submit" in request.POST)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
            else:
                if "submit" in request.POST:
                    self.message_user(request, gettext("Submitted: here is how everyone answered."))
                    return HttpResponseRedirect(reverse("admin:qa_calibrationsession_results", args=[pk]))
                self.message_user(request, gettext("Answers saved; submit when every criterion is answered."))
            return HttpResponseRedirect(request.path)
        if calibration.has_submitted(session, request.user):
            return HttpResponseRedirect(reverse("admin:qa_calibrationsession_results", args=[pk]))
        sheet = calibration.rater_sheet(session, request.user)
        for item in sheet:
            item["turns"] = speaker_turns(item["call"].segments or [])
        return TemplateResponse(request, "admin/qa/calibrationsession/score.html",
                                self._context(request, session,
                                              gettext("%(session)s: your answers") % {"session": session}, sheet=sheet,
                                              note_max_length=rules.REVIEW_TEXT_MAX_LENGTH, **SCALE))

    def results_view(self, request, pk: int):
        """Everyone's answers (managers; raters once they submitted). A manager closes the session here (POST)."""
        session = self._session_or_404(request, pk)
        if not calibration.may_see_results(session, request.user):
            raise PermissionDenied
        if request.method == "POST":
            calibration.calibration_session_close(session=session, acting_user=request.user)  # managers only
            self.message_user(request, gettext("Closed; the answers are kept."))
        results = calibration.session_results(session, request.user)
        return TemplateResponse(request, "admin/qa/calibrationsession/results.html",
                                self._context(request, session, gettext("%(session)s: results") % {"session": session},
                                              results=results,
                                              can_close=policy.may_manage_queues(request.user), **SCALE))
