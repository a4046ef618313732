"""Alerts: the rules QA managers set, the events they fire on, and their delivery by e-mail and webhook.

An event becomes a message in three steps, each safe to run twice:

1. Evaluation looks only at what just changed: `calls_stored` after a pull or
   a refresh (the calls written, and their participants), `call_moved` after a
   review move (that call's participant), `claims_waiting` on a schedule (the
   calls under review, a small set; waiting is a matter of time, which no pull
   or move announces). No participant is evaluated for nothing.
2. An event is stored as an Alert with one AlertDelivery per channel, in one
   transaction. The unique (rule, event_key) makes a second Alert for the same
   event impossible: a pull that sees the same critical call again adds
   nothing. Conditions that "turn on" (degradation, pass rate) keep their last
   state per participant (AlertCondition), so they fire again only after they
   have turned off in between.
3. Sending happens in a background job (`delivery_attempt`, queued after the
   commit; `deliveries_due` on a schedule for the retries), never inside a
   transaction. A delivery is claimed by one conditional UPDATE, so two workers
   never send it both; a failure is retried with a doubling back-off until
   ALERT_MAX_ATTEMPTS, then shown as given up in the admin.

The figures are the report's (qa.insights.analytics: the degradation alert, the pass
rule, the rounding), read through its functions, never restated here. Each rule watches one score
(`AlertRule.score`): the AI's, or the reviewed score (the score of record: a reviewed call's own, the AI's
elsewhere), read through the same functions; a critical fail "lands" on the reviewed score when the call's
critical flag of record is on, from Heify or from a reviewer's verdict (evaluated at the next review move, an
archive included, or pull).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import unicodedata
import urllib.request
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_q.tasks import async_task

from qa import jobs, policy
from qa.alerts import texts
from qa.alerts.models import Alert, AlertCondition, AlertDelivery, AlertRule
from qa.insights import analytics
from qa.mirror.models import Participant, Transcription
from qa.mirror.report_rules import ScoreSource, of_record
from qa.mirror.rules import Group
from qa.preferences import languages_of
from qa.reviews import blinding, disputes
from qa.reviews.models import Dispute

log = logging.getLogger(__name__)

Kind, Channel, State = AlertRule.Kind, AlertDelivery.Channel, AlertDelivery.State
SIGNATURE_HEADER = "X-Alert-Signature"
# While one attempt runs, no other may start; an attempt that died (the worker was killed) is retried after this.
ATTEMPT_LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)


class NothingToSend(Exception):
    """A delivery that no retry could make succeed (no recipient has an e-mail address, no webhook set)."""


# --- 1. evaluation ----------------------------------------------------------------------------------------


def calls_stored(*, since: datetime | None = None, heify_ids: Iterable[str] | None = None) -> int:
    """After a pull (the calls it wrote since `since`) or a refresh (the calls `heify_ids`): evaluate the rules
    for what those calls touched. Returns how many alerts fired."""
    if since is None and heify_ids is None:
        raise TypeError("say which calls were stored: since=<when the pull started> or heify_ids=[...]")
    calls = Transcription.objects.all()
    if since is not None:
        calls = calls.filter(synced_at__gte=since)
    if heify_ids is not None:
        calls = calls.filter(heify_id__in=list(heify_ids))
    return _evaluate(calls)


def call_moved(transcription_id: int, **signal) -> None:
    """After a review move has committed (qa.reviews.queues.call_moved): evaluate the call's participant, in the
    background."""
    async_task("qa.alerts.services.call_evaluate", transcription_id)


def call_evaluate(transcription_id: int) -> int:
    return _evaluate(Transcription.objects.filter(pk=transcription_id))


def _evaluate(calls: QuerySet) -> int:
    rules = list(AlertRule.objects.filter(enabled=True).exclude(kind=Kind.CLAIM_WAITING))
    if not rules:
        return 0  # not even a look at the calls
    fired, failed = 0, set()
    if any(rule.kind == Kind.CRITICAL_FAIL for rule in rules):
        critical = calls.filter(Q(critical_fail_triggered=True) | Q(reviewed_critical=True)).select_related(
            "participant")
        for call in critical:
            for rule in rules:
                if rule.kind == Kind.CRITICAL_FAIL and _critical_landed(rule, call):
                    fired += _rule_fired(rule, failed, _critical_fail, rule, call)
    participants = set(calls.exclude(participant_id=None).values_list("participant_id", flat=True).distinct())
    trends: dict[tuple, tuple] = {}  # each participant's on each score, computed once for every degradation rule
    for participant_id in sorted(participants):
        for rule in rules:
            if rule.kind == Kind.DEGRADATION:
                fired += _rule_fired(rule, failed, _degradation_of, rule, participant_id, trends)
            elif rule.kind == Kind.PASS_RATE:
                fired += _rule_fired(rule, failed, _pass_rate, rule, participant_id)
    for rule in rules:
        if rule.job_failures and rule.pk not in failed:
            jobs.item_succeeded(AlertRule.objects.filter(pk=rule.pk), error_field="job_error")
    return fired


def _critical_landed(rule: AlertRule, call: Transcription) -> bool:
    """"Lands": the call is a critical fail on the rule's score, written here (by Heify's data or, on the reviewed
    score, by a reviewer's verdict) after the rule was made; the calls before it are history, not news."""
    if rule.score == ScoreSource.AI:
        return call.critical_fail_triggered and bool(call.synced_at) and call.synced_at >= rule.created_at
    if not of_record(call.critical_fail_triggered, call.reviewed_critical):
        return False
    written = call.reviewed_at if call.reviewed_critical else call.synced_at
    return bool(written) and written >= rule.created_at


