"""CSV (with a byte-order mark, for Excel) and XLSX downloads of rows, with spreadsheet formulas defused."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook

Columns = tuple[tuple[str, str], ...]  # (key in the row, header label)


def defuse(value: Any) -> Any:
    """Defuse spreadsheet formulas in text cells (CSV/formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(columns: Columns, rows: Iterable[dict[str, Any]]) -> bytes:
    """UTF-8 CSV with a byte-order mark so spreadsheet programs read the Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for _key, label in columns])
    for row in rows:
        writer.writerow([defuse(row[key]) for key, _label in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(sheet_name: str, columns: Columns, rows: Iterable[dict[str, Any]]) -> bytes:
    """An Excel workbook with one sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.append([label for _key, label in columns])
    for row in rows:
        sheet.append([defuse(row[key]) for key, _label in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
