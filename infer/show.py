"""``diplostance show``: a scored file, in any output format, as a table of stance, confidence and text.

Reads the rows as they are (``read_records`` with no text column), so a CSV file, whose numbers come
back as text, shows like a JSONL or Parquet file. Streams: ``limit`` stops reading once enough rows
are shown.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path

from diplostance.model.labels import LABELS

from .records import InputError, ReadStats, Record, read_records
from .writers import ABSTAINED_COLUMN, OUTPUT_COLUMNS, PASSAGE_COLUMNS, TOP_STANCE_COLUMN, recorded_text_column

SHOWN_STANCES = (*LABELS, "error")
"""What ``--stance`` accepts: a label, or ``error`` for the rows that could not be scored."""
HEADER = f"{'stance':<12} {'conf':>5}  text"
_ESCAPES = {code: repr(chr(code))[1:-1] for code in (*range(32), 127)}
"""Control characters (newlines above all) shown as escapes, so one row stays one line."""


def text_column_of(path: Path, columns: Sequence[str], declared: str | None = None) -> str:
    """The column holding the text: ``declared`` (--text-column), else the one `score` recorded (Parquet),
    else ``passage`` (document mode), else ``text`` or the only input column."""
    if declared is not None:
        if columns and declared not in columns:
            raise InputError(f"{path}: no column {declared!r} (columns: {', '.join(columns)})")
        return declared
    recorded = recorded_text_column(path)
    if recorded is not None:
        return recorded
    if "passage" in columns:
        return "passage"
    added = {*OUTPUT_COLUMNS, *PASSAGE_COLUMNS, ABSTAINED_COLUMN, TOP_STANCE_COLUMN}
    inputs = [c for c in columns if c not in added]
    if "text" in inputs or not inputs:
        return "text"
    if len(inputs) == 1:
        return inputs[0]
    raise InputError(f"{path}: cannot tell which column holds the text ({', '.join(inputs)}); use --text-column")


def _confidence(value: object) -> str:
    """Two decimals; CSV gives the number back as text, and an error row has none."""
    if value is None or value == "":
        return ""
    try:
        return f"{float(str(value)):.2f}"
    except (TypeError, ValueError):
        return str(value)[:5]


def _line(record: Record, text_column: str, width: int) -> str:
    row = record.columns
    value = row.get(text_column)
    text = "" if value is None else str(value)
    reason = row.get("error") or record.error  # record.error: a line of the scored file that does not parse
    if reason:
        text = f"[{reason}] {text}".rstrip()
    text = text.translate(_ESCAPES)
    shown = text if len(text) <= width else text[: width - 1] + "…"
    return f"{row.get('stance') or 'error':<12} {_confidence(row.get('confidence')):>5}  {shown}"


def show_lines(
    path: Path,
    text_column: str | None = None,
    *,
    width: int = 90,
    limit: int | None = None,
    stance: str | None = None,
) -> Iterator[str]:
    """The header, then one line per row (only rows of ``stance`` if given, at most ``limit``).
    Raises InputError, before the first line, when the file cannot be shown."""
    if stance is not None and stance not in SHOWN_STANCES:
        raise InputError(f"unknown stance {stance!r}: expected one of {', '.join(SHOWN_STANCES)}")
    stats = ReadStats()
    records = read_records(path, None, stats)
    first = next(records, None)
    columns = stats.columns or (list(first.columns) if first is not None else [])
    if columns and "stance" not in columns:
        raise InputError(f"{path}: no 'stance' column; is it a file written by `diplostance score`?")
    column = text_column_of(path, columns, text_column)
    yield HEADER
    shown = 0
    for record in chain([first] if first is not None else [], records):
        if limit is not None and shown >= limit:
            return
        if stance is not None and (record.columns.get("stance") or "error") != stance:
            continue
        yield _line(record, column, width)
        shown += 1
