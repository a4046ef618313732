"""Calibration sessions: several reviewers score the same calls blind, then see where they differ.

A QA manager picks a few scored calls, two or more reviewers and optionally an
expert. Each rater answers every criterion of every call (the criteria the AI
evaluated on it): a value from 1 to 5 on a scale criterion (which says its
pass/fail too: passed from qa.mirror.rules.SCALE_PASS_MARK up), pass/fail on the
others (`criterion_types`), without seeing the AI's verdicts, the
expert's or anyone else's: `rater_sheet` is all a rater is shown until they
submit, `session_results` is refused to them until then, and every other door
to a session's calls asks one rule (qa.reviews.blinding) before it shows what the
AI said: the call's pages and the API's call (`blind_call_ids`,
`hides_ai_from`), every call list and its export (`without_blind_calls`), a
participant's report and dashboard, its calls and its figures alike
(`blind_heify_ids`, left out of the report), the team overview
(`blind_participants`), Heify's own report of them (refused), recording a
verdict on the AI's (qa.reviews.queues.step_refusal), a critical fail's alert, sent
(`blind_raters`) or listed (`blind_calls`). Submitting makes
their answers final. The results: per criterion, every rater's answer with the
AI as one more rater, the spread, and how the reviewers who submitted agree:
on pass/fail, Fleiss' kappa (qa.reviews.agreement.fleiss_kappa, over the calls
every one of them answered); on a scale criterion's values, Krippendorff's
alpha at the interval level (qa.reviews.agreement.interval_alpha, missing
answers allowed), with Fleiss' kappa of the pass/fail the values say beside it.
Then each reviewer's agreement with the expert (the same value on a scale
criterion, the same pass/fail on the others), and the criteria to discuss first
(lowest agreement first: alpha on scale criteria, kappa on the others). A manager
closes the session; the answers are kept. Setting up, changing, closing,
saving and submitting each write an audit row (qa.audit); a rater's answers
are counted there, never copied (another rater, a manager among them, reads
the trail).
"""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from qa import audit, policy
from qa.mirror import criterion_results, report_rules, rules
from qa.mirror.models import Criterion, Transcription
from qa.reviews import queues, record
from qa.reviews.agreement import fleiss_kappa, interval_alpha
from qa.reviews.models import CalibrationAnswer, CalibrationSession, CalibrationSubmission, ReviewEvent

AI = "AI"


def call_criteria(call: Transcription) -> list[str]:
    """The criteria a call is scored on here: those the AI gave a result for, in Heify's order (read from the
    call's typed results: prefetch `criterion_results` where many calls are read)."""
    return criterion_results.call_result_names(call.criterion_results.all())


def _ai_verdicts(call: Transcription) -> dict[str, bool]:
    return criterion_results.call_ai_verdicts(call.criterion_results.all())


def _ai_values(call: Transcription) -> dict[str, int]:
    """The AI's scale values where known: carried by its results, or settled by its score (qa.reviews.record)."""
    pattern = tuple((r.name, r.passed, r.value, r.type, None if r.weight is None else float(r.weight))
                    for r in sorted(call.criterion_results.all(), key=lambda r: r.position))
    return record.ai_values(pattern, ai_score=call.score)


def criterion_types(calls) -> dict[tuple[int, str], str]:
    """(call pk, criterion) -> the criterion's type on that call: as the revision that scored the call had it (the
    type its results are pinned with), else the evaluator's current one; "" when neither is known. One query (the
    calls' `criterion_results` prefetched)."""
    calls = list(calls)
    current = {(evaluator, name): kind for evaluator, name, kind in Criterion.objects.filter(
        evaluator__heify_id__in={call.evaluator_id for call in calls}).values_list("evaluator__heify_id", "name",
                                                                                    "type")}
    kinds = {}
    for call in calls:
        pinned: dict[str, str] = {}
        for result in sorted(call.criterion_results.all(), key=lambda r: r.position):
            pinned.setdefault(result.name, result.type)
        for name, kind in pinned.items():
            kinds[(call.pk, name)] = kind or current.get((call.evaluator_id, name), "")
    return kinds


