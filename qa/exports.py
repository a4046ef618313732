"""Exports: a list or a report as CSV or Excel (.xlsx), streamed row by row.

What lives here: the tables each screen exports (calls, the team overview,
a participant's report), the cell rules they share (ISO 8601 dates, yes/no,
formula-injection escaping as OWASP describes it), and the two writers, both
generators, so a response starts with the first rows and memory stays flat
whatever the count:

- CSV through Python's csv module, a batch of rows per chunk;
- .xlsx written as the rows come: a .xlsx is a zip of XML parts, and Python's
  zipfile writes an entry into a stream that cannot seek (sizes go in a data
  descriptor after it), so the sheet's XML is compressed and sent batch by
  batch. openpyxl (write_only) and XlsxWriter (constant_memory) keep memory
  flat too, but both build the zip only when the workbook is closed, so not a
  byte would leave before the last row is read (about a minute at 1,000,000
  rows: past any proxy's timeout). The tests read our files back with openpyxl.

What must not live here: who may see which rows. Callers hand in a queryset
already narrowed by the screen's own rules (the admin's ChangeList, the API's
filters), so an export holds exactly what its screen lists, and no more.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from qa.mirror import criterion_results
from qa.models import Criterion, Evaluator, Participant

CSV, XLSX = "csv", "xlsx"
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BATCH = 1000  # rows per chunk sent, and per fetch from the database (x2)
# Excel's last row is 1,048,576; the header takes one.
XLSX_MAX_ROWS = 1_048_575
TOO_MANY_ROWS = "Excel holds no more rows: this file stops here. Export CSV to get every row."


# --- cells ---------------------------------------------------------------------------------------

# OWASP, "CSV Injection": a cell a spreadsheet could read as a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert with a leading quote (OWASP's advice)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str | int | float:
    """One value as both writers show it: numbers stay numbers, everything else is escaped text."""
    if isinstance(value, str):  # the most common, first
        return escape_formula(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(item) for item in value)
    return escape_formula(str(value))


@dataclass
class Table:
    """What an export holds: headers, and the rows (an iterator, read once, as the response goes out)."""

    title: str  # the file's name and the sheet's
    headers: list[str]
    rows: Iterable[Iterable[Any]]


# --- writers ----------------------------------------------------------------------------------------


def _batches(rows: Iterable) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def csv_chunks(table: Table) -> Iterator[bytes]:
    buffer = io.StringIO()
    # Every field quoted, as OWASP advises beside the escaping.
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    # The byte order mark makes Excel read the file as UTF-8 (accents, names in any script).
    buffer.write("\ufeff")
    writer.writerow([cell(header) for header in table.headers])
    yield _take(buffer)  # at once, before the first row is read
    for batch in _batches(table.rows):
        writer.writerows([cell(value) for value in row] for row in batch)
        yield _take(buffer)


def _take(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


# Characters XML 1.0 cannot hold, and lone surrogates (UTF-8 cannot encode them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_NOT_IN_SHEET_NAME = re.compile(r"[\x00-\x1f\x7f\[\]:*?/\\]")  # control characters and Excel's forbidden ones
XLSX_CELL_MAX_LENGTH = 32_767  # Excel's most characters in a cell; it "repairs" a file with more
XLSX_SHEET_NAME_MAX_LENGTH = 31


def xlsx_text(value: str) -> str:
    """Text as a .xlsx cell can hold it: no character XML 1.0 cannot, at most Excel's 32,767 characters."""
    return _NOT_XML.sub("", value)[:XLSX_CELL_MAX_LENGTH]


