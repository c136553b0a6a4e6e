"""The batch scoring job behind ``diplostance score``: stream rows in, score them in fixed
windows, write each window as a part, join the parts into the output at the end.

Guarantees (each tested):
- one output row per input row, in input order (in document mode, one per passage, and
  one for a document that cannot be scored); unscorable rows carry ``error``;
- the output file appears only when complete (temporary file, fsync, rename);
- a killed run resumes from its last complete window with ``--resume`` and gives the
  same bytes as an uninterrupted run; the checkpoint names the input (size and sampled
  SHA-256) and the model (manifest fingerprint and backend) and refuses any other;
- SIGINT/SIGTERM stop at the next window boundary, with a checkpoint;
- probabilities are rounded to ``columns.PRECISION`` decimals, so output does not depend on
  batch size or on the run.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from diplostance.model.labels import LABELS
from diplostance.model.manifest import sha256_file

from .classifier import StanceClassifier
from .columns import scored_columns, with_parties
from .records import InputError, ReadStats, Record, count_rows, file_format, not_a_file, read_records
from .writers import (
    ABSTAINED_COLUMN,
    OUTPUT_COLUMNS,
    PASSAGE_COLUMNS,
    TOP_STANCE_COLUMN,
    join_parts,
    removed_on_failure,
    sidecar,
    write_part,
)

ON_ERROR = ("record", "fail")
SOURCE_COLUMN = "source_file"
"""With several inputs: the column naming the file each output row comes from (the path as given)."""


class RowError(RuntimeError):
    """--on-error fail met a row that cannot be scored."""


class Interrupted(RuntimeError):
    """SIGINT/SIGTERM arrived; the job stopped at a window boundary with a checkpoint."""


class ResumeError(ValueError):
    """A checkpoint exists but belongs to another input, model or setting."""


class OutputError(InputError):
    """--out cannot take the output (it is the input, or a folder). An InputError, so every caller that
    reports bad input files as one line reports this too."""


class WriteError(RuntimeError):
    """The disk refused a write (full, read-only, gone) after scoring began: the half-written file is
    removed and the checkpoint of the windows already written stays for --resume."""


def check_output(input: str | Path, output: str | Path, *, folder: bool = False) -> None:
    """Refuse, before any scoring, an output that would replace the input (same path, symlink or hard
    link) or, unless ``folder`` (Spark writes a Parquet folder), that is an existing folder, which would
    otherwise fail only at the very end."""
    input, output = Path(input), Path(output)
    if input.exists() and output.exists():
        same = os.path.samefile(input, output)
    else:
        same = os.path.abspath(input) == os.path.abspath(output)
    if same:
        raise OutputError(f"{output}: the output would overwrite the input; choose another --out")
    if not folder and output.is_dir():
        raise OutputError(f"{output}: is a folder; --out must name a file")


@dataclass
class ScoreConfig:
    """What `diplostance score` does. Defaults are the documented behaviour."""

    input: Path | list[Path]
    """One file; or a list of files (of one format) scored into one output, in order, each row with a
    ``source_file`` column naming its file."""
    output: Path
    text_column: str = "text"
    id_column: str | None = "id"
    window: int = 2048
    on_error: str = "record"
    resume: bool = False
    min_confidence: float | None = None
    documents: bool = False
    progress: bool = True
    speaker_column: str | None = None
    summary: Path | None = None
    """With ``documents``: also write one row per document here (``documents.summary_row``)."""
    limit: int | None = None
    """Score only the first ``limit`` rows (a quick look at a big file)."""


@dataclass
class ScoreSummary:
    rows: int = 0
    output_rows: int = 0
    scored: int = 0
    errors: int = 0
    blank_lines: int = 0
    resumed_from: int = 0
    dropped_keys: list[str] = field(default_factory=list)
    stances: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LABELS, 0))
    seconds: float = 0.0
    """Wall time of this run (a resumed run counts its own time)."""
    truncated: int = 0
    """Rows whose text had more word pieces than the model reads."""


def input_fingerprint(path: Path) -> dict:
    """Size and SHA-256 of the whole input: a resume proves every byte is the one already scored.
    Hashing runs at about 1 GB/s, scoring at a few hundred rows/s, so the whole-file hash costs
    well under 1% of any job (a sample of the ends would miss an edit in the middle)."""
    return {"size": path.stat().st_size, "sha256": sha256_file(path)}


def part_record(path: Path) -> dict:
    """Name, size and SHA-256 of a written part: the checkpoint's proof that the part is still whole."""
    if not path.is_file():
        return {"name": path.name, "size": None, "sha256": None}
    return {"name": path.name, "size": path.stat().st_size, "sha256": sha256_file(path)}