def _rule_fired(rule: AlertRule, failed: set, evaluate, *args) -> int:
    """One rule on one call or participant: 1 if it fired. One that raises is marked on the rule (once per
    evaluation, qa.jobs; switched off at the limit) and never stops the other rules or items."""
    try:
        return evaluate(*args) is not None
    except Exception as exc:  # noqa: BLE001 (a rule stored beyond its bounds, a bug): this rule and item only
        if rule.pk not in failed:
            failed.add(rule.pk)
            _rule_failed(rule, exc)
        return 0


def _rule_failed(rule: AlertRule, exc: Exception, *, now: datetime | None = None) -> None:
    jobs.item_failed(AlertRule.objects.filter(pk=rule.pk), exc, failures=rule.job_failures,
                          error_field="job_error", give_up={"enabled": False}, now=now)


def claims_waiting(*, now: datetime | None = None) -> int:
    """The calls claimed longer ago than a rule's hours (the schedule's job); one alert per claim."""
    now = now or timezone.now()
    fired = 0
    for rule in AlertRule.objects.filter(jobs.due(now), enabled=True, kind=Kind.CLAIM_WAITING, hours__gt=0):
        try:
            fired += _claims_waiting(rule, now)
        except Exception as exc:  # noqa: BLE001 (a rule stored beyond its bounds, a bug): this rule only
            _rule_failed(rule, exc, now=now)
            continue
        if rule.job_failures:
            jobs.item_succeeded(AlertRule.objects.filter(pk=rule.pk), error_field="job_error")
    return fired


def _claims_waiting(rule: AlertRule, now: datetime) -> int:
    fired = 0
    waiting = Transcription.objects.filter(
        group=Group.UNDER_REVIEW, claimed_at__lte=now - timedelta(hours=rule.hours),
    ).select_related("assigned_to", "participant")
    for call in waiting:
        holder = call.assigned_to.get_username() if call.assigned_to else texts.text(gettext_noop("nobody"))
        fired += _fire(
            rule, f"claim:{call.pk}:{call.claimed_at.isoformat()}", participant_id=call.participant_id or "",
            transcription=call, link=_review_link(call),
            subject=texts.text(gettext_noop("Claim waiting over %(hours)s h: %(call)s (%(holder)s)"),
                               hours=rule.hours, call=str(call), holder=holder),
            body=texts.text(gettext_noop("%(holder)s claimed “%(call)s” on %(when)s and it is still under review."),
                            holder=holder, call=str(call), when=texts.moment(call.claimed_at)),
        ) is not None
    return fired


def _participant_label(participant_id: str) -> str:
    tag = Participant.all_objects.filter(heify_id=participant_id).values_list("tag", flat=True).first()
    return tag or participant_id


# How a message names the score a rule watches: nothing for the AI's (as always), else which.
ON_SCORE = {ScoreSource.AI: "", ScoreSource.REVIEWED: gettext_noop(" (reviewed score)")}


def _on_score(rule: AlertRule) -> texts.Message:
    return texts.text(ON_SCORE[ScoreSource(rule.score)])