def xlsx_sheet_name(title: str) -> str:
    """A sheet name Excel and openpyxl accept, whatever `title` holds (a participant's tag): no control character
    and none of []:*?/ or a backslash, no apostrophe at either end, 1 to 31 characters."""
    name = " ".join(_NOT_IN_SHEET_NAME.sub(" ", xlsx_text(title)).split())
    return name[:XLSX_SHEET_NAME_MAX_LENGTH].strip("' ") or "Export"


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STATIC_PARTS = {
    "[Content_Types].xml": _XML + (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": _XML + (
        f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": _XML + (
        f'<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
    ),
    # Two cell formats: 0 plain, 1 bold (the header row).
    "xl/styles.xml": _XML + (
        f'<styleSheet xmlns="{_NS}">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}
# The header row stays in view while scrolling.
_SHEET_START = _XML + (
    f'<worksheet xmlns="{_NS}"><sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
    "<sheetData>"
)
_SHEET_END = "</sheetData></worksheet>"


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xlsx_row(number: int, values: Iterable[Any], letters: list[str], style: str = "") -> str:
    cells = []
    for letter, value in zip(letters, values, strict=False):
        value = cell(value)
        ref = f"{letter}{number}"
        if isinstance(value, (int, float)):
            cells.append(f'<c r="{ref}"{style}><v>{value!r}</v></c>')
        elif value:
            text = xml_escape(xlsx_text(value), {"\r": "&#13;"})  # a bare CR would be read back as LF
            cells.append(f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


class _Sink:
    """Where zipfile writes; what it wrote is taken away after each batch."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def xlsx_chunks(table: Table) -> Iterator[bytes]:
    sink = _Sink()
    letters = [_column_letters(i) for i in range(len(table.headers))]
    sheet_name = xml_escape(xlsx_sheet_name(table.title), {'"': "&quot;"})
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in _STATIC_PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/workbook.xml", _XML + (
            f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>'
            f'<sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ))
        yield sink.take()
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write((_SHEET_START + _xlsx_row(1, table.headers, letters, ' s="1"')).encode())
            written = 0
            for batch in _batches(table.rows):
                room = XLSX_MAX_ROWS - 1 - written  # the last row is kept for the note below
                if len(batch) > room:
                    batch = [*batch[:room], [TOO_MANY_ROWS]]
                first = written + 2  # row 1 is the header
                sheet.write("".join(_xlsx_row(first + i, row, letters) for i, row in enumerate(batch)).encode())
                written += len(batch)
                yield sink.take()
                if written >= XLSX_MAX_ROWS:
                    break
            sheet.write(_SHEET_END.encode())
    yield sink.take()


WRITERS: dict[str, Callable[[Table], Iterator[bytes]]] = {CSV: csv_chunks, XLSX: xlsx_chunks}


def streaming_response(table: Table, fmt: str) -> StreamingHttpResponse:
    """The table as a download, sent while it is read."""
    response = StreamingHttpResponse(WRITERS[fmt](table), content_type=CONTENT_TYPES[fmt])
    filename = f"{slugify(table.title) or 'export'}-{datetime.now(UTC):%Y-%m-%d}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["Cache-Control"] = "no-store"  # what a person may see is not kept by any cache
    return response


# --- what each screen exports ------------------------------------------------------------------------

# The columns of a call, read with values_list, never as model objects (a million model instances would cost a
# minute of Python alone). Names of participants, evaluators and reviewers come from small lookups read once,
# not from joins: the calls are then read from their own table alone, in the list's index order, so rows start
# coming at once instead of after PostgreSQL has joined and sorted every one of them.
CALL_FIELDS = (
    "pk", "name", "heify_id", "status", "group", "participant_id", "evaluator_id", "configuration_tag", "score",
    "critical_fail_triggered", "duration", "occurred_at", "completed_at", "assigned_to_id", "group_changed_at",
)
CALL_HEADERS = (
    "Call", "Heify ID", "Status", "Group", "Participant", "Participant ID", "Evaluator", "Evaluator ID",
    "Configuration", "Score", "Critical fail", "Duration (s)", "Date", "Completed at", "Reviewer", "In group since",
)


def criterion_names(evaluator_heify_id: str | None) -> list[str]:
    """The evaluator's criteria, in its order: one column each when a list is filtered to that evaluator."""
    if not evaluator_heify_id:
        return []
    evaluator = Evaluator.all_objects.filter(heify_id=evaluator_heify_id).first()
    if evaluator is None:
        return []
    names = Criterion.objects.filter(evaluator=evaluator).order_by("position", "id").values_list("name", flat=True)
    return list(dict.fromkeys(names))


def criterion_result(passed: bool | None, value: int | None) -> str:
    """What Heify said of one criterion on a call: passed / failed, with its value where Heify gives one."""
    verdict = "passed" if passed is True else "failed" if passed is False else ""
    return f"{verdict} ({value})" if value is not None and verdict else verdict or str(value or "")


def calls_table(
    queryset: QuerySet, *, review_url: Callable[[int], str], blind_call_ids: Collection[int],
    evaluator_id: str | None = None, title: str = "Calls",
) -> Table:
    """Every call the queryset selects, in its order; `review_url(pk)` links each to its review page. The AI's
    verdicts (score, critical fail, criteria) are left out of the calls in `blind_call_ids` (the reader's,
    qa.calibration)."""
    criteria = criterion_names(evaluator_id)
    headers = [*CALL_HEADERS, *criteria, "Review page"]

    def rows():
        participants = dict(Participant.all_objects.exclude(heify_id=None).values_list("heify_id", "tag"))
        evaluators = dict(Evaluator.all_objects.exclude(heify_id=None).values_list("heify_id", "tag"))
        reviewers = dict(get_user_model().objects.values_list("pk", "username"))
        with _streaming_read(queryset.db):
            yield from _call_rows(queryset, criteria, review_url, participants, evaluators, reviewers,
                                  blind_call_ids)

    return Table(title=title, headers=headers, rows=rows())


def _streaming_read(alias: str):
    """On PostgreSQL, read inside a transaction: outside one, Django's server-side cursor is WITH HOLD, and
    PostgreSQL then computes the whole result before the first row (20 s at 1,000,000 calls). Not on SQLite,
    whose transactions here take the write lock (transaction_mode IMMEDIATE) and would stop every writer."""
    return transaction.atomic(using=alias) if connections[alias].vendor == "postgresql" else nullcontext()


def _call_rows(queryset, criteria, review_url, participants, evaluators, reviewers, blind_call_ids):
    calls = queryset.values_list(*CALL_FIELDS).iterator(chunk_size=BATCH * 2)
    while chunk := list(islice(calls, BATCH * 2)):
        # The criteria's columns: the chunk's results, in one query (the first result of a name counts).
        said = {}
        if criteria:
            for call_id, name, passed, value in criterion_results.results_of_calls(
                    [row[0] for row in chunk if row[0] not in blind_call_ids], names=criteria).values_list(
                    "transcription_id", "name", "passed", "value"):
                said.setdefault((call_id, name), criterion_result(passed, value))
        for (pk, name, heify_id, status, group, participant_id, evaluator_id, configuration, score, critical,
             duration, occurred_at, completed_at, assignee, in_group_since) in chunk:
            if pk in blind_call_ids:
                score, critical = None, None
            yield [
                name, heify_id, status, group, participants.get(participant_id), participant_id,
                evaluators.get(evaluator_id), evaluator_id, configuration, score, critical, duration, occurred_at,
                completed_at, reviewers.get(assignee), in_group_since,
                *(said.get((pk, criterion), "") for criterion in criteria), review_url(pk),
            ]


TEAM_COLUMNS = (
    ("Participant", "tag"), ("Calls", "calls"), ("Avg score", "avg_score"), ("Pass rate %", "pass_rate"),
    ("Critical fails", "critical_fails"), ("Pending critical reviews", "pending_critical_reviews"),
)


def team_table(rows: list[dict], *, participant_url: Callable[[int], str]) -> Table:
    """qa.team.team_overview's rows, as the overview shows them."""
    headers = ["Participant", "Participant ID", *(h for h, _ in TEAM_COLUMNS[1:]), "Trend", "Previous avg",
               "Recent avg", "Degradation alert", "Participant page"]
    return Table(title="Team overview", headers=headers, rows=(
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


def report_table(participant, report: dict, *, review_urls: dict[str, str]) -> Table:
    """A participant report's calls (its raw_data, without those the reader scores blind: qa.calibration's
    blind_heify_ids, left out of the report), each with its review page."""
    return Table(
        title=f"{participant.tag} report",
        headers=[header for header, _ in REPORT_COLUMNS] + ["Review page"],
        rows=([*(call[key] for _, key in REPORT_COLUMNS), review_urls.get(call["id"], "")]
              for call in report["raw_data"]),
    )
