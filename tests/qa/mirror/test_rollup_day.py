"""The roll-ups' day of a call (qa.mirror.rollups.UTCDay) is TruncDate's in UTC, on either database."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db.models.functions import TruncDate

from qa.mirror.models import Transcription
from qa.mirror.rollups import UTCDay
from tests import builders

pytestmark = pytest.mark.django_db

MOMENTS = [
    datetime(2026, 3, 1, 0, 0, tzinfo=UTC),
    datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 2, 28, 23, 30, tzinfo=timezone(timedelta(hours=-5))),  # 1 March in UTC
    datetime(2026, 3, 2, 0, 30, tzinfo=timezone(timedelta(hours=2))),  # 1 March in UTC
    datetime(2024, 2, 29, 12, tzinfo=UTC),
]


def test_the_day_is_truncdates_in_utc():
    from syncer import mirror

    mirror.load_snapshot(builders.snapshot(transcriptions=[
        builders.transcription_payload(created_at=moment.isoformat()) for moment in MOMENTS]))
    days = list(Transcription.objects.order_by("pk").annotate(
        ours=UTCDay("occurred_at"), django=TruncDate("occurred_at", tzinfo=UTC)).values_list("ours", "django"))
    assert len(days) == len(MOMENTS) and all(ours == django for ours, django in days)
    assert [ours for ours, _ in days] == [moment.astimezone(UTC).date() for moment in MOMENTS]
