"""Reading a stock CSV: encoding, header and the syntax of each row (no database here)."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

from o2o.inventory.exceptions import ImportRejected, ImportTooLarge, ImportUnreadable
from o2o.inventory.schemas import MAX_QTY, ImportRowError

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_NOTE = 300
ID_COLUMNS = ("variant_id", "sku", "barcode")
QTY_COLUMNS = ("on_hand", "delta")
_INTEGER = re.compile(r"^[+-]?\d{1,9}$")


@dataclass
class ParsedRow:
    row: int
    ids: dict[str, str]  # identifier column -> value, only those filled in
    mode: str = ""  # "on_hand" (set) or "delta" (add/remove)
    qty: int = 0
    note: str = ""
    errors: list[ImportRowError] = field(default_factory=list)

    def fail(self, column: str | None, code: str, message: str) -> None:
        self.errors.append(ImportRowError(row=self.row, column=column, code=code, message=message))


def _unreadable(code: str, message: str, *, row: int = 0) -> ImportUnreadable:
    return ImportUnreadable(
        message,
        field="file",
        errors=[ImportRowError(row=row, column=None, code=code, message=message).model_dump()],
    )


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), or GBK."""
    if len(data) > MAX_BYTES:
        raise ImportTooLarge(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        candidates = ("utf-8-sig", "gbk")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise _unreadable(
        "bad_encoding", "The file is not text in UTF-8 or GBK; save it as 'CSV UTF-8'."
    )


def _column(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lstrip("\ufeff").lower())


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse(text: str) -> tuple[list[ParsedRow], list[str]]:
    """Rows with their syntax errors, and the identifier columns the file uses."""
    if not text.strip():
        raise _unreadable("empty_file", "The file is empty; it needs a header row and data rows.")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text.split("\n", 1)[0]))
    try:
        header = [_column(c) for c in next(reader)]
        header_errors = _check_header(header)
        if header_errors:
            raise ImportRejected(
                header_errors[0].message,
                field="file",
                errors=[e.model_dump() for e in header_errors],
            )
        rows: list[ParsedRow] = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise ImportTooLarge(f"The file has more than {MAX_ROWS} rows; split it.")
            values = dict(zip(header, (c.strip() for c in cells), strict=False))
            rows.append(_parse_row(reader.line_num, values))
    except csv.Error as exc:
        raise _unreadable(
            "malformed_csv", f"Line {reader.line_num} is not valid CSV: {exc}.", row=reader.line_num
        ) from exc
    return rows, [c for c in ID_COLUMNS if c in header]


def _check_header(header: list[str]) -> list[ImportRowError]:
    errors: list[ImportRowError] = []
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            errors.append(
                ImportRowError(
                    row=1,
                    column=name,
                    code="duplicate_column",
                    message=f"Column '{name}' appears twice in the header.",
                )
            )
        seen.add(name)
    if not seen & set(ID_COLUMNS):
        errors.append(
            ImportRowError(
                row=1,
                column="sku",
                code="missing_column",
                message="The header needs a 'sku', 'barcode' or 'variant_id' column.",
            )
        )
    if not seen & set(QTY_COLUMNS):
        errors.append(
            ImportRowError(
                row=1,
                column="on_hand",
                code="missing_column",
                message="The header needs an 'on_hand' (set) or 'delta' (add/remove) column.",
            )
        )
    return errors


def _parse_row(number: int, values: dict[str, str]) -> ParsedRow:
    parsed = ParsedRow(number, {c: values[c] for c in ID_COLUMNS if values.get(c)})
    if not parsed.ids:
        present = next(c for c in ID_COLUMNS if c in values or c == "barcode")
        parsed.fail(present, "missing_value", "The row names no product (sku/barcode/variant_id).")
    filled = [c for c in QTY_COLUMNS if values.get(c)]
    if not filled:
        column = next((c for c in QTY_COLUMNS if c in values), "on_hand")
        parsed.fail(column, "missing_value", "The row has no quantity (on_hand or delta).")
    elif len(filled) > 1:
        parsed.fail("delta", "conflicting_values", "Give on_hand or delta in a row, not both.")
    else:
        parsed.mode = filled[0]
        _parse_qty(parsed, values[parsed.mode])
    note = values.get("note", "")
    if len(note) > MAX_NOTE:
        parsed.fail("note", "note_too_long", f"The note is longer than {MAX_NOTE} characters.")
    parsed.note = note[:MAX_NOTE]
    return parsed


def _parse_qty(parsed: ParsedRow, raw: str) -> None:
    column = parsed.mode
    if not _INTEGER.match(raw):
        parsed.fail(column, "not_an_integer", f"'{raw}' is not a whole number.")
        return
    qty = int(raw)
    if column == "on_hand" and qty < 0:
        parsed.fail(column, "negative_quantity", "on_hand cannot be negative; use delta.")
    elif abs(qty) > MAX_QTY:
        parsed.fail(column, "quantity_too_large", f"Quantities are limited to {MAX_QTY}.")
    parsed.qty = qty
