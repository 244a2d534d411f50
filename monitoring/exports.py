"""Tables as downloads: CSV that Excel opens in any language, and real XLSX workbooks."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

FORMATS = ("json", "csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell(value):
    """A value as a spreadsheet shows it: local time without zone, lists joined, None empty."""
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None, microsecond=0) if timezone.is_aware(value) else value
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return "" if value is None else value


def csv_bytes(headers: list[str], rows: list[list]) -> bytes:
    """UTF-8 CSV with a byte order mark, which is what makes Excel read Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_text(cell(v)) for v in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _text(value) -> str:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)


def xlsx_bytes(title: str, headers: list[str], rows: list[list]) -> bytes:
    """A workbook with one sheet: a bold header row, then one row per item."""
    workbook = Workbook(write_only=True)
    # Sheet titles: at most 31 characters, some punctuation refused.
    sheet = workbook.create_sheet(title="".join(c for c in title if c not in "[]:*?/\\")[:31] or "Report")
    sheet.append(headers)
    for row in rows:
        sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def download(fmt: str, name: str, headers: list[str], rows: list[list]) -> HttpResponse:
    """The table as a CSV or XLSX attachment named `name`.csv / .xlsx."""
    if fmt == "csv":
        response = HttpResponse(csv_bytes(headers, rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(xlsx_bytes(name, headers, rows), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
