"""Spreadsheet files of tickets: Excel (openpyxl) and CSV (UTF-8 with a BOM, so Excel reads the accents).

Cells are written for people opening them in a spreadsheet program, so every text that the program
could run as a formula (it starts with ``= + - @``, a tab or a carriage return) is prefixed with ``'``
(CSV/formula injection), and characters XML cannot hold are dropped (openpyxl would refuse them).
People appear as their ids for now; times are UTC.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
MEDIA_TYPES = {"xlsx": XLSX_MEDIA_TYPE, "csv": CSV_MEDIA_TYPE}

# The columns of seed 001's download, then the tags: (header, ticket field).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Number", "number"),
    ("Title", "title"),
    ("Description", "description"),
    ("Requester", "requester_id"),
    ("Assignee", "assignee_id"),
    ("Category", "category"),
    ("Priority", "priority"),
    ("Status", "status"),
    ("Department", "department_id"),
    ("Created", "created_at"),
    ("Updated", "updated_at"),
    ("Closed", "closed_at"),
    ("Tags", "tags"),
)
TIME_FIELDS = frozenset({"created_at", "updated_at", "closed_at"})

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_CELL_MAX = 32767
MIN_WIDTH, MAX_WIDTH = 8, 60
TIME_FORMAT = "yyyy-mm-dd hh:mm"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill(fill_type="solid", start_color="FFD9E1F2", end_color="FFD9E1F2")


def neutralise(text: str) -> str:
    """Return ``text`` so that no spreadsheet program runs it as a formula."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def filename(extension: str, *, today: datetime | None = None) -> str:
    """Return the download's file name: ``tickets-YYYYMMDD.<extension>`` (UTC date)."""
    return f"tickets-{(today or datetime.now(UTC)):%Y%m%d}.{extension}"


def tickets_xlsx(tickets: Iterable[dict[str, Any]]) -> bytes:
    """Return an Excel workbook of the tickets: bold filled header, frozen, filterable, fitted columns."""
    rows = [[_xlsx_value(ticket, name) for _, name in COLUMNS] for ticket in tickets]
    workbook = Workbook(write_only=True)  # streams rows: several times faster than a normal sheet
    sheet = workbook.create_sheet("Tickets")
    for index, width in enumerate(_widths(rows), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(rows) + 1}"
    sheet.append([_header_cell(sheet, header) for header, _ in COLUMNS])
    styles = [_column_style(name) for _, name in COLUMNS]
    for row in rows:
        sheet.append([_cell(sheet, value, style) for value, style in zip(row, styles, strict=True)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def tickets_csv(tickets: Iterable[dict[str, Any]]) -> bytes:
    """Return the tickets as CSV in UTF-8 with a byte order mark (Excel then reads it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for header, _ in COLUMNS])
    for ticket in tickets:
        writer.writerow([_csv_value(ticket, name) for _, name in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value)
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def _xlsx_value(ticket: dict[str, Any], name: str) -> Any:
    value = ticket.get(name)
    if name in TIME_FIELDS and value:
        moment = _utc(value)
        if moment is not None:
            return moment.replace(tzinfo=None)  # Excel has no time zones: the file says UTC
    return _text(value)[:EXCEL_CELL_MAX]


def _csv_value(ticket: dict[str, Any], name: str) -> str:
    value = ticket.get(name)
    if name in TIME_FIELDS and value:
        moment = _utc(value)
        if moment is not None:
            return moment.isoformat(timespec="seconds")
    return _text(value)


def _utc(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _widths(rows: list[list[Any]]) -> list[float]:
    widths = [len(header) for header, _ in COLUMNS]
    for row in rows:
        for index, value in enumerate(row):
            widths[index] = max(widths[index], _display_width(value))
    return [min(max(width + 2, MIN_WIDTH), MAX_WIDTH) for width in widths]


def _header_cell(sheet: Any, header: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=header)
    cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    return cell


def _column_style(name: str) -> dict[str, Any]:
    if name in TIME_FIELDS:
        return {"number_format": TIME_FORMAT}
    if name == "description":
        return {"alignment": Alignment(vertical="top", wrap_text=True)}
    return {}


def _cell(sheet: Any, value: Any, style: dict[str, Any]) -> Any:
    if not style or value in ("", None):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    for attribute, setting in style.items():
        setattr(cell, attribute, setting)
    return cell


def _display_width(value: Any) -> int:
    if isinstance(value, datetime):
        return len("yyyy-mm-dd hh:mm")
    return max((len(line) for line in str(value).splitlines()), default=0)
