"""Heify's own analytics-participant report, asked at most once a day per participant.

Each ask costs one call of Heify's monthly analytics quota, so a report fetched today is stored
(syncer.models.HeifyReport, shared by every process) and answered again until the day ends. Who may
ask at all is qa's decision (qa.policy.may_compare_with_heify), checked by the admin and the API.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from syncer.client import get_client
from syncer.models import HeifyReport


def participant_report_today(participant_heify_id: str) -> HeifyReport:
    """Today's stored report of the participant, or Heify's answer now (stored).

    Raises syncer.client.HeifyError (QuotaExceeded when the quota is spent) when Heify must be asked and
    cannot answer; nothing is stored then.
    """
    day = timezone.localdate()
    stored = HeifyReport.objects.filter(participant_heify_id=participant_heify_id, day=day).first()
    if stored is not None:
        return stored
    # Asked outside any transaction: no lock is held while Heify answers.
    with get_client() as client:
        report = client.analytics_participant(participant_heify_id)
    try:
        with transaction.atomic():
            return HeifyReport.objects.create(participant_heify_id=participant_heify_id, day=day, report=report)
    except IntegrityError:  # another process stored one meanwhile: theirs is as good
        return HeifyReport.objects.get(participant_heify_id=participant_heify_id, day=day)


def participant_report_stored(participant_heify_id: str) -> HeifyReport | None:
    """Today's stored report, without asking Heify."""
    return HeifyReport.objects.filter(participant_heify_id=participant_heify_id, day=timezone.localdate()).first()
