"""The labelled corpus: loading (JSONL/CSV/Parquet through ``datasets``), schema checks, splits.

Every row of the corpus has: id, text, label, source (real|authored), origin,
speaker_or_source, date, split (train|dev|test), hard. Files a user brings need only
``text`` and ``label``; rows without a split are assigned one by a stable hash of their
group (``origin`` if present, else the text), so passages of one source document never
straddle splits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import datasets
from diplostance.model.labels import LABEL2ID, LABELS

SPLITS = ("train", "dev", "test", "heldout_dev", "heldout_test")
HELDOUT_SPLITS = SPLITS[3:]
CORPUS_FILE = Path(__file__).resolve().parent.parent / "data" / "corpus.jsonl"
LOADERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


class DataError(ValueError):
    """A training file that cannot be used; the message names the file, line and value."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    split: str
    source: str = "real"
    hard: bool = False
    id: str = ""
    issue: str | None = None
    actor: str | None = None
    counterpart: str | None = None
    speaker: str | None = None


def split_for_group(group: str) -> str:
    """The split of a group key: stable across machines and Python versions (sha1, not hash())."""
    bucket = int(hashlib.sha1(group.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    train, dev, _ = SPLIT_FRACTIONS
    return "train" if bucket < train else "dev" if bucket < train + dev else "test"


def _first_row_line(path: Path) -> int:
    """Line number of a file's first data row (CSV files have a header)."""
    return 2 if path.suffix == ".csv" else 1


def load_examples(paths: list[str | Path], *, text_column: str = "text", label_column: str = "label") -> list[Example]:
    """Read and validate labelled rows from each file; raise DataError on the first bad one. Labels are
    matched case-insensitively ("Refusing" is refusing)."""
    examples: list[Example] = []
    for path in map(Path, paths):
        loader = LOADERS.get(path.suffix.lower())
        if loader is None:
            raise DataError(f"{path}: unsupported file type {path.suffix!r} (use .jsonl, .csv or .parquet)")
        if not path.is_file():
            raise DataError(f"{path}: no such file")
        try:
            table = datasets.load_dataset(loader, data_files=str(path), split="train")
        except Exception as error:  # datasets raises many types; the user needs the file and the reason
            raise DataError(f"{path}: cannot be read as {path.suffix}: {error}") from None
        for column, option in ((text_column, "--text-column"), (label_column, "--label-column")):
            if column not in table.column_names:
                raise DataError(f"{path}: no {column!r} column (found {', '.join(table.column_names)}); use {option}")
        first = _first_row_line(path)
        for index, row in enumerate(table):
            row = row | {"text": row[text_column], "label": _folded(row[label_column])}
            examples.append(_validated(row, f"{path}:{first + index}"))
    return examples


def _folded(label: object) -> object:
    return label.strip().lower() if isinstance(label, str) else label


def _validated(row: dict, where: str) -> Example:
    text, label = row.get("text"), row.get("label")
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: text is missing or empty ({text!r})")
    if label not in LABEL2ID:
        raise DataError(f"{where}: invalid label {label!r}; expected one of {', '.join(LABELS)}")
    split = row.get("split") or split_for_group(str(row.get("origin") or text))
    if split not in SPLITS:
        raise DataError(f"{where}: invalid split {split!r}; expected one of {', '.join(SPLITS)}")
    return Example(
        text=text,
        label=label,
        split=split,
        source=str(row.get("source") or "real"),
        hard=bool(row.get("hard") or False),
        id=str(row.get("id") or where),
        issue=row.get("issue") or None,
        actor=row.get("actor") or None,
        counterpart=row.get("counterpart") or None,
        speaker=row.get("speaker_or_source") or None,
    )


def by_split(examples: list[Example]) -> dict[str, list[Example]]:
    return {split: [e for e in examples if e.split == split] for split in SPLITS}