@contextmanager
def output_lock(output: Path) -> Iterator[None]:
    """Hold an exclusive lock for the output for the whole run, so two runs never write one --out.

    The lock file (``.<name>.diplostance-lock``, holding the pid) is removed at the end; a run that
    locked a file another run had just removed sees a different inode at the path and tries again.
    Missing folders above the output are made (``--out reports/x.jsonl`` on a fresh clone) and removed
    again when the run leaves them empty, so a run that fails before scoring leaves nothing behind.
    """
    made = missing_folders(Path(os.path.abspath(output)).parent)
    try:
        for folder in reversed(made):
            folder.mkdir()
    except OSError as error:
        raise OutputError(f"{output}: cannot make the folder for the output ({error.strerror})") from None
    try:
        with _locked(output):
            yield
    finally:
        for folder in made:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def missing_folders(folder: Path) -> list[Path]:
    """The folders from ``folder`` upwards that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


@contextmanager
def _locked(output: Path) -> Iterator[None]:
    path = sidecar(output, "diplostance-lock")
    while True:
        try:
            handle = path.open("a+")
        except OSError as error:
            raise OutputError(f"{output}: cannot write beside the output ({error.strerror})") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "?"
            handle.close()
            raise OutputError(
                f"{output}: another diplostance run (pid {other}) is writing this output; "
                "wait for it or use another --out"
            ) from None
        if path.exists() and os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
            break
        handle.close()
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        handle.close()


def work_dir_for(output: Path) -> Path:
    return sidecar(output, "diplostance-parts")


class _StopFlag:
    """Turns SIGINT/SIGTERM into a flag checked at window boundaries."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _StopFlag:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, _frame) -> None:
        self.signal = signum

    def __exit__(self, *_exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def write_document_summary(scored: Path, out: Path, id_column: str | None) -> None:
    """One row per document of a ``--documents`` output: its passages are consecutive and numbered from 0;
    a document that could not be scored is one error row and stays one."""
    from .documents import Passage, summary_row

    def summarised(number: int, rows: list[dict]) -> dict:
        first = rows[0]
        head = {"document": number} | {c: first.get(c) for c in (SOURCE_COLUMN, id_column) if c and c in first}
        if first.get("error"):
            return head | {"error": first["error"]}
        passages = [
            Passage(int(r["start"]), int(r["end"]), r["passage"], r.get("speaker") or None, r["stance"],
                    float(r["confidence"]), {label: float(r[f"p_{label}"]) for label in LABELS})
            for r in rows
        ]  # fmt: skip
        return head | summary_row(passages) | {"error": None}

    documents: list[dict] = []
    current: list[dict] = []
    for record in read_records(scored, text_column=None):
        row = record.columns
        if current and (row.get("passage_index") in (0, "0", None, "") or current[0].get("error")):
            documents.append(summarised(len(documents), current))
            current = []
        current.append(row)
    if current:
        documents.append(summarised(len(documents), current))
    columns = list(dict.fromkeys(k for d in documents for k in d))
    write_part(documents, out, file_format(out), columns, header=True)


def _windows(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    window: list[Record] = []
    for record in records:
        window.append(record)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window


class ScoreJob:
    def __init__(self, classifier: StanceClassifier, config: ScoreConfig) -> None:
        if config.on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {', '.join(ON_ERROR)}, got {config.on_error!r}")
        self.classifier = classifier
        self.config = config
        self.several = isinstance(config.input, (list, tuple))
        self.inputs = [Path(p) for p in config.input] if self.several else [Path(config.input)]
        if not self.inputs:
            raise InputError("no input file to score")
        formats = sorted({file_format(path) for path in self.inputs})
        if len(formats) > 1:
            raise InputError(f"the inputs mix formats ({', '.join(formats)}); score one format per run")
        self.in_format = formats[0]
        for path in self.inputs:
            if not path.is_file():
                raise InputError(f"{path}: {not_a_file(path)}")
            check_output(path, config.output)
        seen: set[Path] = set()
        for path in self.inputs:  # a glob over thousands of files: one resolve each
            if path.resolve() in seen:
                raise InputError(f"{path}: named twice among the inputs; every file is scored once")
            seen.add(path.resolve())
        self.out_format = file_format(config.output)
        self.work = work_dir_for(config.output)
        self.checkpoint_path = self.work / "checkpoint.json"
        self.summary = ScoreSummary()

    # -- checkpoint -------------------------------------------------------------------
    def _identity(self) -> dict:
        return {
            "input": self._per_input(lambda path: str(path.resolve())),
            "input_fingerprint": self._per_input(input_fingerprint),
            "model": self.classifier.fingerprint,
            "backend": self.classifier.backend.name,
            "text_column": self.config.text_column,
            "window": self.config.window,
            "min_confidence": self.config.min_confidence,
            "documents": self.config.documents,
            "speaker_column": self.config.speaker_column,
            "limit": self.config.limit,
            "output_format": self.out_format,
        }

    def _start(self, identity: dict) -> dict:
        """The state to continue from: a verified checkpoint with --resume, else a fresh work dir."""
        if self.config.resume and self.checkpoint_path.is_file():
            try:
                state = json.loads(self.checkpoint_path.read_text())
                state["identity"], state["parts"]  # noqa: B018 - the keys a resume needs
            except (ValueError, KeyError, TypeError) as error:
                raise ResumeError(
                    f"cannot resume: {self.checkpoint_path} is damaged ({error}); rerun without --resume to start over"
                ) from None
            for key, value in identity.items():
                if state["identity"].get(key) != value:
                    raise ResumeError(
                        f"cannot resume: the checkpoint in {self.work} was made with a different "
                        f"{key.replace('_', ' ')} "
                        f"({state['identity'].get(key)!r}, now {value!r}); rerun without --resume to start over"
                    )
            for part in state["parts"]:
                if part_record(self.work / part["name"]) != part:
                    raise ResumeError(
                        f"cannot resume: {self.work / part['name']} is missing or damaged (size or SHA-256 differs "
                        "from the checkpoint); rerun without --resume to start over"
                    )
            return state
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        state = {"identity": identity, "rows_done": 0, "parts": [], "columns": None, "summary": asdict(ScoreSummary())}
        self._save_checkpoint(state)
        return state

    def _per_input(self, measure):
        """``measure`` of the input, or the list of it over several inputs (the checkpoint's identity)."""
        values = [measure(path) for path in self.inputs]
        return values if self.several else values[0]

    def _save_checkpoint(self, state: dict) -> None:
        with self._disk(f"{state['rows_done']} rows were checkpointed before"):
            with removed_on_failure(self.checkpoint_path.with_suffix(".tmp")) as tmp:
                tmp.write_text(json.dumps(state))
                tmp.replace(self.checkpoint_path)

    # -- rows -------------------------------------------------------------------------
    def _columns(self, stats: ReadStats, window: list[Record]) -> list[str]:
        """Input columns (declared, or the first window's keys in order), then the output columns."""
        names = list(stats.columns or dict.fromkeys(k for r in window for k in r.columns))
        if self.config.documents:
            names = [n for n in names if n != self.config.text_column] + list(PASSAGE_COLUMNS)
        self._refuse_output_columns(names)
        extra = [ABSTAINED_COLUMN, TOP_STANCE_COLUMN] if self.config.min_confidence is not None else []
        return names + list(OUTPUT_COLUMNS) + extra

    def _refuse_output_columns(self, names) -> None:
        """An input column named like an output column would be overwritten: refuse it wherever it first
        appears (a JSONL key can turn up in any window, so every window is checked, not only the first)."""
        clash = [c for c in names if c in OUTPUT_COLUMNS or c in (ABSTAINED_COLUMN, TOP_STANCE_COLUMN)]
        if clash:
            raise InputError(f"{self._named()}: input already has output column {clash[0]!r}; rename it first")

    def _named(self, record: Record | None = None) -> str:
        """The input a message is about: the record's own file when there are several."""
        if not self.several:
            return str(self.config.input)
        return str(record.columns.get(SOURCE_COLUMN)) if record is not None else ", ".join(map(str, self.inputs))

    def _score_window(self, window: list[Record]) -> list[dict]:
        """Output rows of a window: one per record, or one per passage in document mode."""
        valid = [i for i, r in enumerate(window) if r.error is None]
        if self.config.documents:
            results = {i: self._document_rows(window[i]) for i in valid}
        else:
            texts = [window[i].text for i in valid]
            speakers = [self._speaker(window[i]) for i in valid]
            scored = self.classifier.score_rows(texts, speakers, self.config.min_confidence)
            results = {i: [{**window[i].columns, **row}] for i, row in zip(valid, scored)}
        rows: list[dict] = []
        for i, record in enumerate(window):
            if i in results:
                rows.extend(results[i])
                continue
            if self.config.on_error == "fail":
                row_id = record.columns.get(self.config.id_column) if self.config.id_column else None
                named = f" ({self.config.id_column}={row_id})" if row_id is not None else ""
                raise RowError(f"{self._named(record)}:{record.line}{named}: {record.error}")
            rows.append({**self._input_columns(record), **{c: None for c in OUTPUT_COLUMNS}, "error": record.error})
        return rows

    def _input_columns(self, record: Record) -> dict:
        """The input columns carried to output rows (document mode leaves out the long text)."""
        if not self.config.documents:
            return record.columns
        return {k: v for k, v in record.columns.items() if k != self.config.text_column}

    def _speaker(self, record: Record) -> str | None:
        """The row's speaker or source field (``--speaker-column``), which gives first-person text its actor."""
        value = record.columns.get(self.config.speaker_column) if self.config.speaker_column else None
        return value if isinstance(value, str) else None

    def _document_rows(self, record: Record) -> list[dict]:
        document = self.classifier.score_document(record.text)
        passages = document.passages
        scored = [
            scored_columns(np.array([p.probabilities[label] for label in LABELS]), self.config.min_confidence)
            for p in passages
        ]
        speakers = [p.speaker or self._speaker(record) for p in passages]
        described = with_parties(self.classifier, [p.text for p in passages], scored, speakers)
        return [
            {**self._input_columns(record), **dict(zip(PASSAGE_COLUMNS, (k, p.start, p.end, p.speaker, p.text))), **row}
            for k, (p, row) in enumerate(zip(passages, described))
        ]

    def _note_dropped(self, rows: list[dict], columns: list[str]) -> None:
        if self.out_format == "jsonl":
            return
        known = set(columns)
        for row in rows:
            for key in row:
                if key not in known and key not in self.summary.dropped_keys:
                    self.summary.dropped_keys.append(key)
                    print(
                        f"warning: input key {key!r} first appears after the first window; "
                        f"{self.out_format.upper()} output has no column for it",
                        file=sys.stderr,
                    )

    @contextmanager
    def _disk(self, saved: str) -> Iterator[None]:
        """A failed write becomes one line that says what is safe (the file itself is already removed)."""
        try:
            yield
        except OSError as error:
            raise WriteError(
                f"{self.config.output}: cannot write ({error.strerror or error}); {saved}: "
                "free space and rerun the same command with --resume"
            ) from None

    # -- run --------------------------------------------------------------------------
    def run(self) -> ScoreSummary:
        """Score the input into the output. A run that fails before its first window is written leaves no
        work folder behind (nothing to resume, and a stale checkpoint would trip a later --resume)."""
        # opening the reader checks the header or schema, so a bad input fails before the work folder exists
        with output_lock(self.config.output):
            stats = ReadStats()
            records = self._records(stats)
            state = self._start(self._identity())
            try:
                return self._run(state, records, stats)
            except Exception as error:
                if not state["parts"] or isinstance(error, InputError):  # nothing a --resume could continue
                    shutil.rmtree(self.work, ignore_errors=True)
                raise

    def _records(self, stats: ReadStats) -> Iterator[Record]:
        """The records of every input in turn. Each input's header or schema is checked here, before any
        work starts; with several inputs each record's columns begin with its ``source_file``."""
        if not self.several:
            records = read_records(self.inputs[0], self.config.text_column, stats)
            self._check_declared(self.inputs[0], stats.columns)
            return records
        declared = []
        for path in self.inputs:
            own = ReadStats()
            read_records(path, self.config.text_column, own).close()  # opened only to check it now
            self._check_declared(path, own.columns)
            declared.append(own.columns)
        if all(columns is not None for columns in declared):
            stats.columns = [SOURCE_COLUMN, *dict.fromkeys(c for columns in declared for c in columns)]
        return self._chained(stats)

    def _check_declared(self, path: Path, columns: list[str] | None) -> None:
        """The checks a declared header (CSV, Parquet) allows before scoring; JSONL declares none."""
        speaker = self.config.speaker_column
        if columns is not None and speaker is not None and speaker not in columns:
            raise InputError(f"{path}: no column {speaker!r} for --speaker-column")
        if columns is not None and self.several and SOURCE_COLUMN in columns:
            raise InputError(f"{path}: input already has column {SOURCE_COLUMN!r}; rename it first")

    def _chained(self, stats: ReadStats) -> Iterator[Record]:
        for path in self.inputs:
            own = ReadStats()
            for record in read_records(path, self.config.text_column, own):
                if SOURCE_COLUMN in record.columns:
                    raise InputError(f"{path}: input already has column {SOURCE_COLUMN!r}; rename it first")
                record.columns = {SOURCE_COLUMN: str(path)} | record.columns
                yield record
            stats.blank_lines += own.blank_lines

    def _run(self, state: dict, records: Iterator[Record], stats: ReadStats) -> ScoreSummary:
        from tqdm import tqdm

        config = self.config
        self.summary = ScoreSummary(**{**state["summary"], "resumed_from": state["rows_done"]})
        started = time.monotonic()
        counts = [count_rows(path) for path in self.inputs] if config.progress else [None]
        total = None if None in counts else sum(counts)
        if total is not None and config.limit is not None:
            total = min(total, config.limit)
        progress = tqdm(
            total=total, unit="rows", disable=not config.progress, initial=state["rows_done"], file=sys.stderr
        )
        remaining = itertools.islice(records, state["rows_done"], config.limit)
        with _StopFlag() as stop, progress:
            for window in _windows(remaining, config.window):
                if state["columns"] is None:
                    state["columns"] = self._columns(stats, window)
                self._refuse_output_columns({k for r in window for k in r.columns})
                rows = self._score_window(window)
                self._note_dropped(rows, state["columns"])
                part = self.work / f"part-{len(state['parts']):06d}.{self.out_format}"
                with self._disk(f"{state['rows_done']} rows are checkpointed"):
                    write_part(rows, part, self.out_format, state["columns"], header=not state["parts"])
                errors = sum(r.error is not None for r in window)
                self.summary.rows += len(window)
                self.summary.errors += errors
                self.summary.scored += len(window) - errors
                self.summary.output_rows += len(rows)
                for row in rows:
                    if row.get("stance") in self.summary.stances:
                        self.summary.stances[row["stance"]] += 1
                    self.summary.truncated += bool(row.get("truncated"))
                state["parts"].append(part_record(part))
                state["rows_done"] += len(window)
                state["summary"] = asdict(self.summary) | {"resumed_from": 0}
                self._save_checkpoint(state)
                progress.update(len(window))
                if stop.signal is not None:
                    raise Interrupted(
                        f"stopped by signal {signal.Signals(stop.signal).name} after {state['rows_done']} rows; "
                        "rerun the same command with --resume to continue"
                    )
        self.summary.blank_lines = stats.blank_lines
        self.summary.seconds = time.monotonic() - started
        if state["columns"] is None:  # an input with no rows still gives a valid (empty) output
            state["columns"] = self._columns(stats, [])
            write_part([], self.work / f"part-000000.{self.out_format}", self.out_format, state["columns"], True)
            state["parts"].append(part_record(self.work / f"part-000000.{self.out_format}"))
        if self._per_input(input_fingerprint) != state["identity"]["input_fingerprint"]:
            raise InputError(f"{self._named()}: the input changed while it was being scored; rerun the job")
        text_column = "passage" if config.documents else config.text_column
        parts = [self.work / p["name"] for p in state["parts"]]
        with self._disk("every row is scored and checkpointed"):
            join_parts(parts, config.output, self.out_format, state["columns"], text_column, self.in_format == "csv")
        self.checkpoint_path.unlink()  # first, so a kill during clean-up never leaves a checkpoint without parts
        shutil.rmtree(self.work)
        if config.documents and config.summary is not None:
            with self._disk("the scored output is complete"):
                write_document_summary(config.output, config.summary, config.id_column)
        return self.summary