# --- setting up and closing (managers) ---------------------------------------------------------------------


def clean_session(*, calls, reviewers, expert=None) -> None:
    """The rules of a session; a ValidationError naming each problem by field."""
    errors = {}
    calls, reviewers = list(calls), list(reviewers)
    prefetch_related_objects(calls, "criterion_results")
    if not calls:
        errors["calls"] = _("Pick at least one call.")
    elif unscored := [str(c) for c in calls if not call_criteria(c)]:
        errors["calls"] = _("These calls have no criteria results to calibrate on: %(calls)s.") % {
            "calls": ", ".join(unscored)}
    if len(reviewers) < 2:
        errors["reviewers"] = _("Pick at least two reviewers: agreement needs more than one.")
    elif not_reviewers := [r.get_username() for r in reviewers if not policy.is_reviewer(r)]:
        errors["reviewers"] = _("Not reviewers: %(users)s.") % {"users": ", ".join(not_reviewers)}
    if expert is not None and expert in reviewers:
        errors["expert"] = _("The expert is compared with the reviewers, so cannot be one of them.")
    if errors:
        raise ValidationError(errors)


def _require_manager(user) -> None:
    if not policy.may_manage_queues(user):
        raise PermissionDenied(_("Only QA managers run calibration sessions."))


def _clean_name(name: str) -> str:
    if not (name or "").strip():
        raise ValidationError({"name": _("Give the session a name.")})
    return name.strip()


@transaction.atomic
def calibration_session_create(*, name: str, calls, reviewers, expert=None, acting_user) -> CalibrationSession:
    _require_manager(acting_user)
    name = _clean_name(name)
    clean_session(calls=calls, reviewers=reviewers, expert=expert)
    session = CalibrationSession.objects.create(name=name, created_by=acting_user, expert=expert)
    session.calls.set(calls)
    session.reviewers.set(reviewers)
    audit.audit_record(actor=acting_user, action=audit.AuditEvent.Action.SESSION_CREATE, obj=session,
                       after=_setup(session.name, calls, reviewers, expert))
    return session


def _setup(name: str, calls, reviewers, expert) -> dict:
    """A session's set-up as its audit rows show it."""
    return {"name": name, "calls": sorted(call.pk for call in calls),
            "reviewers": sorted(audit.username(r) for r in reviewers), "expert": audit.username(expert)}


def is_open(session: CalibrationSession) -> bool:
    """May the session still be changed or answered? Until a manager closes it."""
    return session.closed_at is None


def setup_is_fixed(session: CalibrationSession) -> bool:
    """Once someone has answered, the calls, the raters and the expert stay as they are (the name may change)."""
    return session.pk is not None and session.answers.exists()


@transaction.atomic
def calibration_session_update(*, session: CalibrationSession, name: str, calls, reviewers, expert=None,
                               acting_user) -> CalibrationSession:
    """Change an open session: its name, and its calls, raters and expert until the first answer."""
    _require_manager(acting_user)
    session = CalibrationSession.objects.select_for_update().get(pk=session.pk)
    if not is_open(session):
        raise ValidationError(_("The session is closed; it is kept as it was."))
    name = _clean_name(name)
    calls, reviewers = list(calls), list(reviewers)
    if setup_is_fixed(session) and (
            {c.pk for c in calls} != set(session.calls.values_list("pk", flat=True))
            or {r.pk for r in reviewers} != set(session.reviewers.values_list("pk", flat=True))
            or (expert.pk if expert else None) != session.expert_id):
        raise ValidationError(_("Raters have answered already: the calls, the raters and the expert stay as they are."))
    clean_session(calls=calls, reviewers=reviewers, expert=expert)
    before = _setup(session.name, session.calls.all(), session.reviewers.all(), session.expert)
    session.name, session.expert = name, expert
    session.save(update_fields=["name", "expert"])
    session.calls.set(calls)
    session.reviewers.set(reviewers)
    audit.audit_record(actor=acting_user, action=audit.AuditEvent.Action.UPDATE, obj=session, before=before,
                       after=_setup(name, calls, reviewers, expert))
    return session


