"""The roll-ups' recount of a review move (qa.mirror.rollups.recount_call): the bucket it locks is the one the pull's
recount locks, and one bucket's statements, compiled once per shape, are those the ORM compiles for it."""

from datetime import date

import pytest
from django.db import connection, transaction

from qa.db import on_postgresql
from qa.mirror import rollups
from qa.mirror.models import Transcription

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(pending_calls):
    return pending_calls(2)


@pytest.mark.parametrize("bucket", [("00000000-0000-4000-b000-000000000147", date(2026, 5, 26)),
                                    (None, date(2024, 2, 29)), ("p", None), (None, None)],
                         ids=["an agent's day", "no agent", "no day", "neither"])
@pytest.mark.parametrize("pass_mark", [50.0, 70.0])
def test_one_buckets_statements_are_the_orms(bucket, pass_mark):
    using = connection.alias
    assert rollups._one_bucket_statements(bucket, pass_mark, using) == rollups._recount_statements(
        [bucket], pass_mark, using)
    # And again, from the template kept for its shape.
    assert rollups._one_bucket_statements(bucket, pass_mark, using) == rollups._recount_statements(
        [bucket], pass_mark, using)


@pytest.mark.skipif(not on_postgresql(), reason="advisory locks are PostgreSQL's")
def test_a_move_locks_the_bucket_refresh_locks(calls):
    def advisory():
        with connection.cursor() as cursor:
            cursor.execute("SELECT classid, objid, objsubid FROM pg_locks WHERE locktype = 'advisory' "
                           "AND pid = pg_backend_pid() ORDER BY 1, 2, 3")
            return cursor.fetchall()

    call = calls[0]
    bucket = (call.participant_id, call.occurred_at.date())
    with transaction.atomic():
        rollups.recount_call(call.pk)
        taken = advisory()
        rollups._lock([bucket])  # the pull's lock of the same bucket: the same key, so no new lock
        assert len(taken) == 1 and advisory() == taken
    Transcription.objects.filter(pk=call.pk).update(participant=None, occurred_at=None)  # the bucket of None
    with transaction.atomic():
        rollups.recount_call(call.pk)
        taken = advisory()
        rollups._lock([(None, None)])
        assert len(taken) == 2 and advisory() == taken  # with the first one, held until the test's end


