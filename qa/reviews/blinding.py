"""What a calibration rater may not see yet: the one rule, asked by every door to a call's AI verdicts.

A rater (a reviewer or the expert) of an open calibration session who has not submitted scores its calls
blind (qa.reviews.calibration): `blind_calls` says which; the call's pages and the API's call (`blind_call_ids`,
`hides_ai_from`), every call list and its export (`without_blind_calls`), a participant's report
(`blind_heify_ids`), the team overview (`blind_participants`), recording a verdict on the AI's
(qa.reviews.queues.step_refusal) and a critical fail's alert (`blind_raters`, `blind_calls`) ask it. It reads the
models only, so the review steps and the alerts ask it without importing the sessions' services.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy

from qa.mirror.models import Transcription
from qa.reviews.models import CalibrationSession, CalibrationSubmission


def blind_calls(user) -> QuerySet:
    """The rule: the calls of every open session `user` rates (as a reviewer or the expert) and has not
    submitted, as a subquery of their pks (for lists of things about calls, too)."""
    submitted = CalibrationSubmission.objects.filter(session=OuterRef("calibrationsession_id"), rater=user)
    return CalibrationSession.calls.through.objects.filter(
        Q(calibrationsession__reviewers=user) | Q(calibrationsession__expert=user),
        calibrationsession__closed_at__isnull=True,
    ).exclude(Exists(submitted)).values("transcription_id")


def blind_call_ids(user) -> set[int]:
    """The calls whose AI verdicts (results, points, score, critical fail) and reviewers' verdicts `user` may not
    see now (blind_calls). What every page, the API and the exports ask; one query, whatever the number of calls."""
    if user is None or not user.is_authenticated:
        return set()
    return {row["transcription_id"] for row in blind_calls(user)}


def blind_heify_ids(user, participant_id: str | None = None) -> set[str]:
    """blind_call_ids, as Heify ids (a report's calls are named by them); only the participant's, if one is given:
    what a participant's report leaves out for `user` (qa.insights.analytics' `leave_out`), figures and calls alike."""
    if user is None or not user.is_authenticated:
        return set()
    calls = Transcription.objects.filter(pk__in=blind_calls(user))
    if participant_id is not None:
        calls = calls.filter(participant_id=participant_id)
    return set(calls.values_list("heify_id", flat=True))


# Heify's own report counts every call, its verdicts in raw_data: not for a reader scoring some of them blind.
HEIFY_REPORT_WHILE_BLIND = gettext_lazy("Heify's own report of this participant holds calls you are scoring blind in "
                                        "a calibration session: ask for it once you have submitted your answers.")


def blind_participants(user) -> QuerySet:
    """The participants (Heify ids) of the calls blind to `user`, as a subquery: whose figures they may not read
    from the roll-ups (qa.insights.team)."""
    return Transcription.objects.filter(pk__in=blind_calls(user)).values("participant_id")


def blind_raters(call: Transcription) -> QuerySet:
    """The users `call` is blind to (blind_calls, the other way round): the raters of its open sessions who have
    not submitted. Who an alert about the call leaves out (qa.alerts.services)."""
    sessions = CalibrationSession.objects.filter(calls=call, closed_at__isnull=True)
    submitted = CalibrationSubmission.objects.filter(session__in=sessions, rater=OuterRef("pk"))
    return get_user_model().objects.filter(
        Q(pk__in=sessions.values("reviewers")) | Q(pk__in=sessions.values("expert")),
    ).exclude(Exists(submitted))


def without_blind_calls(calls: QuerySet, user) -> QuerySet:
    """A list of calls without those blind to `user` (blind_calls), in the same query: a list could otherwise
    tell their AI verdicts by its filters (score, critical fail) or its order (critical fails first)."""
    if user is None or not user.is_authenticated:
        return calls
    return calls.exclude(pk__in=blind_calls(user))


def hides_ai_from(user, call: Transcription) -> bool:
    """Whether `call`'s AI verdicts are hidden from `user` now (blind_call_ids)."""
    return call.pk in blind_call_ids(user)