@transaction.atomic
def calibration_session_close(*, session: CalibrationSession, acting_user) -> CalibrationSession:
    _require_manager(acting_user)
    now = timezone.now()
    # Conditional: of two managers closing at once, one closes it (and has the audit row).
    if CalibrationSession.objects.filter(pk=session.pk, closed_at__isnull=True).update(closed_at=now):
        session.closed_at = now
        audit.audit_record(actor=acting_user, action=audit.AuditEvent.Action.SESSION_CLOSE, obj=session,
                           before={"closed_at": None}, after={"closed_at": session.closed_at})
    return session


# --- answering (raters) -----------------------------------------------------------------------------------


def is_rater(session: CalibrationSession, user) -> bool:
    return user.pk == session.expert_id or session.reviewers.filter(pk=user.pk).exists()


def has_submitted(session: CalibrationSession, user) -> bool:
    return session.submissions.filter(rater=user).exists()


def visible_history(call: Transcription, *, ai_hidden: bool):
    """The call's review history, without the reviewers' verdicts on the AI's when `ai_hidden` (hides_ai_from)."""
    history = queues.history(call)
    return history.exclude(action=ReviewEvent.Action.VERDICT) if ai_hidden else history


def rater_sheet(session: CalibrationSession, rater) -> list[dict]:
    """What a rater sees while answering: each call's conversation and criteria, and their OWN answers only."""
    if not is_rater(session, rater):
        raise PermissionDenied(_("You are not a rater of this session."))
    own = {(a.transcription_id, a.criterion_name): a for a in session.answers.filter(rater=rater)}
    descriptions = dict(Criterion.objects.filter(
        evaluator__heify_id__in=session.calls.values("evaluator_id")).values_list("name", "description"))
    calls = list(session.calls.order_by("occurred_at", "pk").prefetch_related("criterion_results"))
    kinds = criterion_types(calls)
    sheet = []
    for call in calls:
        criteria = []
        for name in call_criteria(call):
            answer = own.get((call.pk, name))
            scale = kinds[(call.pk, name)] == rules.SCALE
            criteria.append({
                "name": name, "description": descriptions.get(name, ""), "scale": scale,
                # On a scale criterion, an answer kept without a value (before values were asked) is not one.
                "answer": answer.passed if answer and not (scale and answer.value is None) else None,
                "value": answer.value if answer and scale else None,
                "note": answer.note if answer else ""})
        sheet.append({"call": call, "criteria": criteria})
    return sheet


def _clean_answer(name: str, answer, *, scale: bool) -> tuple[bool, int | None]:
    """A rater's answer as kept: (passed, value)."""
    if scale:
        if type(answer) is not int or not rules.SCALE_MIN <= answer <= rules.SCALE_MAX:
            raise ValidationError(_("%(criterion)s is a scale criterion: the answer is a value from %(low)s to "
                                    "%(high)s.") % {"criterion": name, "low": rules.SCALE_MIN, "high": rules.SCALE_MAX})
        return answer >= rules.SCALE_PASS_MARK, answer
    if not isinstance(answer, bool):
        raise ValidationError(_("%(criterion)s: the answer is pass or fail.") % {"criterion": name})
    return answer, None


