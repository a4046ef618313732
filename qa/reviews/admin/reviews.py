"""Admin for the review queues: the reviewer's daily screen and the review page.

The queue list and the review page are the transcription screens
(qa/reviews/admin/transcriptions.py) with the review's own columns, filters, buttons
and forms on top. Every button posts to one view that calls qa.reviews.queues; the
rules of what may move where live there and in qa.mirror.rules, and the page shows
the buttons and forms qa.reviews.queues.allowed_steps allows, nothing it restates.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse, QueryDict
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qa import policy
from qa.mirror import rules
from qa.mirror.models import Transcription
from qa.mirror.rules import Group, Status
from qa.reviews import blinding, calibration, queues
from qa.reviews.admin.transcriptions import (
    REVIEWED_SCORE_FIELDS,
    TranscriptionAdmin,
    call_reviewed_score,
    format_score,
    row_reviewed_score,
    score_with_critical,
)
from qa.reviews.models import ReviewItem

DEFAULT_QUEUE = Group.PENDING_REVIEW
NO_GROUP = "none"
SCORE_BANDS = [("0-20", 0, 20), ("21-40", 20, 40), ("41-60", 40, 60), ("61-80", 60, 80), ("81-100", 80, 100)]


class QueueFilter(admin.SimpleListFilter):
    title = gettext_lazy("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(g, rules.group_label(g).capitalize()) for g in rules.GROUPS] + [(NO_GROUP, _("No group"))]

    def value(self):
        return super().value() or DEFAULT_QUEUE

    def queryset(self, request, queryset):
        return queryset.filter(queues.in_group(None if self.value() == NO_GROUP else self.value()))

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


class MineFilter(admin.SimpleListFilter):
    title = gettext_lazy("reviewer")
    parameter_name = "mine"
    UNHELD = "nobody"

    def lookups(self, request, model_admin):
        return [("1", _("My reviews")), (self.UNHELD, _("Nobody holds"))]

    def queryset(self, request, queryset):
        if self.value() == self.UNHELD:
            return queryset.filter(queues.unheld())
        return queryset.filter(assigned_to=request.user) if self.value() == "1" else queryset

    def choices(self, changelist):
        # The calls nobody holds are under review: their link opens that queue.
        for choice in super().choices(changelist):
            if choice.get("display") == _("Nobody holds"):
                choice["query_string"] = changelist.get_query_string(
                    {self.parameter_name: self.UNHELD, QueueFilter.parameter_name: Group.UNDER_REVIEW})
            yield choice


class ScoreFilter(admin.SimpleListFilter):
    title = gettext_lazy("score")
    parameter_name = "score"

    def lookups(self, request, model_admin):
        return [(label, label) for label, _low, _high in SCORE_BANDS] + [("none", _("No score"))]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(score__isnull=True)
        for label, low, high in SCORE_BANDS:
            if self.value() == label:  # a score belongs to the first band it does not exceed
                return queryset.filter(score__lte=high, **({"score__gt": low} if low else {"score__gte": 0}))
        return queryset


class ReassignForm(forms.Form):
    """Only the user is parsed here; the reason and whether the user reviews are qa.reviews.queues' to judge."""

    to_user = forms.ModelChoiceField(
        get_user_model().objects.filter(is_active=True),
        error_messages={"required": gettext_lazy("Choose a reviewer to reassign the call to."),
                        "invalid_choice": gettext_lazy("Choose a reviewer from the list to reassign the call to.")},
    )


# A result as the review page's form gives it (its radios, and the keys that set them: qa/static/qa/review.js) ->
# queues.Verdict's field. Which results a criterion takes, and that one is given, is the service's to judge, as it
# is the API's (a form with none gets the API's answer).
RESULTS: dict[str, dict] = {
    "agree": {"agrees": True}, "pass": {"passed": True}, "fail": {"passed": False},
    **{str(value): {"value": value} for value in range(rules.SCALE_MIN, rules.SCALE_MAX + 1)},
}


