"""Streaming readers for JSONL, CSV and Parquet that never drop a row.

Each reader yields one ``Record`` per input row, in order: its 1-based line (or row)
number, the row's columns as read, and either the text to score or the reason it cannot
be scored. A malformed JSON line, an undecodable byte sequence, a CSV record with an
unclosed quote or the wrong number of fields, a null or a number where text should be:
each becomes a Record with ``error`` set, never an exception and never a skipped row.
Only whitespace-only lines of a JSONL file are not rows (they are counted and reported).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow.parquet as pq

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""json.loads joins escaped pairs into one character, so a surrogate left in a string has no partner."""
MAX_CSV_RECORD_LINES = 200
"""A quoted CSV field may span lines; past this many, the quote is taken as unclosed."""


class InputError(ValueError):
    """The input as a whole cannot be read (missing file, unknown format, no text column)."""


@dataclass
class Record:
    line: int
    columns: dict = field(default_factory=dict)
    text: str | None = None
    error: str | None = None


@dataclass
class ReadStats:
    """What a reader learned besides the records: blank lines skipped, declared columns."""

    blank_lines: int = 0
    columns: list[str] | None = None


def file_format(path: str | Path) -> str:
    """'jsonl', 'csv' or 'parquet' from the file extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{path}: unsupported extension {suffix!r}; use .jsonl, .csv or .parquet")
    return FORMATS[suffix]


def text_error(value: object, column: str) -> str | None:
    """Why ``value`` cannot be scored as text, or None if it can."""
    if value is None:
        return f"{column!r} is null"
    if not isinstance(value, str):
        return f"{column!r} is {type(value).__name__}, not a string"
    if not value.strip():
        return f"{column!r} is empty"
    return None


def _record(line: int, columns: dict, text_column: str | None) -> Record:
    if text_column is None:  # reading rows as they are (``show``), not for scoring
        return Record(line, columns)
    if text_column not in columns:
        return Record(line, columns, error=f"line {line}: missing {text_column!r} field")
    value = columns[text_column]
    problem = text_error(value, text_column)
    return Record(line, columns, value if problem is None else None, f"line {line}: {problem}" if problem else None)


def read_jsonl(path: Path, text_column: str | None, stats: ReadStats) -> Iterator[Record]:
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            if not raw.strip():
                stats.blank_lines += 1
                continue
            try:
                decoded = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                yield Record(line_no, error=f"line {line_no}: undecodable bytes (not UTF-8: {error.reason})")
                continue
            try:
                value = json.loads(decoded)
            except json.JSONDecodeError as error:
                yield Record(line_no, error=f"line {line_no}: malformed JSON ({error.msg})")
                continue
            if not isinstance(value, dict):
                yield Record(line_no, error=f"line {line_no}: a JSON {type(value).__name__}, not an object")
                continue
            surrogate = next((k for k, v in value.items() if _has_lone_surrogate(k) or _has_lone_surrogate(v)), None)
            if surrogate is not None:
                yield Record(
                    line_no,
                    {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()},
                    error=f"line {line_no}: {_replace_surrogates(surrogate)!r} holds a lone surrogate "
                    "(a \\ud800-style escape that is not valid Unicode); shown as U+FFFD",
                )
                continue
            yield _record(line_no, value, text_column)


def _has_lone_surrogate(value: object) -> bool:
    """JSON may escape half of a UTF-16 pair ("\\ud800"); such a string cannot be tokenised or written as UTF-8."""
    if isinstance(value, str):
        return LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _replace_surrogates(value: object) -> object:
    """The value with every lone surrogate replaced by U+FFFD, so that the error row can be written."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    return value


def _physical_lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """(line number, text) per physical line; text None when the bytes are not UTF-8."""
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            try:
                yield line_no, raw.decode("utf-8")
            except UnicodeDecodeError:
                yield line_no, None