@transaction.atomic
def calibration_answers_save(*, session: CalibrationSession, rater, answers: dict, notes: dict | None = None,
                             submit: bool = False) -> int:
    """Keep a rater's answers ({(call pk, criterion): a value 1-5 on a scale criterion, True/False on the others});
    `submit` makes them final, and needs all."""
    session = CalibrationSession.objects.select_for_update().get(pk=session.pk)
    if not is_rater(session, rater):
        raise PermissionDenied(_("You are not a rater of this session."))
    if not is_open(session):
        raise ValidationError(_("The session is closed; its answers are kept as they were."))
    if has_submitted(session, rater):
        raise ValidationError(_("You have submitted already: your answers are final."))
    calls = list(session.calls.prefetch_related("criterion_results"))
    expected = {(call.pk, name) for call in calls for name in call_criteria(call)}
    unknown = set(answers) - expected
    if unknown:
        raise ValidationError(_("Some answers are for calls or criteria that are not in this session."))
    scale = {key for key, kind in criterion_types(calls).items() if kind == rules.SCALE}
    # Every answer and note is checked before any is kept: a note is bounded as a review note is (qa.mirror.rules).
    kept = {}
    for (call_pk, name), answer in answers.items():
        passed, value = _clean_answer(name, answer, scale=(call_pk, name) in scale)
        try:
            kept[(call_pk, name)] = (passed, value, rules.clean_review_text(
                (notes or {}).get((call_pk, name)), field="note",
                what=_("note on %(criterion)s") % {"criterion": name}).strip())
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["note"]) from None
    for (call_pk, name), (passed, value, note) in kept.items():
        CalibrationAnswer.objects.update_or_create(
            session=session, transcription_id=call_pk, rater=rater, criterion_name=name,
            defaults={"passed": passed, "value": value, "note": note},
        )
    if submit:
        answered = {(call_pk, name) for call_pk, name, value in session.answers.filter(rater=rater).values_list(
            "transcription_id", "criterion_name", "value") if value is not None or (call_pk, name) not in scale}
        if missing := expected - answered:
            raise ValidationError(_("Answer every criterion of every call before submitting (%(left)s left).") % {
                "left": len(missing)})
        CalibrationSubmission.objects.create(session=session, rater=rater)
    action = audit.AuditEvent.Action.ANSWERS_SUBMIT if submit else audit.AuditEvent.Action.ANSWERS_SAVE
    audit.audit_record(actor=rater, action=action, obj=session, after={"answers": len(answers)})
    return len(answers)


# --- results ----------------------------------------------------------------------------------------------


def may_see_results(session: CalibrationSession, user) -> bool:
    """Raters once they have submitted; managers, unless they rate in the open session themselves (then as any
    rater: the results hold the AI's verdicts and everyone's answers)."""
    if has_submitted(session, user):
        return True
    return policy.may_manage_queues(user) and (session.closed_at is not None or not is_rater(session, user))