class VerdictForm(forms.Form):
    """One verdict from the review page: `result` (agree, pass, fail or a value), or `agrees` (yes or no: the AI's
    result or its opposite, as the API's "agrees"). The criterion and the reason go to qa.reviews.queues as given,
    whose rules judge them, as they do the API's."""

    result = forms.ChoiceField(
        choices=[(key, key) for key in RESULTS], required=False,
        error_messages={"invalid_choice": format_lazy(
            gettext_lazy("Choose a result: pass, fail, a value from {low} to {high}, or agree."),
            low=rules.SCALE_MIN, high=rules.SCALE_MAX)})
    agrees = forms.TypedChoiceField(
        choices=[("yes", gettext_lazy("Agree")), ("no", gettext_lazy("Disagree"))],
        coerce=lambda answer: answer == "yes", required=False, empty_value=None,
        error_messages={"invalid_choice": gettext_lazy("Say whether you agree with the AI (yes or no).")},
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("result") and cleaned.get("agrees") is not None:
            raise ValidationError(_("Give a result or whether you agree with the AI, not both."))
        return cleaned

    def verdict(self) -> queues.Verdict:
        """The verdict, or a ValidationError naming the field that is wrong."""
        if not self.is_valid():
            raise ValidationError([message if field == "__all__" else f"{field}: {message}"
                                   for field, messages in self.errors.items() for message in messages])
        given = RESULTS[self.cleaned_data["result"]] if self.cleaned_data.get("result") else {
            "agrees": self.cleaned_data.get("agrees")}
        return queues.Verdict(criterion_name=self.data.get("criterion", ""), reason=self.data.get("reason", ""),
                              **given)


AGE_UNITS = ((86400, gettext_lazy("%(count)s d")), (3600, gettext_lazy("%(count)s h")),
             (60, gettext_lazy("%(count)s min")))


def age(moment) -> str:
    """How long ago `moment` was, as a queue shows it: "3 d", "5 h", "12 min", "just now"."""
    if moment is None:
        return ""
    seconds = max(0, (timezone.now() - moment).total_seconds())
    for size, said in AGE_UNITS:
        if seconds >= size:
            return said % {"count": int(seconds // size)}
    return _("just now")


def waited(moment) -> str:
    """How long a call has been in its queue, as the review page's bar says it: "for 3 h", "since just now"."""
    if moment is None:
        return "—"
    if timezone.now() - moment < timedelta(minutes=1):
        return _("since just now")
    return _("for %(age)s") % {"age": age(moment)}


@admin.register(ReviewItem)
class ReviewQueueAdmin(TranscriptionAdmin):
    change_form_template = "admin/qa/reviewitem/change_form.html"
    list_display = [
        "name_display", "score_display", "reviewed_display", "participant_display", "evaluator_display", "queue_age",
        "reviewer_display", "date_display",
    ]
    list_filter = [
        QueueFilter, MineFilter, "critical_fail_triggered", ScoreFilter, "evaluator", "participant",
        ("occurred_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["configuration", "evaluator", "participant", "assigned_to"]
    ordering = ["-critical_fail_triggered", "occurred_at", "id"]  # most urgent first

    detail_title = gettext_lazy("Review a call")

    class Media:
        css = {"all": ["qa/review-queue.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).filter(gone_at__isnull=True)

    def changelist_view(self, request, extra_context=None):
        queue = request.GET.get(QueueFilter.parameter_name) or DEFAULT_QUEUE
        if request.GET.get(MineFilter.parameter_name) == "1":
            title = _("My reviews")
        elif request.GET.get(MineFilter.parameter_name) == MineFilter.UNHELD:
            title = _("Under review, nobody holds")
        elif queue == NO_GROUP:
            title = _("Calls in no queue")
        elif queue in rules.GROUPS:
            title = _("%(queue)s queue") % {"queue": rules.group_label(queue).capitalize()}
        else:
            title = _("Review queues")
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def has_add_permission(self, request):
        return False

    @admin.display(description=gettext_lazy("waiting"), ordering="group_changed_at")
    def queue_age(self, obj):
        """How long the call has been in its queue."""
        return age(obj.group_changed_at or obj.occurred_at)

    @admin.display(description=gettext_lazy("reviewer"), ordering="assigned_to__username")
    def reviewer_display(self, obj):
        return obj.assigned_to.get_username() if obj.assigned_to else self.get_empty_value_display()

    def get_list_display(self, request):
        # The reviewer column shows who may claim a call nobody holds, so it is asked for the reader.
        return [self.reviewer_column(request.user) if name == "reviewer_display" else name
                for name in super().get_list_display(request)]

    def reviewer_column(self, user):
        """The reviewer column for `user`: the holder; on a call under review nobody holds, a line saying so and,
        when step_refusal lets `user` claim it, the claim button (posting through the list's claim form,
        templates/admin/qa/reviewitem/change_list.html)."""
        now = timezone.now()

        def reviewer_display(obj):
            taken = queues.open_claim(obj, now=now)
            if taken is None:
                return self.reviewer_display(obj)
            if taken.holder is None:
                line = _("Nobody holds this call:")
            else:
                lapsed = taken.lapsed_at
                just_now = timezone.now() - lapsed < timedelta(minutes=1)
                if taken.holder.pk == user.pk:
                    line = _("Your claim lapsed just now") if just_now else _("Your claim lapsed %(age)s ago") % {
                        "age": age(lapsed)}
                else:
                    names = {"name": taken.holder.get_username(), "age": age(lapsed)}
                    line = (_("%(name)s's claim lapsed just now") if just_now
                            else _("%(name)s's claim lapsed %(age)s ago")) % names
            said = format_html('<span class="qa-unheld" title="{}">{}</span>', line, line)  # cut, whole on hover
            if queues.step_refusal(user, queues.Step.CLAIM, obj) is not None:
                return said
            return format_html(
                '{}<button type="submit" form="qa-claim-form" formaction="{}" class="button qa-claim" '
                'data-testid="claim-{}">{}</button>',
                said, reverse("admin:qa_reviewitem_step", args=[obj.pk, queues.Step.CLAIM]), obj.pk, _("Claim"))

        reviewer_display.short_description = gettext_lazy("reviewer")
        reviewer_display.admin_order_field = "assigned_to__username"
        return reviewer_display

    # --- the review page -----------------------------------------------------------------------

    def get_urls(self):
        urls = super().get_urls()
        review = [
            path("<int:pk>/review/<str:step>/", self.admin_site.admin_view(self.review_step),
                 name="qa_reviewitem_step"),
        ]
        return review + urls

    def detail_context(self, request, obj: Transcription) -> dict:
        """The review page: the call's sections (TranscriptionAdmin.detail_context), each criterion's verdict and
        the results it may take, the AI's score beside the score of record, and where "Archive and next" goes.
        Two queries more than the call's page: the verdicts, the participant's recent calls."""
        context = super().detail_context(request, obj)
        ai_hidden = bool(context["ai_hidden"])  # a rater scoring this call blind (qa.reviews.calibration)
        steps = queues.allowed_steps(request.user, obj, ai_hidden=ai_hidden)
        verdicts = {v.criterion_name: v for v in obj.criterion_verdicts.select_related("reviewer")}
        blind = context["blind_call_ids"]  # the calls whose scores a rater may not see (qa.reviews.calibration)
        if ai_hidden:  # nobody's verdict on the AI's either (and they may record none: qa.reviews.queues.step_refusal)
            verdicts = {}
        editable = queues.Step.VERDICT in steps
        rows = context["criteria_rows"]
        for row in rows:
            row["verdict"] = verdicts.get(row["name"])
            row["verdict_label"] = verdict_label(row["verdict"])
            row["choice"] = verdict_choice(row["verdict"], scale=row["scale"])
            row["choices"] = result_choices(row) if editable else []
        # A criterion of the results with no verdict is undecided (queues.undecided's rule, on the rows read here).
        names = list(dict.fromkeys(row["name"] for row in rows))
        undecided = [name for name in names if name not in verdicts]
        verdict_refusal = queues.step_refusal(request.user, queues.Step.VERDICT, obj, ai_hidden=ai_hidden)
        recent = []
        if obj.participant_id:
            recent = list(
                Transcription.objects.filter(participant_id=obj.participant_id, status=Status.COMPLETED,
                                             score__isnull=False)
                .exclude(pk__in={obj.pk, *blind}).order_by("-occurred_at").values(
                    "pk", "occurred_at", "score", "critical_fail_triggered", *REVIEWED_SCORE_FIELDS)[:10]
            )
        queue, held = preserved_queue(request)
        context.update({
            "review": {
                "group": obj.group,
                "group_label": rules.group_label(obj.group),
                "assigned_to": obj.assigned_to,
                "queue_age": age(obj.group_changed_at or obj.occurred_at),
                "queue_for": waited(obj.group_changed_at or obj.occurred_at),
                "steps": steps,
                "has_verdicts": bool(verdicts),
                "show_verdicts": editable or bool(verdicts),
                "verdict_refusal": " ".join(getattr(verdict_refusal, "messages", None) or [str(verdict_refusal)])
                if verdict_refusal else "",
                "text_max_length": rules.REVIEW_TEXT_MAX_LENGTH,
                "reviewers": list(policy.reviewers().exclude(pk=obj.assigned_to_id)[:200])
                if queues.Step.REASSIGN in steps else [],
                "ai_score": _("hidden") if ai_hidden else
                score_with_critical(obj.score, obj.critical_fail_triggered) or _("none"),
                "reviewed_score": _("hidden") if ai_hidden else call_reviewed_score(obj) or _("not reviewed yet"),
                "undecided": undecided,
                "decided": len(names) - len(undecided),
                "total": len(names),
                "next_said": next_said(queue, held),
                "keys": [(key, str(what)) for key, what in KEYS],
            },
            "history": list(calibration.visible_history(obj, ai_hidden=ai_hidden)[:100]),
            "recent_scores": [{**r, "score": format_score(r["score"]), "reviewed": row_reviewed_score(r)}
                              for r in recent],
        })
        return context

    DONE = {"claim": gettext_lazy("You are reviewing this call."),
            "release": gettext_lazy("Released back to the queue."), "archive": gettext_lazy("Archived."),
            "reopen": gettext_lazy("Reopened."), "reassign": gettext_lazy("Reassigned."),
            "note": gettext_lazy("Note saved."), "verdict": gettext_lazy("Verdict saved.")}

    def review_step(self, request, pk: int, step: str):
        """One button or form of the review page: call qa.reviews.queues, say what happened, go back.

        Whether the user's role allows the step is asked before the call is
        looked up: without it, the answer is 403 whether the call exists or not.
        A request that accepts JSON (the page's script saving a verdict) gets
        {"ok", "message", "verdict", "record"} instead of a redirect, so the
        reader keeps their place; without the script, the redirect goes back to
        the row. An archive goes on to the next call of the queue the call was
        opened from (`then=next`, the default; `then=queue`: back to the list):
        see next_call. The list's filters (_changelist_filters) go along, so
        the next call and the way back know the queue.
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if step not in self.DONE:
            return HttpResponseNotAllowed(list(self.DONE))
        wants_json = "application/json" in request.headers.get("Accept", "")
        user, post = request.user, request.POST
        criterion = post.get("criterion", "")
        try:
            queues.require_step(user, step)
        except PermissionDenied as refusal:
            if wants_json:
                return JsonResponse({"ok": False, "message": self._refusal_text(step, criterion, refusal)},
                                    status=403)
            raise  # Django's 403
        # The call is looked up once, by the step's service (a call that is not here, or gone from Heify, is
        # not found, as the list and the page say); the view holds only its pk.
        call = Transcription(pk=pk)
        note = post.get("note", "")

        def reassign():
            form = ReassignForm(post)
            if not form.is_valid():
                raise ValidationError(form.errors["to_user"])
            return queues.transcription_reassign(transcription_id=pk, acting_user=user,
                                                 reason=post.get("reason", ""), to_user=form.cleaned_data["to_user"])

        def verdict():
            # The API's PUT verdicts/ calls the same service, with one or more verdicts.
            [kept] = queues.transcription_verdicts_record(transcription_id=pk, acting_user=user,
                                                          verdicts=[VerdictForm(post).verdict()])
            return kept

        actions = {
            "claim": lambda: queues.transcription_claim(transcription_id=pk, reviewer=user),
            "release": lambda: queues.transcription_release(transcription_id=pk, acting_user=user, note=note),
            "archive": lambda: queues.transcription_archive(transcription_id=pk, acting_user=user, note=note,
                                                            agree_rest=post.get("agree_rest") == "1"),
            "reopen": lambda: queues.transcription_reopen(transcription_id=pk, acting_user=user, note=note),
            "reassign": reassign,
            "note": lambda: queues.transcription_note(transcription_id=pk, author=user, text=note),
            "verdict": verdict,
        }
        filters = {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}
        change_url = add_preserved_filters(filters, reverse("admin:qa_reviewitem_change", args=[pk]))
        list_url = add_preserved_filters(filters, reverse("admin:qa_reviewitem_changelist"))
        try:
            try:
                result = actions[step]()
            except Transcription.DoesNotExist:
                raise Http404("No such call.") from None
            except ValidationError as refusal:
                if getattr(refusal, "code", None) == queues.GONE:
                    raise Http404("This call was deleted in Heify.") from None
                raise
        except (ValidationError, PermissionDenied) as refusal:
            text = self._refusal_text(step, criterion, refusal)
            if wants_json:
                fields = sorted(refusal.error_dict) if hasattr(refusal, "error_dict") else []
                return JsonResponse({"ok": False, "message": text, "fields": fields},
                                    status=403 if isinstance(refusal, PermissionDenied) else 400)
            self.message_user(request, text, messages.ERROR)
            return HttpResponseRedirect(change_url)
        if step == "verdict":
            label = verdict_label(result)
            text = _("%(criterion)s: saved — %(verdict)s.") % {"criterion": criterion, "verdict": label}
            if wants_json:
                return JsonResponse({"ok": True, "message": text, "verdict": {
                    "criterion": criterion, "agrees": result.agrees, "passed": result.passed, "value": result.value,
                    "reason": result.reason, "label": label,
                    "choice": verdict_choice(result, scale=result.value is not None or _is_scale(call, criterion)),
                }, "record": record_now(call)})
            self.message_user(request, text)
            return HttpResponseRedirect(f"{change_url}#{criterion_anchor(call, criterion)}")
        if wants_json:
            return JsonResponse({"ok": True, "message": str(self.DONE[step])})
        if step == "archive" and post.get("then", "next") == "next":
            queue, held = preserved_queue(request)
            following, claimed = next_call(user, queue, held=held, after=call)
            if following is None:
                self.message_user(request, _("Archived. %(none_left)s") % {"none_left": next_none(queue, held)})
                return HttpResponseRedirect(list_url)
            self.message_user(request, (_("Archived. Next: “%(call)s”, which you are now reviewing.") if claimed
                                        else _("Archived. Next: “%(call)s”.")) % {"call": following})
            return HttpResponseRedirect(
                add_preserved_filters(filters, reverse("admin:qa_reviewitem_change", args=[following.pk])))
        self.message_user(request, self.DONE[step])
        if step in ("archive", "release"):
            return HttpResponseRedirect(list_url)
        return HttpResponseRedirect(change_url)

    @staticmethod
    def _refusal_text(step: str, criterion: str, refusal: Exception) -> str:
        text = " ".join(getattr(refusal, "messages", None) or [str(refusal)])
        return _("%(criterion)s: not saved — %(why)s") % {"criterion": criterion, "why": text} if step == "verdict" \
            else text


# The review page's keys (qa/static/qa/review.js), as its legend shows them.
KEYS = [("↑ ↓", gettext_lazy("criterion")), ("p f", gettext_lazy("pass, fail")), ("1–5", gettext_lazy("value")),
        ("a", gettext_lazy("agree with the AI")), ("r", gettext_lazy("reason (Enter saves)")),
        ("n", gettext_lazy("archive and next")),
        ("Shift+A", gettext_lazy("agree with the AI on the rest and archive"))]
NEXT_TRIES = 5  # calls tried in turn for the next claim, when others claim them first


def verdict_label(verdict) -> str:
    """A saved verdict as the page shows it: the reviewer's result, whether it is the AI's, why — who."""
    if verdict is None:
        return ""
    if verdict.value is not None:
        result = f"{verdict.value}/{rules.SCALE_MAX}"
    else:
        result = {True: _("Passed"), False: _("Failed")}.get(verdict.passed, _("No result"))
    if verdict.agrees:
        result = _("%(result)s, as the AI") % {"result": result}
    said = result + (f": {verdict.reason}" if verdict.reason else "")
    who = verdict.reviewer.get_username() if verdict.reviewer else _("a former user")
    return f"{said} — {who}" + (" " + _("(QA manager)") if verdict.as_manager else "")


def verdict_choice(verdict, *, scale: bool) -> str:
    """Which of a criterion's results (RESULTS) a saved verdict checks: its value, its pass or fail, or agreement
    where it has neither (an agreement on a scale criterion whose value the AI did not give)."""
    if verdict is None:
        return ""
    if verdict.value is not None:
        return str(verdict.value)
    if scale or verdict.passed is None:
        return "agree"
    return "pass" if verdict.passed else "fail"


def result_choices(row: dict) -> list[dict]:
    """The results a criterion's row offers, each with its key: a value for a scale criterion, pass or fail for the
    others; agreement with the AI where it gave a result."""
    if row["scale"]:
        choices = [{"value": str(v), "label": str(v), "key": str(v),
                    "title": _("%(value)s of %(max)s") % {"value": v, "max": rules.SCALE_MAX}}
                   for v in range(rules.SCALE_MIN, rules.SCALE_MAX + 1)]
    else:
        choices = [{"value": "pass", "label": _("Pass"), "key": "p", "title": _("Passed")},
                   {"value": "fail", "label": _("Fail"), "key": "f", "title": _("Failed")}]
    no_ai = row["passed"] is None
    return [*choices, {"value": "agree", "label": _("Agree"), "key": "a", "disabled": no_ai,
                       "title": _("The AI gave no result to agree with") if no_ai else _("Agree with the AI's result")}]


def _is_scale(call: Transcription, criterion: str) -> bool:
    return call.criterion_results.filter(name=criterion, type=rules.SCALE).exists()


def record_now(call: Transcription) -> dict:
    """The call's score of record as stored now, and the criteria still undecided: what the page's script shows
    after a verdict (qa.reviews.record keeps the score in the verdict's transaction)."""
    fresh = Transcription.all_objects.only("pk", *REVIEWED_SCORE_FIELDS).get(pk=call.pk)
    return {"reviewed": call_reviewed_score(fresh) or _("not reviewed yet"), "undecided": queues.undecided(call)}


MINE, UNHELD = "1", MineFilter.UNHELD  # the list's "reviewer" filter: My reviews; Nobody holds


def preserved_queue(request) -> tuple[str, str]:
    """The queue the call was opened from, as the list's filters say (the admin carries them along as
    _changelist_filters), and its reviewer filter (MINE, UNHELD or ""); the pending-review queue when the page was
    opened otherwise (the list's own default)."""
    filters = QueryDict(request.GET.get("_changelist_filters", ""))
    queue = filters.get(QueueFilter.parameter_name) or DEFAULT_QUEUE
    if queue not in (*rules.GROUPS, NO_GROUP):
        queue = DEFAULT_QUEUE
    held = filters.get(MineFilter.parameter_name, "")
    return queue, held if held in (MINE, UNHELD) else ""


def next_said(queue: str, held: str) -> str:
    """Where "Archive and next" goes, as the page says it (next_call)."""
    if held == MINE:
        return _("your next call under review.")
    if held == UNHELD:
        return _("the next call under review that nobody holds, claimed for you.")
    if queue == Group.PENDING_REVIEW:
        return _("the next call of the pending-review queue (most urgent first), started for you.")
    return _("the next call of the %(queue)s queue.") % {
        "queue": rules.group_label(None if queue == NO_GROUP else queue)}


def next_none(queue: str, held: str) -> str:
    if held == MINE:
        return _("No more calls in your reviews for you.")
    if held == UNHELD:
        return _("No more calls in the calls under review that nobody holds for you.")
    return _("No more calls in the %(queue)s queue for you.") % {
        "queue": rules.group_label(None if queue == NO_GROUP else queue)}


def next_call(user, queue: str, *, held: str, after: Transcription) -> tuple[Transcription | None, bool]:
    """The call "Archive and next" opens, and whether it was claimed for `user`: the first of the same list in
    the queue's own order (qa.reviews.queues.review_queue: critical fails first, then the oldest), leaving out
    the call just archived and those `user` scores blind (as the list does). From the pending-review queue, or
    the calls under review nobody holds, it is claimed at once (queues.transcription_claim; one taken by someone
    meanwhile gives way to the next); from "My reviews", it is the user's next held call; from any other queue,
    the next call, opened as it is."""
    calls = blinding.without_blind_calls(
        queues.review_queue(None if queue == NO_GROUP else queue).exclude(pk=after.pk), user)
    if held == MINE:
        return calls.filter(assigned_to=user).first(), False
    if held == UNHELD:
        calls = calls.filter(queues.unheld())
    elif queue != Group.PENDING_REVIEW:
        return calls.first(), False
    # Their ids only: the claim reads the call itself, locked.
    for pk in calls.values_list("pk", flat=True)[:NEXT_TRIES]:
        try:
            return queues.transcription_claim(transcription_id=pk, reviewer=user), True
        except (ValidationError, PermissionDenied, Transcription.DoesNotExist):
            continue  # claimed by someone else meanwhile, or not the user's to claim, or deleted meanwhile
    return None, False


def criterion_anchor(call: Transcription, name: str) -> str:
    """The id of a criterion's row on the page (rows follow Heify's results, in order)."""
    names = list(call.criterion_results.values_list("name", flat=True))
    return f"qa-criterion-{names.index(name) + 1}" if name in names else "qa-evaluation-heading"


def queue_link(group: str | None) -> str:
    url = reverse("admin:qa_reviewitem_changelist")
    return f"{url}?queue={group or NO_GROUP}"
