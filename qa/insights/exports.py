"""The team overview's and a participant report's exports: their columns and rows. The file is written by
qa/spreadsheets.py."""

from __future__ import annotations

from collections.abc import Callable

from qa.mirror.report_rules import ScoreSource
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


REPORT_COLUMNS = (
    ("Call ID", "id"), ("Date", "date"), ("Score", "score"), ("Critical fail", "critical"),
    ("Duration (s)", "duration"), ("Evaluator", "evaluator_tag"), ("Evaluator ID", "evaluator_id"),
    ("Group", "group"), ("Status", "status"), ("Failed criteria", "failed_criteria"),
)


def report_table(participant, report: dict, *, review_urls: dict[str, str], score: str = ScoreSource.AI) -> Table:
    """A participant report's calls (its raw_data on `score`, without those the reader scores blind:
    qa.reviews.calibration's blind_heify_ids, left out of the report), each with its review page."""
    return Table(
        title=f"{participant.tag} report{_on(score)}",
        headers=[header for header, _ in REPORT_COLUMNS] + ["Review page"],
        rows=([*(call[key] for _, key in REPORT_COLUMNS), review_urls.get(call["id"], "")]
              for call in report["raw_data"]),
    )