def session_results(session: CalibrationSession, viewer) -> dict:
    """Everyone's answers and how they agree; only for managers and raters who have submitted."""
    if not may_see_results(session, viewer):
        raise PermissionDenied(_("Submit your own answers first: until then nobody else's are shown to you."))
    submitted = set(session.submissions.values_list("rater_id", flat=True))
    reviewers = [r for r in session.reviewers.order_by("username") if r.pk in submitted]
    expert = session.expert if session.expert_id in submitted else None
    answers = defaultdict(dict)  # (call pk, criterion) -> rater pk -> passed
    values = defaultdict(dict)  # (call pk, criterion) -> rater pk -> value (scale criteria)
    for call_pk, name, rater_id, passed, value in session.answers.filter(rater_id__in=submitted).values_list(
            "transcription_id", "criterion_name", "rater_id", "passed", "value"):
        answers[(call_pk, name)][rater_id] = passed
        values[(call_pk, name)][rater_id] = value
    calls = list(session.calls.order_by("occurred_at", "pk").prefetch_related("criterion_results"))
    kinds = criterion_types(calls)
    order = []
    for call in calls:
        order += [n for n in call_criteria(call) if n not in order]
    ai_passed = {call.pk: _ai_verdicts(call) for call in calls}
    ai_values = {call.pk: _ai_values(call) for call in calls}
    criteria = []
    with_expert = defaultdict(lambda: [0, 0])  # reviewer pk -> [items, same as the expert]
    for name in order:
        scale = any(kinds.get((call.pk, name)) == rules.SCALE for call in calls)
        items, counts, units = [], [], []  # units: the answers compared, per call (values on a scale criterion)
        for call in (call for call in calls if name in call_criteria(call)):
            given, given_values = answers[(call.pk, name)], values[(call.pk, name)]
            row = {r.get_username(): given.get(r.pk) for r in reviewers}
            row_values = {r.get_username(): given_values.get(r.pk) for r in reviewers} if scale else {}
            passes = sum(v is True for v in row.values())
            fails = sum(v is False for v in row.values())
            if passes + fails == len(reviewers):
                counts.append([passes, fails])
            compared = given_values if scale else given
            units.append([compared.get(r.pk) for r in reviewers])
            expert_answer = compared.get(expert.pk) if expert else None
            if expert_answer is not None:
                for r in reviewers:
                    if compared.get(r.pk) is not None:
                        with_expert[r.pk][0] += 1
                        with_expert[r.pk][1] += compared[r.pk] == expert_answer
            answered = [v for v in row_values.values() if v is not None]
            items.append({
                "call": call, "answers": row, "expert": given.get(expert.pk) if expert else None,
                AI: ai_passed[call.pk].get(name), "passes": passes, "fails": fails,
                # Scale criteria: the values (None on the others), their least and most.
                "values": row_values, "expert_value": given_values.get(expert.pk) if expert and scale else None,
                "AI_value": ai_values[call.pk].get(name) if scale else None,
                "lowest": min(answered, default=None), "highest": max(answered, default=None),
            })
        kappa = fleiss_kappa(counts)
        alpha = interval_alpha(units) if scale else None
        criteria.append({
            "name": name, "scale": scale, "items": items,
            "fleiss_kappa": kappa.value, "kappa_undefined_reason": kappa.reason or None,
            "alpha": alpha.value if alpha else None,
            "alpha_undefined_reason": alpha.reason or None if alpha else None,
            # Pass/fail: over the calls every reviewer answered, as Fleiss' kappa; values: over every pair given.
            "observed_agreement": _observed(units if scale else [unit for unit in units if None not in unit]),
        })
    # Lowest agreement first: alpha on a scale criterion, kappa on the others, where defined; else the share of
    # reviewer pairs that answered alike.
    def disagreement(c):
        headline = c["alpha"] if c["scale"] else c["fleiss_kappa"]
        if headline is not None:
            return (0, headline)
        return (1, (c["observed_agreement"] if c["observed_agreement"] is not None else 100) / 100)
    discuss = [c["name"] for c in sorted(criteria, key=disagreement) if c["observed_agreement"] != 100]
    overall = fleiss_kappa([[i["passes"], i["fails"]] for c in criteria for i in c["items"]
                            if i["passes"] + i["fails"] == len(reviewers)])
    return {
        "session": session,
        "reviewers": [r.get_username() for r in reviewers],
        "waiting_for": [r.get_username() for r in session.reviewers.order_by("username") if r.pk not in submitted],
        "expert": expert.get_username() if expert else None,
        "criteria": criteria,
        "fleiss_kappa": overall.value,
        "kappa_undefined_reason": overall.reason or None,
        "with_expert": [
            {"reviewer": r.get_username(), "items": with_expert[r.pk][0],
             "agreement_rate": report_rules.rate_figure(with_expert[r.pk][1], with_expert[r.pk][0])
             if with_expert[r.pk][0] else None}
            for r in reviewers
        ] if expert else [],
        "discuss_first": discuss,
    }


def _observed(units) -> float | int | None:
    """The share of reviewer pairs, over the calls, that gave the same answer (a call's pairs among the answers
    given to it): a percentage figure, None where no call has two answers."""
    same = pairs = 0
    for unit in units:
        given = [answer for answer in unit if answer is not None]
        pairs += len(given) * (len(given) - 1)
        same += sum(given.count(answer) * (given.count(answer) - 1) for answer in set(given))
    return report_rules.mean_figure(same / pairs * 100) if pairs else None
