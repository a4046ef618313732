"""The call list's search (`calls_matching`), in its PostgreSQL and SQLite forms side by side.

What it finds is the same on both: the calls where every word of the search (a quoted phrase is one word) is in
the call's name or configuration tag (any case), or in its participant's or evaluator's name, or is the whole
Heify id of the call, its participant or its evaluator. How differs, because each form is the one its database's
index serves (tests/qa/test_dialects.py checks that both find what that sentence says):

- PostgreSQL: Django's `icontains`, served by pg_trgm's trigram indexes on UPPER(name) and UPPER(configuration_tag)
  (migration 0009).
- SQLite: the FTS5 table with the trigram tokenizer over the same two columns (`SEARCH_TABLE`, created and kept
  by triggers by migration 0009), for words of a trigram or more; a shorter word is read from the table.

On both, the agents and evaluators a word names are looked up first, in their own small tables (the Heify id
columns' B-trees serve the rest), so the call table is searched by their ids rather than joined and scanned.
Who may see which calls is not decided here: the caller's queryset is already narrowed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connections
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils.text import smart_split, unescape_string_literal

from qa.db import on_postgresql
from qa.mirror.models import Evaluator, Participant, Transcription

# SQLite: the FTS5 table (trigram tokenizer) that indexes each call's name and configuration_tag.
SEARCH_TABLE = "qa_transcription_search"
TRIGRAM = 3  # FTS5's trigram tokenizer finds nothing shorter


def calls_matching(search_term: str) -> Q:
    """The calls the search box finds for `search_term` (every call if it has no word)."""
    words = [unescape_string_literal(w) if w[:1] in ('"', "'") and w[0] == w[-1] else w
             for w in smart_split(search_term)]
    if not words:
        return Q()
    if on_postgresql(Transcription.objects.db):
        return _every_word(words, _in_text)
    # SQLite walks the list's date index and reads each row to test the OR; the matching ids first (each term by
    # its own index), then the walk only looks them up in that set. The rarest word's matches lead; every other
    # word's text is tested on those calls only. Compiled on its own, so that the table's name in a word's EXISTS
    # (_in_search_table) is this query's table.
    leading = _rarest(words)
    found = _every_word(words, lambda word: _in_search_table(word, leads=leading in (None, word)))
    sql, params = Transcription.objects.filter(found).order_by().values("pk").query.sql_with_params()
    return Q(pk__in=RawSQL(sql, params))


def _every_word(words: list[str], in_text: Callable[[str], Q]) -> Q:
    """Calls that each word finds, by their text (`in_text`) or their agent's or evaluator's name or Heify id."""
    found = Q()
    for word in words:
        participants = list(Participant.objects.filter(tag__icontains=word).values_list("heify_id", flat=True))
        evaluators = list(Evaluator.objects.filter(tag__icontains=word).values_list("heify_id", flat=True))
        found &= (
            in_text(word)
            | Q(heify_id=word) | Q(participant_id=word) | Q(evaluator_id=word)
            | Q(participant_id__in=[p for p in participants if p]) | Q(evaluator_id__in=[e for e in evaluators if e])
        )
    return found


# --- PostgreSQL ------------------------------------------------------------------------------------------------


def _in_text(word: str) -> Q:
    """Calls whose name or configuration tag contains `word`, any case."""
    return Q(name__icontains=word) | Q(configuration_tag__icontains=word)


# --- SQLite ----------------------------------------------------------------------------------------------------


def _phrase(word: str) -> str:
    """An FTS5 phrase: it matches wherever its trigrams follow one another, as a substring does."""
    return '"' + word.replace('"', '""') + '"'


def _rarest(words: list[str]) -> str | None:
    """Two words or more that FTS5 can search: the one whose text matches fewest calls (counted up to 1,000, one
    query). Its matches lead, instead of each word's matches being read whole ("Call 999999": every call matches
    "Call"; 266 against 23 ms at 100,000 calls)."""
    searchable = [w for w in dict.fromkeys(words) if len(w) >= TRIGRAM]
    if len(searchable) < 2:
        return None
    count = f"(SELECT count(*) FROM (SELECT 1 FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH %s LIMIT 1000))"
    with connections[Transcription.objects.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join([count] * len(searchable)), [_phrase(w) for w in searchable])
        counts = cursor.fetchone()
    return searchable[counts.index(min(counts))]


def _in_search_table(word: str, *, leads: bool) -> Q:
    """`_in_text`, through FTS5's index. A word that `leads` gives the set of its matches; another is tested
    call by call (an EXISTS on the index, for the call's rowid); a word shorter than a trigram is read from the
    table."""
    if len(word) < TRIGRAM:
        return _in_text(word)
    phrase = _phrase(word)
    if leads:
        return Q(pk__in=RawSQL(f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH %s", [phrase]))
    table = Transcription._meta.db_table
    return Q(RawSQL(f'EXISTS (SELECT 1 FROM {SEARCH_TABLE} AS s WHERE s.rowid = "{table}"."id" '
                    f"AND s.{SEARCH_TABLE} MATCH %s)", [phrase], output_field=BooleanField()))