def _critical_fail(rule: AlertRule, call: Transcription) -> Alert | None:
    who = str(call.participant) if call.participant else (call.participant_id
                                                           or texts.text(gettext_noop("no participant")))
    value = call.score if rule.score == ScoreSource.AI else of_record(call.score, call.reviewed_score)
    score = texts.text(gettext_noop("no score")) if value is None else texts.text(gettext_noop("score %(score)s"),
                                                                                 score=value)
    if rule.score != ScoreSource.AI and call.reviewed_critical:
        body = gettext_noop("“%(call)s” of %(who)s was judged a critical fail by its reviewer (%(score)s, %(when)s).")
    else:
        body = gettext_noop("“%(call)s” of %(who)s triggered a critical fail (%(score)s, %(when)s).")
    return _fire(
        rule, f"critical:{call.heify_id or call.pk}", participant_id=call.participant_id or "", transcription=call,
        subject=texts.text(gettext_noop("Critical fail%(on_score)s: %(call)s (%(who)s)"), on_score=_on_score(rule),
                           call=str(call), who=who),
        link=_review_link(call),
        body=texts.text(body, call=str(call), who=who, score=score, when=texts.moment(call.occurred_at)),
    )


def _degradation_of(rule: AlertRule, participant_id: str, trends: dict) -> Alert | None:
    if (participant_id, rule.score) not in trends:
        trends[participant_id, rule.score] = analytics.participant_trend(participant_id, score=rule.score)
    return _degradation(rule, participant_id, *trends[participant_id, rule.score])


def _degradation(rule: AlertRule, participant_id: str, trend: dict, alert_on: bool) -> Alert | None:
    def describe():
        who = _participant_label(participant_id)
        half = trend["sample_size"] // 2
        figures = {"who": who, "on_score": _on_score(rule), "before": trend["previous_avg"],
                   "now": trend["recent_avg"]}
        return {
            "subject": texts.text(gettext_noop("%(who)s is degrading%(on_score)s: %(before)s → %(now)s"), **figures),
            "body": texts.text(gettext_noop(
                "%(who)s's newest %(half)s calls average %(now)s%(on_score)s, down from %(before)s in the %(half)s "
                "before (the participant report's degradation alert)."), half=half, **figures),
        }

    return _condition(rule, participant_id, alert_on, describe)


def _pass_rate(rule: AlertRule, participant_id: str) -> Alert | None:
    rate = analytics.pass_rate_of_newest(participant_id, rule.last_calls, score=rule.score)

    def describe():
        who = _participant_label(participant_id)
        figures = {"who": who, "on_score": _on_score(rule), "rate": rate, "calls": rule.last_calls}
        return {
            "subject": texts.text(gettext_noop("%(who)s's pass rate%(on_score)s is %(rate)s%% over the last "
                                               "%(calls)s calls"), **figures),
            "body": texts.text(gettext_noop("%(who)s passed %(rate)s%% of their last %(calls)s scored calls"
                                            "%(on_score)s, below %(below)s%%."), below=rule.pass_rate_below,
                               **figures),
        }

    return _condition(rule, participant_id, rate is not None and rate < rule.pass_rate_below, describe)


def _condition(rule: AlertRule, participant_id: str, holds: bool, describe) -> Alert | None:
    """Fire when the condition turns on for the participant (the first time it is seen on counts)."""
    with transaction.atomic():
        condition = AlertCondition.objects.select_for_update().filter(rule=rule, participant_id=participant_id).first()
        if not holds:
            if condition is not None and condition.active:
                condition.active = False
                condition.save(update_fields=["active", "changed_at"])
            return None
        if condition is None:
            try:
                with transaction.atomic():
                    condition = AlertCondition.objects.create(rule=rule, participant_id=participant_id)
            except IntegrityError:  # another evaluation made it meanwhile: it decides
                return None
        if condition.active:
            return None
        condition.active = True
        condition.episodes += 1
        condition.save(update_fields=["active", "episodes", "changed_at"])
        return _fire(rule, f"{rule.kind}:{participant_id}:{condition.episodes}", participant_id=participant_id,
                     link=_absolute(reverse("admin:qa_participant_changelist")) + _participant_pk(participant_id),
                     **describe())


def _participant_pk(participant_id: str) -> str:
    pk = Participant.all_objects.filter(heify_id=participant_id).values_list("pk", flat=True).first()
    return f"{pk}/change/" if pk else ""


# --- 2. storing an event ------------------------------------------------------------------------------------


