"""The team overview's and a participant report's exports: their columns and rows, as the screens show them
(labels, not codes; the calls' columns named as in the call lists' export, qa.reviews.exports). The file is
written by qa/spreadsheets.py (real dates in a .xlsx, ISO 8601 in a CSV)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qa.insights.report import trend_label
from qa.mirror.models import Transcription
from qa.mirror.report_rules import ScoreSource
from qa.reviews.exports import DURATION_HEADER, group_label, status_label
from qa.spreadsheets import Table


def _on(score: str) -> str:
    """The title's word on the score: none for the AI's (as always), else which (the file's name says it too)."""
    return "" if score == ScoreSource.AI else f" ({ScoreSource(score).label})"  # the label in the reader's language


# The overview's figures: each row's key, with its column's header (translated when the file is written).
TEAM_COLUMNS = (
    (gettext_lazy("Participant"), "tag"), (gettext_lazy("Calls"), "calls"), (gettext_lazy("Avg score"), "avg_score"),
    (gettext_lazy("Pass rate %"), "pass_rate"), (gettext_lazy("Critical fails"), "critical_fails"),
    (gettext_lazy("Pending critical reviews"), "pending_critical_reviews"),
)


def team_table(rows: list[dict], *, participant_url: Callable[[int], str], score: str = ScoreSource.AI) -> Table:
    """qa.insights.team.team_overview's rows (on `score`), as the overview shows them, in the reader's language."""
    headers = [_("Participant"), _("Participant ID"), *(str(h) for h, _key in TEAM_COLUMNS[1:]), _("Trend"),
               _("Previous avg"), _("Recent avg"), _("Degradation alert"), _("Participant page")]
    return Table(title=_("Team overview") + _on(score), headers=headers, rows=(
        [row["tag"], row["participant"].heify_id, *(row[key] for _header, key in TEAM_COLUMNS[1:]),
         trend_label(row["trend"]["direction"]), row["trend"]["previous_avg"], row["trend"]["recent_avg"],
         row["degradation_alert"], participant_url(row["participant"].pk)]
        for row in rows
    ))


def _moment(text: str | None) -> datetime | None:
    """raw_data's ISO 8601 date, as the moment it is (a .xlsx writes it as a date)."""
    return datetime.fromisoformat(text) if text else None


# raw_data's keys, each with its column (named as in the call lists' export) and how a person reads its value.
REPORT_COLUMNS = (
    (gettext_lazy("Heify ID"), "id", None), (gettext_lazy("Date"), "date", _moment),
    (gettext_lazy("Score"), "score", None),
    (gettext_lazy("Critical fail"), "critical", None), (DURATION_HEADER, "duration", None),
    (gettext_lazy("Evaluator"), "evaluator_tag", None), (gettext_lazy("Evaluator ID"), "evaluator_id", None),
    (gettext_lazy("Group"), "group", group_label), (gettext_lazy("Status"), "status", status_label),
    (gettext_lazy("Failed criteria"), "failed_criteria", None),
)


def report_table(participant, report: dict, *, review_urls: dict[str, str], score: str = ScoreSource.AI) -> Table:
    """A participant report's calls (its raw_data on `score`, without those the reader scores blind:
    qa.reviews.calibration's blind_heify_ids, left out of the report), each with its name and its review page."""

    def rows():
        names = dict(Transcription.all_objects.filter(participant_id=participant.heify_id).values_list(
            "heify_id", "name")) if participant.heify_id else {}
        for call in report["raw_data"]:
            yield [names.get(call["id"], ""),
                   *(call[key] if shown is None else shown(call[key]) for _header, key, shown in REPORT_COLUMNS),
                   review_urls.get(call["id"], "")]

    return Table(title=_("%(participant)s report") % {"participant": participant.tag} + _on(score),
                 headers=[_("Call"), *(str(header) for header, _key, _shown in REPORT_COLUMNS), _("Review page")],
                 rows=rows())