def _check_text_column(path: Path, text_column: str | None, names: list[str]) -> None:
    """A missing text column is a file-level problem: say so once, with the columns there are."""
    if text_column is not None and text_column not in names:
        raise InputError(f"{path}: no column {text_column!r} (columns: {', '.join(names)}); use --text-column")


def read_csv(path: Path, text_column: str | None, stats: ReadStats) -> Iterator[Record]:
    """Check the header now (so a bad file fails before any work starts), then stream the records."""
    lines = _physical_lines(path)
    header_line = next(lines, None)
    if header_line is None or header_line[1] is None:
        raise InputError(f"{path}: empty file or unreadable header")
    header = next(csv.reader([header_line[1]]))
    _check_text_column(path, text_column, header)
    stats.columns = header
    return _csv_records(lines, header, text_column, stats)


def _csv_records(
    lines: Iterator[tuple[int, str | None]], header: list[str], text_column: str | None, stats: ReadStats
) -> Iterator[Record]:
    """CSV records assembled line by line, so one broken quote costs one row, not the rest of the file."""
    replay: deque[tuple[int, str | None]] = deque()
    pending: list[tuple[int, str]] = []

    def next_line() -> tuple[int, str | None] | None:
        return replay.popleft() if replay else next(lines, None)

    while True:
        item = next_line()
        if item is None and not pending:
            return
        if item is not None and item[1] is None:
            if pending:  # an undecodable line inside a pending record breaks that record
                replay.appendleft(item)
                item = None
            else:
                yield Record(item[0], error=f"line {item[0]}: undecodable bytes (not UTF-8)")
                continue
        if item is not None:
            if not pending and not item[1].strip():
                stats.blank_lines += 1
                continue
            pending.append(item)  # type: ignore[arg-type]
            joined = "".join(text for _, text in pending)
            if joined.count('"') % 2 == 1 and len(pending) < MAX_CSV_RECORD_LINES:
                continue  # a quoted field goes on to the next line
            if joined.count('"') % 2 == 0:
                fields = next(csv.reader(io.StringIO(joined)), [])
                first = pending[0][0]
                pending = []
                if len(fields) != len(header):
                    yield Record(first, error=f"line {first}: expected {len(header)} fields, found {len(fields)}")
                else:
                    yield _record(first, dict(zip(header, fields)), text_column)
                continue
        # unclosed quote: the first line is the broken record; the lines after it are read again
        first = pending[0][0]
        replay.extendleft(reversed(pending[1:]))
        pending = []
        yield Record(first, error=f"line {first}: unclosed quote in CSV record")


def read_parquet(path: Path, text_column: str | None, stats: ReadStats) -> Iterator[Record]:
    """Open and check the schema now (so a corrupt file fails before any work starts), then stream the rows."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError...; the user needs one line
        raise InputError(f"{path}: not a readable Parquet file ({error})") from None
    _check_text_column(path, text_column, parquet.schema_arrow.names)
    stats.columns = list(parquet.schema_arrow.names)
    return _parquet_records(parquet, text_column)


def _parquet_records(parquet: pq.ParquetFile, text_column: str | None) -> Iterator[Record]:
    row = 0
    for batch in parquet.iter_batches(batch_size=4096):
        for columns in batch.to_pylist():
            row += 1
            yield _record(row, columns, text_column)


READERS = {"jsonl": read_jsonl, "csv": read_csv, "parquet": read_parquet}


def read_records(
    path: str | Path, text_column: str | None = "text", stats: ReadStats | None = None
) -> Iterator[Record]:
    """Records of ``path`` in input order, one per row. Raises InputError only for file-level problems,
    and for CSV and Parquet raises it here, before the first record is asked for. ``text_column=None``
    reads the rows as they are, with no text to score (``error`` only for rows that cannot be parsed)."""
    path = Path(path)
    reader = READERS[file_format(path)]
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return reader(path, text_column, stats if stats is not None else ReadStats())