def _fire(rule: AlertRule, event_key: str, *, subject: texts.Message, body: texts.Message, link: str = "",
          participant_id: str = "", transcription: Transcription | None = None) -> Alert | None:
    """Store the event with its deliveries, unless it is stored already; they are sent after the commit. The
    subject and body are stored as messages (written in each recipient's language when sent), and written in the
    site's language (LANGUAGE_CODE) for the admin's list and the webhook."""
    if Alert.objects.filter(rule=rule, event_key=event_key).exists():
        return None
    channels = []
    if rule.users.exists() or rule.groups.exists():
        channels.append(Channel.EMAIL)
    if settings.ALERT_WEBHOOK_URL:
        channels.append(Channel.WEBHOOK)
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule, event_key=event_key[:255], link=link, participant_id=participant_id,
                transcription=transcription, **_words(subject, body),
            )
            deliveries = [AlertDelivery.objects.create(alert=alert, channel=channel) for channel in channels]
    except IntegrityError:  # the same event, stored by a concurrent evaluation
        return None
    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: async_task("qa.alerts.services.delivery_attempt", pk))
    return alert


def _words(subject: texts.Message | str, body: texts.Message | str) -> dict:
    """An alert's subject and body: as messages, and written in the site's language; or as they are, when they come
    written already (a dispute's notices, one per language: qa.reviews.disputes.dispute_notices)."""
    if isinstance(subject, str):
        return {"subject": one_line(subject)[:300], "body": body, "message": {}}
    return {"subject": one_line(texts.render(subject, settings.LANGUAGE_CODE))[:300],
            "body": texts.render(body, settings.LANGUAGE_CODE), "message": {"subject": subject, "body": body}}


def written(alert: Alert, language: str) -> tuple[str, str]:
    """The alert's (subject, body) in `language`; an alert stored before its words were kept as messages has
    only its English ones."""
    if not alert.message:
        return alert.subject, alert.body
    return (one_line(texts.render(alert.message["subject"], language))[:300],
            texts.render(alert.message["body"], language))


def one_line(text: str) -> str:
    """A subject on one line: the data in it (a participant's tag, a call's name) may hold CR, LF or other
    control characters, which an e-mail header refuses (BadHeaderError) or a mail reader would act on."""
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in text).split())


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _review_link(call: Transcription) -> str:
    return _absolute(reverse("admin:qa_reviewitem_change", args=[call.pk]))


# --- 3. sending ------------------------------------------------------------------------------------------------


def delivery_attempt(delivery_id: int, *, now: datetime | None = None) -> str:
    """Try one delivery if it is due; say what became of it."""
    now = now or timezone.now()
    claimed = AlertDelivery.objects.filter(
        pk=delivery_id, state__in=[State.PENDING, State.SENDING], next_attempt_at__lte=now,
    ).update(state=State.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + ATTEMPT_LEASE)
    if not claimed:
        return "not due"  # sent, given up, waiting for its next try, or being sent by another worker
    delivery = AlertDelivery.objects.select_related("alert__rule").get(pk=delivery_id)
    changes = {"state": State.SENT, "sent_at": timezone.now(), "last_error": ""}
    try:
        SENDERS[delivery.channel](delivery.alert)
    except NothingToSend as exc:
        changes = {"state": State.FAILED, "last_error": str(exc)}
    except Exception as exc:  # noqa: BLE001 (SMTP and HTTP errors are OSErrors; a header refused, a bug are not)
        return _attempt_failed(delivery, exc, now=now)
    AlertDelivery.objects.filter(pk=delivery_id).update(**changes)
    return changes["state"]


def _attempt_failed(delivery: AlertDelivery, exc: Exception, *, now: datetime) -> str:
    """Back a failed attempt off (doubling, at most MAX_BACKOFF), or give it up after ALERT_MAX_ATTEMPTS."""
    error = jobs.reason_of(exc)
    if delivery.attempts >= settings.ALERT_MAX_ATTEMPTS:
        changes = {"state": State.FAILED, "last_error": _("gave up after %(attempts)s attempts: %(error)s") % {
            "attempts": delivery.attempts, "error": error}}
    else:
        delay = min(timedelta(seconds=settings.ALERT_RETRY_SECONDS * 2 ** (delivery.attempts - 1)), MAX_BACKOFF)
        changes = {"state": State.PENDING, "last_error": error, "next_attempt_at": now + delay}
    log.warning("alert %s by %s failed (attempt %s): %s", delivery.alert_id, delivery.channel,
                delivery.attempts, error, exc_info=not isinstance(exc, OSError))
    AlertDelivery.objects.filter(pk=delivery.pk).update(**changes)
    return changes["state"]


