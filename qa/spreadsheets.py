"""A table (a list or a report) as CSV or Excel (.xlsx), streamed row by row.

What lives here: the Table every export hands in (its tables are qa/reviews/exports.py for calls and
qa/insights/exports.py for the team overview and a participant's report), the cell rules they share
(Yes/No, formula-injection escaping as OWASP describes it; dates as ISO 8601 in UTC in a CSV and as real dates
in a .xlsx, in the site's time zone, as the screens show them: see `xlsx_serial`), and the two writers, both
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

What must not live here: which rows or columns a screen exports, or who may see them.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from itertools import islice
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_lazy

CSV, XLSX = "csv", "xlsx"
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BATCH = 1000  # rows per chunk sent, and per fetch from the database (x2)
# Excel's last row is 1,048,576; the header takes one.
XLSX_MAX_ROWS = 1_048_575
TOO_MANY_ROWS = gettext_lazy("Excel holds no more rows: this file stops here. Export CSV to get every row.")


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
        return gettext("Yes") if value else gettext("No")
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
    # Four cell formats: 0 plain, 1 bold (the header row), 2 a date and time, 3 a date (XLSX_DATE_FORMATS).
    "xl/styles.xml": _XML + (
        f'<styleSheet xmlns="{_NS}">'
        '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
        '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
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


# Excel counts days from 1899-12-30 (its serial dates); it wrongly holds 1900 a leap year, so dates before
# March 1900 would be a day off: those stay ISO 8601 text.
_EXCEL_EPOCH = date(1899, 12, 30).toordinal()
_EXCEL_FIRST_RIGHT_DAY = date(1900, 3, 1).toordinal()
_DATETIME_STYLE, _DATE_STYLE = ' s="2"', ' s="3"'
_SECONDS_A_DAY = 86_400


def xlsx_serial(value: date, zone: tzinfo | None = None) -> float | int | None:
    """A date or a moment as Excel's serial number (days since 1899-12-30, the time of day as the fraction), so
    Excel sorts and filters it as a date. A moment is read in `zone`, by default the site's time zone
    (settings.TIME_ZONE, the one the screens show): a .xlsx cell holds no zone. None before March 1900."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(zone or timezone.get_current_timezone())
    day = value.toordinal()
    if day < _EXCEL_FIRST_RIGHT_DAY:
        return None
    if not isinstance(value, datetime):
        return day - _EXCEL_EPOCH
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1_000_000
    return day - _EXCEL_EPOCH + seconds / _SECONDS_A_DAY


def _xlsx_row(number: int, values: Iterable[Any], letters: list[str], style: str = "",
              zone: tzinfo | None = None) -> str:
    cells = []
    for letter, value in zip(letters, values, strict=False):
        ref = f"{letter}{number}"
        if isinstance(value, date) and (serial := xlsx_serial(value, zone)) is not None:
            date_style = _DATETIME_STYLE if isinstance(value, datetime) else _DATE_STYLE
            cells.append(f'<c r="{ref}"{date_style}><v>{serial!r}</v></c>')
            continue
        value = cell(value)
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
    zone = timezone.get_current_timezone()  # the dates' (xlsx_serial)
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
                    batch = [*batch[:room], [str(TOO_MANY_ROWS)]]
                first = written + 2  # row 1 is the header
                sheet.write("".join(_xlsx_row(first + i, row, letters, zone=zone)
                                    for i, row in enumerate(batch)).encode())
                written += len(batch)
                yield sink.take()
                if written >= XLSX_MAX_ROWS:
                    break
            sheet.write(_SHEET_END.encode())
    yield sink.take()


WRITERS: dict[str, Callable[[Table], Iterator[bytes]]] = {CSV: csv_chunks, XLSX: xlsx_chunks}


def in_language(chunks: Iterator[bytes], language: str | None) -> Iterator[bytes]:
    """`chunks`, each written in `language`: a streamed file is written after the view has returned, when the
    request's language may no longer be the thread's (its Yes/No and its labels stay in the reader's language)."""
    while True:
        with translation.override(language):
            try:
                chunk = next(chunks)
            except StopIteration:
                return
        yield chunk


def streaming_response(table: Table, fmt: str) -> StreamingHttpResponse:
    """The table as a download, sent while it is read, in the language of whoever asked for it."""
    chunks = in_language(WRITERS[fmt](table), translation.get_language())
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[fmt])
    filename = f"{slugify(table.title) or 'export'}-{datetime.now(UTC):%Y-%m-%d}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["Cache-Control"] = "no-store"  # what a person may see is not kept by any cache
    return response


# --- what each screen exports ------------------------------------------------------------------------


