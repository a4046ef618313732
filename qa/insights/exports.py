"""The team overview's and a participant report's exports: their columns and rows, as the screens show them
(labels, not codes; the calls' columns named as in the call lists' export, qa.reviews.exports). The file is
written by qa/spreadsheets.py (real dates in a .xlsx, ISO 8601 in a CSV)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from qa.mirror.models import Transcription
from qa.mirror.report_rules import ScoreSource
from qa.reviews.exports import DURATION_HEADER, group_label, status_label
from qa.spreadsheets import Table


def _on(score: str) -> str:
    """The title's word on the score: none for the AI's (as always), else which (the file's name says it too)."""
    return "" if score == ScoreSource.AI else f" ({ScoreSource(score).label})"


TEAM_COLUMNS = (
    ("Participant", "tag"), ("Calls", "calls"), ("Avg score", "avg_score"), ("Pass rate %", "pass_rate"),
    ("Critical fails", "critical_fails"), ("Pending critical reviews", "pending_critical_reviews"),
)


def team_table(rows: list[dict], *, participant_url: Callable[[int], str], score: str = ScoreSource.AI) -> Table:
    """qa.insights.team.team_overview's rows (on `score`), as the overview shows them."""
    headers = ["Participant", "Participant ID", *(h for h, _ in TEAM_COLUMNS[1:]), "Trend", "Previous avg",
               "Recent avg", "Degradation alert", "Participant page"]
    return Table(title=f"Team overview{_on(score)}", headers=headers, rows=(
        [row["tag"], row["participant"].heify_id, *(row[key] for _, key in TEAM_COLUMNS[1:]),
         row["trend"]["direction"].replace("_", " "), row["trend"]["previous_avg"], row["trend"]["recent_avg"],
         row["degradation_alert"], participant_url(row["participant"].pk)]
        for row in rows
    ))


def _moment(text: str | None) -> datetime | None:
    """raw_data's ISO 8601 date, as the moment it is (a .xlsx writes it as a date)."""
    return datetime.fromisoformat(text) if text else None


# raw_data's keys, each with its column (named as in the call lists' export) and how a person reads its value.
REPORT_COLUMNS = (
    ("Heify ID", "id", None), ("Date", "date", _moment), ("Score", "score", None),
    ("Critical fail", "critical", None), (DURATION_HEADER, "duration", None), ("Evaluator", "evaluator_tag", None),
    ("Evaluator ID", "evaluator_id", None), ("Group", "group", group_label), ("Status", "status", status_label),
    ("Failed criteria", "failed_criteria", None),
)


def report_table(participant, report: dict, *, review_urls: dict[str, str], score: str = ScoreSource.AI) -> Table:
    """A participant report's calls (its raw_data on `score`, without those the reader scores blind:
    qa.reviews.calibration's blind_heify_ids, left out of the report), each with its name and its review page."""

    def rows():
        names = dict(Transcription.all_objects.filter(participant_id=participant.heify_id).values_list(
            "heify_id", "name")) if participant.heify_id else {}
        for call in report["raw_data"]:
            yield [names.get(call["id"], ""),
                   *(call[key] if shown is None else shown(call[key]) for _, key, shown in REPORT_COLUMNS),
                   review_urls.get(call["id"], "")]

    return Table(title=f"{participant.tag} report{_on(score)}",
                 headers=["Call", *(header for header, _, _ in REPORT_COLUMNS), "Review page"], rows=rows())