def alert_deliveries_retry(*, alert_ids: Iterable[int], acting_user) -> int:
    """A manager's "try once more": the alerts' deliveries that gave up start afresh (pending, no attempt yet),
    each sent in the background once the transaction commits. Returns how many."""
    if not policy.may_manage_queues(acting_user):
        raise PermissionDenied(_("Only QA managers retry alert deliveries."))
    with transaction.atomic():
        failed = AlertDelivery.objects.filter(alert__in=list(alert_ids), state=State.FAILED)
        ids = list(failed.select_for_update().values_list("pk", flat=True))
        AlertDelivery.objects.filter(pk__in=ids).update(state=State.PENDING, next_attempt_at=timezone.now(),
                                                        attempts=0)
        for pk in ids:
            # robust: should the broker fail, deliveries_due sends it on its next run (it is due now).
            transaction.on_commit(lambda pk=pk: async_task("qa.alerts.services.delivery_attempt", pk), robust=True)
    return len(ids)


def deliveries_due(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """The schedule's job: every delivery due (a retry, or one whose attempt was lost), oldest first."""
    now = now or timezone.now()
    due = AlertDelivery.objects.filter(
        state__in=[State.PENDING, State.SENDING], next_attempt_at__lte=now,
    ).order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit]
    outcomes: dict[str, int] = {}
    for pk in list(due):
        try:
            outcome = delivery_attempt(pk, now=now)
        except Exception as exc:  # noqa: BLE001 (before or after the send itself): this delivery only
            delivery = AlertDelivery.objects.filter(pk=pk).first()
            outcome = _attempt_failed(delivery, exc, now=now) if delivery else "gone"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def recipients(rule: AlertRule, *, blind_to: Transcription | None = None) -> list[str]:
    """The e-mail addresses of the rule's users and of its groups' members (active ones); without those who score
    `blind_to` blind in calibration (qa.reviews.blinding.blind_raters), when the alert says what the AI said of it."""
    return sorted(set(recipient_users(rule, blind_to=blind_to).values_list("email", flat=True)))


def recipient_users(rule: AlertRule, *, blind_to: Transcription | None = None) -> QuerySet:
    """`recipients`' users (each is written to in their own language)."""
    users = get_user_model().objects.filter(
        Q(pk__in=rule.users.values("pk")) | Q(groups__in=rule.groups.values("pk")), is_active=True,
    ).exclude(email="")
    if blind_to is not None:
        users = users.exclude(pk__in=blinding.blind_raters(blind_to).values("pk"))
    return users.distinct()


def notice(*, event_key: str, users: Iterable, subject: texts.Message | str, body: texts.Message | str,
           link: str = "", transcription: Transcription | None = None, participant_id: str = "") -> Alert | None:
    """A message to named people rather than a rule's recipients (a dispute raised or resolved): stored with its
    e-mail delivery, sent after the commit and retried like any alert's. Once per `event_key`."""
    users = [user for user in users if user is not None]
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=None, event_key=event_key[:255], link=link, participant_id=participant_id,
                transcription=transcription, **_words(subject, body),
            )
            alert.recipients.set(users)
            delivery = AlertDelivery.objects.create(alert=alert, channel=Channel.EMAIL)
    except IntegrityError:  # told already
        return None
    transaction.on_commit(lambda: async_task("qa.alerts.services.delivery_attempt", delivery.pk), robust=True)
    return alert


def dispute_changed(sender, *, dispute_id: int, event: str, **signal) -> Alert | None:
    """A dispute was raised (its reviewer, the call's reviewer and the QA managers are told) or resolved (the agent
    is told): qa.reviews.disputes.dispute_changed, connected in qa/apps.py."""
    dispute = Dispute.objects.select_related("transcription", "raised_by", "resolved_by", "reviewer",
                                             "transcription__reviewed_by").get(pk=dispute_id)
    call = dispute.transcription
    raised = event == "raised"
    users = [dispute.reviewer, call.reviewed_by, *policy.queue_managers()] if raised else [dispute.raised_by]
    # The texts, one per language among the recipients, are the disputes' own (qa.reviews.disputes); the first
    # keeps the event's key, the others add their language to it.
    first = None
    for said in disputes.dispute_notices(dispute, event, users):
        key = f"dispute:{dispute.pk}:{event}" + ("" if first is None else f":{said.language}")
        alert = notice(event_key=key, users=said.users, transcription=call, participant_id=call.participant_id or "",
                       link=_review_link(call) if raised else "", subject=said.subject, body=said.body)
        first = first or alert
    return first


def notice_recipients(alert: Alert) -> list[str]:
    """A notice's recipients' addresses (active ones), without those who score its call blind in calibration."""
    return sorted({user.email for user in notice_recipient_users(alert)})


def notice_recipient_users(alert: Alert) -> list:
    """`notice_recipients`' users (each is written to in their own language)."""
    users = alert.recipients.filter(is_active=True).exclude(email="")
    if alert.transcription_id is not None:
        users = users.exclude(pk__in=blinding.blind_raters(alert.transcription).values("pk"))
    return list(users)


def by_language(users: Iterable) -> dict[str, list[str]]:
    """The users' addresses by the language each reads (qa.preferences.languages_of, one query), each list sorted."""
    users = list(users)
    language = languages_of(users)
    groups: dict[str, set[str]] = {}
    for user in users:
        groups.setdefault(language[user.pk], set()).add(user.email)
    return {language: sorted(addresses) for language, addresses in sorted(groups.items())}


def _send_email(alert: Alert) -> None:
    """One e-mail per language read among the recipients, each in that language."""
    if alert.rule is None:
        users = notice_recipient_users(alert)
        if not users:
            raise NothingToSend(_("None of the notice's recipients has an e-mail address (or may read it now)."))
        for language, to in by_language(users).items():
            subject, body = written(alert, language)
            EmailMessage(subject=f"[Heify QA] {subject}", body=f"{body}\n\n{alert.link}".rstrip() + "\n",
                         to=to).send()
        return
    # A critical fail's alert gives the call's score and verdict: not to a rater scoring it blind now (asked when
    # it is sent; they read the call's page once they have submitted).
    call = alert.transcription if alert.rule.kind == Kind.CRITICAL_FAIL else None
    users = list(recipient_users(alert.rule, blind_to=call))
    if not users:
        raise NothingToSend(_("None of the rule's recipients has an e-mail address or may read it (calibration: "
                              "they score the call blind).") if call else
                            _("None of the rule's recipients has an e-mail address."))
    for language, to in by_language(users).items():
        subject, body = written(alert, language)
        with translation.override(language):
            rule = _("Rule: %(rule)s (%(kind)s)") % {"rule": alert.rule, "kind": alert.rule.get_kind_display()}
        EmailMessage(subject=f"[Heify QA] {subject}", body=f"{body}\n\n{alert.link}\n\n{rule}\n", to=to).send()


def webhook_body(alert: Alert) -> bytes:
    """JSON that chat tools take as it is (Slack, Mattermost, Teams and Google Chat read `text`), with the
    alert's fields beside it for anything that wants them."""
    text = f"*{alert.subject}*\n{alert.body}" + (f"\n{alert.link}" if alert.link else "")
    return json.dumps({
        "text": text,
        "alert": {
            "id": alert.pk, "rule": alert.rule.name, "kind": alert.rule.kind, "event": alert.event_key,
            "subject": alert.subject, "body": alert.body, "link": alert.link,
            "participant_id": alert.participant_id or None, "created_at": alert.created_at.isoformat(),
        },
    }, ensure_ascii=False).encode()


def signature(body: bytes, secret: str) -> str:
    """The X-Alert-Signature header: the HMAC-SHA256 of the exact body, keyed with ALERT_WEBHOOK_SECRET."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _send_webhook(alert: Alert) -> None:
    url, secret = settings.ALERT_WEBHOOK_URL, settings.ALERT_WEBHOOK_SECRET
    if not url or urlsplit(url).scheme not in ("http", "https"):
        raise NothingToSend(_("ALERT_WEBHOOK_URL is not set to an http(s) address."))
    if not secret:
        raise NothingToSend(_("ALERT_WEBHOOK_SECRET is not set: an unsigned alert is not sent."))
    body = webhook_body(alert)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", SIGNATURE_HEADER: signature(body, secret),
        "User-Agent": "heify-backoffice-alerts",
    })
    with urllib.request.urlopen(request, timeout=settings.ALERT_WEBHOOK_TIMEOUT) as response:  # noqa: S310 (http(s) only)
        response.read(65536)  # an HTTP error status raises (urllib.error.HTTPError, an OSError)


SENDERS = {Channel.EMAIL: _send_email, Channel.WEBHOOK: _send_webhook}
