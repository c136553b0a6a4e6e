"""The `diplostance` command: a thin layer that fills the config dataclasses and reports.

Every expected failure (missing file, bad column, unsafe model folder, bad label, a row
that cannot be scored under --on-error fail) ends with one line on stderr and exit code 2;
an interrupted job ends with exit code 130 and says how to resume.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from diplostance.model.classifier import ModelFolderError
from diplostance.model.manifest import ManifestError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Stance of government statements toward cooperation: cooperative, conditional, refusing, none.",
)

ModelOption = Annotated[
    Path | None, typer.Option("--model", help="Model folder (default: $DIPLOSTANCE_MODEL or the user cache).")
]
BackendOption = Annotated[
    str,
    typer.Option("--backend", help="auto (bf16 where the CPU has it, else onnx), bf16, torch (fp32) or onnx (int8)."),
]
MinConfidenceOption = Annotated[
    float | None,
    typer.Option(
        "--min-confidence", min=0.0, max=1.0, help="Below this top probability the label becomes none (abstain)."
    ),
]
ThreadsOption = Annotated[int | None, typer.Option("--threads", help="CPU threads (default: one per core).")]
QUIET_LIBRARIES = {
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
}
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (ModelFolderError, ManifestError, FileNotFoundError)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"diplostance {version('diplostance')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Stance of government statements toward cooperation: cooperative, conditional, refusing, none."""


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _load(model: Path | None, backend: str, batch_size: int = 32, threads: int | None = None):
    from .classifier import StanceClassifier

    return StanceClassifier.from_pretrained(model, backend=backend, batch_size=batch_size, threads=threads)


@app.command()
def train(
    data: Annotated[list[Path] | None, typer.Option("--data", help="Labelled JSONL/CSV/Parquet (repeatable).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Model folder to write.")] = None,
    base_model: Annotated[Path | None, typer.Option("--base-model", help="Pretrained encoder folder.")] = None,
    epochs: Annotated[int, typer.Option(help="Maximum epochs (early stopping on held-out dev macro-F1).")] = 4,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 13,
    max_length: Annotated[int, typer.Option("--max-length", help="Word pieces kept per text.")] = 128,
    learning_rate: Annotated[float, typer.Option("--learning-rate", help="Peak learning rate.")] = 6e-5,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Training rows per step.")] = 16,
    bf16: Annotated[bool, typer.Option("--bf16/--fp32", help="bfloat16 autocast (fast on AVX512-BF16/AMX).")] = True,
    teacher_logits: Annotated[
        Path | None, typer.Option("--teacher-logits", help="Distil from a teacher-logits folder (data/distill).")
    ] = None,
    transfer_size: Annotated[int, typer.Option("--transfer-size", help="Unlabelled teacher rows used (-1: all).")] = -1,
    prior_shift: Annotated[
        bool,
        typer.Option(
            "--prior-shift/--no-prior-shift",
            help="Fit per-class logit offsets with the temperature on the selection split (held-out dev).",
        ),
    ] = True,
    freeze_word_embeddings: Annotated[
        bool,
        typer.Option(
            "--freeze-word-embeddings/--train-word-embeddings",
            help="Keep the pretrained word-piece embeddings fixed (words the corpus lacks keep their meaning).",
        ),
    ] = False,
) -> None:
    """Fine-tune the classifier, calibrate it, evaluate on the test splits and write the model folder."""
    from diplostance.train.data import DataError
    from diplostance.train.finetune import TrainConfig
    from diplostance.train.finetune import train as run_training

    config = TrainConfig(
        epochs=epochs,
        seed=seed,
        max_length=max_length,
        base_model=base_model,
        learning_rate=learning_rate,
        batch_size=batch_size,
        bf16=bf16,
        teacher_logits=teacher_logits,
        transfer_size=transfer_size,
        prior_shift=prior_shift,
        freeze_word_embeddings=freeze_word_embeddings,
    )
    if data:
        config.data = list(data)
    if out:
        config.out = out
    try:
        metrics = run_training(config)
    except (DataError, *EXPECTED_ERRORS) as error:
        raise _fail(str(error)) from None
    typer.echo(f"model written to {config.out}")
    for name in ("test", "heldout_test"):
        if name in metrics:
            m = metrics[name]
            typer.echo(f"{name}: n={m['n']} macro_f1={m['macro_f1']:.3f} ece={m['ece']:.3f}")


@app.command()
def score(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            metavar="INPUT...",
            help="Input .jsonl, .csv or .parquet (.gz or .zst too); '-' for stdin. Several files or a quoted glob "
            "('data/*.csv') go into one output with a source_file column.",
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Output .jsonl, .csv or .parquet (.gz or .zst too); '-' for stdout.")
    ],
    model: ModelOption = None,
    text_column: Annotated[str, typer.Option("--text-column", help="Column holding the statement.")] = "text",
    id_column: Annotated[str, typer.Option("--id-column", help="Named in error messages.")] = "id",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Rows per torch batch.")] = 32,
    window: Annotated[int, typer.Option("--window", min=1, help="Rows per checkpoint.")] = 2048,
    backend: BackendOption = "auto",
    threads: ThreadsOption = None,
    on_error: Annotated[
        str, typer.Option("--on-error", help="record: keep going, error column; fail: stop.")
    ] = "record",
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its checkpoint.")] = False,
    min_confidence: MinConfidenceOption = None,
    documents: Annotated[
        bool, typer.Option("--documents", help="Each row is a document: one output row per passage.")
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")] = True,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Score only the first N rows.")] = None,
    summary: Annotated[
        Path | None,
        typer.Option("--summary", help="With --documents: also write one row per document (.jsonl/.csv/.parquet)."),
    ] = None,
    speaker_column: Annotated[
        str | None,
        typer.Option(
            "--speaker-column",
            help="Column naming the speaker or source (e.g. speaker_or_source): gives first-person text its actor.",
        ),
    ] = None,
    stream_format: Annotated[
        str, typer.Option("--format", help="Format of '-' (stdin/stdout): jsonl or csv.")
    ] = "jsonl",
    engine: Annotated[str, typer.Option("--engine", help="local, or spark (writes a Parquet folder).")] = "local",
    master: Annotated[str, typer.Option("--master", help="Spark master, with --engine spark.")] = "local[2]",
) -> None:
    """Score every row of a file; one output row per input row, in order."""
    from .records import InputError, file_format, not_a_file

    try:  # the cheap checks, before torch and the model load (seconds); Spark checks its own paths
        input = expand_inputs(inputs)
        paths = input if isinstance(input, list) else [input]
        if len(paths) > 1 and (engine == "spark" or "-" in map(str, paths)):
            raise InputError("several inputs work with the local engine and without '-'")
        if stream_format not in ("jsonl", "csv"):
            raise InputError(f"--format must be jsonl or csv, got {stream_format!r}")
        if "-" in (str(input), str(out)) and (engine == "spark" or (resume and str(input) == "-")):
            raise InputError("'-' (stdin/stdout) works with the local engine and without --resume")
        if engine != "spark":
            for path in paths:
                if str(path) != "-" and not path.is_file():
                    raise InputError(f"{path}: {not_a_file(path)}")
            for path in [*paths, out]:
                if str(path) != "-":
                    file_format(path)
        if summary is not None:
            if not documents:
                raise InputError("--summary needs --documents (it writes one row per document)")
            file_format(summary)
    except InputError as error:
        raise _fail(str(error)) from None
    from .job import Interrupted, ResumeError, RowError, ScoreConfig, ScoreJob, WriteError

    if engine == "spark":
        from .spark import score_files_with_spark

        try:
            rows = score_files_with_spark(
                input,
                out,
                model,
                master=master,
                text_column=text_column,
                backend=backend,
                batch_size=batch_size,
                min_confidence=min_confidence,
                threads=threads or 1,
            )
        except (InputError, ImportError, ValueError, *EXPECTED_ERRORS) as error:
            raise _fail(str(error)) from None
        typer.echo(f"{rows} rows -> {out} (Parquet folder, Spark {master})", err=True)
        return
    if engine != "local":
        raise _fail(f"unknown engine {engine!r}: expected local or spark")

    try:
        with _standard_streams(input, out, stream_format) as (input_path, out_path):
            config = ScoreConfig(
                input=input_path,
                output=out_path,
                text_column=text_column,
                id_column=id_column,
                window=window,
                on_error=on_error,
                resume=resume,
                min_confidence=min_confidence,
                documents=documents,
                progress=progress,
                speaker_column=speaker_column,
                summary=summary,
                limit=limit,
            )
            result = ScoreJob(_load(model, backend, batch_size, threads), config).run()
    except Interrupted as stop:
        raise _fail(str(stop), 130) from None
    except (InputError, ResumeError, RowError, WriteError, ValueError, *EXPECTED_ERRORS) as error:
        raise _fail(str(error)) from None
    done = result.rows - result.resumed_from
    rate = f", {done / result.seconds:.0f} rows/s" if result.seconds > 0 and done else ""
    stances = ", ".join(f"{label} {n}" for label, n in result.stances.items())
    passages = f" ({result.output_rows} passages)" if documents else ""
    typer.echo(
        f"{result.rows} rows{passages} -> {out}: {result.scored} scored, {result.errors} with errors"
        + (f", {result.blank_lines} blank lines skipped" if result.blank_lines else "")
        + (f" (resumed after row {result.resumed_from})" if result.resumed_from else "")
        + f"\nstances: {stances}; {result.seconds:.1f} s{rate}"
        + (f"\n{result.truncated} texts longer than the model reads (column truncated)" if result.truncated else ""),
        err=True,
    )


def expand_inputs(arguments: list[Path]) -> Path | list[Path]:
    """The input of ``score``: one path as given, or the list of files when several paths or a glob pattern
    were given (a pattern the shell did not expand, such as a quoted one, is expanded here, sorted)."""
    import glob

    from .records import InputError

    if len(arguments) == 1 and not glob.has_magic(str(arguments[0])):
        return arguments[0]
    paths: list[Path] = []
    for argument in arguments:
        if glob.has_magic(str(argument)) and not argument.exists():
            matched = sorted(glob.glob(str(argument), recursive=True))
            if not matched:
                raise InputError(f"{argument}: the pattern matches no file")
            paths.extend(Path(m) for m in matched)
        else:
            paths.append(argument)
    return paths


@contextmanager
def _standard_streams(input: Path | list[Path], out: Path, fmt: str) -> Iterator[tuple[Path | list[Path], Path]]:
    """``-`` as input or output. A job reads its input twice (to hash it, to score it) and writes its output
    only when complete, so stdin is first saved to a temporary file and the output is copied to stdout at
    the end."""
    with tempfile.TemporaryDirectory(prefix="diplostance-stdio-") as work:
        if str(input) == "-":
            input = Path(work) / f"stdin.{fmt}"
            with input.open("wb") as handle:
                shutil.copyfileobj(sys.stdin.buffer, handle)
        to_stdout = str(out) == "-"
        if to_stdout:
            out = Path(work) / f"stdout.{fmt}"
        yield input, out
        if to_stdout:
            with out.open("rb") as handle:
                shutil.copyfileobj(handle, sys.stdout.buffer)
            sys.stdout.buffer.flush()


@app.command()
def predict(
    texts: Annotated[list[str], typer.Argument(help="Statements to label; '-' reads one statement a line from stdin.")],
    model: ModelOption = None,
    backend: BackendOption = "auto",
    min_confidence: MinConfidenceOption = None,
    speaker: Annotated[
        str | None, typer.Option("--speaker", help="Who speaks (e.g. 'Kenya (KEN) delegation'): the actor of 'we'.")
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Also show the phrases that drove each label.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per text (all fields).")] = False,
) -> None:
    """Print label, confidence, actor, counterpart and issue for each text."""
    if texts == ["-"]:
        texts = [line.strip() for line in sys.stdin if line.strip()]
    try:
        predictions = _load(model, backend).predict(
            texts, min_confidence=min_confidence, explain=explain, speakers=[speaker] * len(texts)
        )
    except (ValueError, TypeError, *EXPECTED_ERRORS) as error:
        raise _fail(str(error)) from None
    for text, p in zip(texts, predictions):
        if as_json:
            typer.echo(json.dumps({"text": text} | dataclasses.asdict(p), ensure_ascii=False))
            continue
        flag = " (abstained)" if p.abstained else ""
        parties = f"{p.actor or '-'}>{p.counterpart or '-'} {p.issue or '-'}"
        typer.echo(f"{p.label}\t{p.confidence:.3f}{flag}\t{parties}\t{text}")
        for span in p.evidence or []:
            typer.echo(f"\tevidence: {span.text!r} ({span.start}-{span.end}, weight {span.weight:.2f})")


@app.command()
def evaluate(
    data: Annotated[Path, typer.Argument(help="Labelled .jsonl/.csv/.parquet (text, label).")],
    model: ModelOption = None,
    backend: BackendOption = "auto",
    split: Annotated[
        list[str] | None,
        typer.Option("--split", help="Only rows of this split (train/dev/test/heldout_dev/heldout_test); repeatable."),
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the audit report into this folder.")] = None,
    baselines: Annotated[
        bool, typer.Option("--baselines", help="Also fit and compare the baselines (on DATA's train split).")
    ] = False,
    plover: Annotated[Path | None, typer.Option("--plover", help="A second test set for the comparison.")] = None,
    table: Annotated[Path | None, typer.Option("--table", help="Write the comparison table (Markdown).")] = None,
    text_column: Annotated[str, typer.Option("--text-column", help="Column of statements.")] = "text",
    label_column: Annotated[str, typer.Option("--label-column", help="Column of gold labels.")] = "label",
    as_json: Annotated[bool, typer.Option("--json", help="Print the full metrics as JSON.")] = False,
) -> None:
    """Print the model's metrics on labelled data (per split if several) as a table, or as JSON; optionally
    the report and the baseline table, with each split as its own test set."""
    from diplostance.model.metrics import probability_metrics
    from diplostance.train.data import DataError, load_examples

    try:
        everything = load_examples([data], text_column=text_column, label_column=label_column)
        test_sets = {name: [e for e in everything if name == "all" or e.split == name] for name in (split or ["all"])}
        for name, rows in test_sets.items():
            if not rows:
                raise DataError(f"{data}: no rows" + (f" in split {name!r}" if name != "all" else ""))
        classifier = _load(model, backend)
        proba = {name: classifier.predict_proba([e.text for e in rows]) for name, rows in test_sets.items()}
        extra_sets = {"PLOVER": load_examples([plover])} if plover else {}
    except (DataError, *EXPECTED_ERRORS) as error:
        raise _fail(str(error)) from None
    gold = {name: [e.label for e in rows] for name, rows in test_sets.items()}
    if report:
        import numpy as np

        from .report import write_report

        examples = [e for rows in test_sets.values() for e in rows]
        write_report(
            report, [e.text for e in examples], [e.label for e in examples], np.concatenate(list(proba.values()))
        )
    if not baselines:
        metrics = {name: probability_metrics(gold[name], proba[name]) for name in test_sets}
        if as_json:
            typer.echo(json.dumps(metrics if len(metrics) > 1 else next(iter(metrics.values())), indent=2))
        else:
            typer.echo(_metrics_table(metrics))
        return
    from diplostance.train.baselines import fitted_baselines
    from diplostance.train.evaluation import compare, render_markdown

    train_rows = [e for e in everything if e.split == "train"]
    if not train_rows:
        raise _fail(f"{data}: --baselines needs rows of split 'train' to fit them on")
    fitted = fitted_baselines([e.text for e in train_rows], [e.label for e in train_rows])
    systems = {name: baseline.predict for name, baseline in fitted.items()}
    systems["fine-tuned diplostance"] = lambda texts: [p.label for p in classifier.predict(list(texts))]
    rendered = render_markdown(
        compare(systems, {f"{data.name} {name}": rows for name, rows in test_sets.items()} | extra_sets)
    )
    if table:
        table.parent.mkdir(parents=True, exist_ok=True)
        table.write_text(rendered)
    typer.echo(rendered)


def _metrics_table(metrics: dict[str, dict]) -> str:
    """A readable summary: one line per split, then per-label precision/recall/F1."""
    from diplostance.model.labels import LABELS

    lines = [f"{'split':<14}{'n':>6}  macro-F1  accuracy  none recall   ECE"]
    for name, m in metrics.items():
        none_recall = m["per_label"]["none"]["recall"]
        scores = f"{m['macro_f1']:8.3f}  {m['accuracy']:8.3f}  {none_recall:11.3f}  {m['ece']:.3f}"
        lines.append(f"{name:<14}{m['n']:>6}  {scores}")
    for name, m in metrics.items():
        lines += ["", f"{name}: {'label':<12} precision  recall     F1  support"]
        for label in LABELS:
            row = m["per_label"][label]
            scores = f"{row['precision']:9.3f}  {row['recall']:6.3f}  {row['f1']:5.3f}  {row['support']:7}"
            lines.append(f"{'':<{len(name) + 2}}{label:<12} {scores}")
    lines.append("\nmacro-F1: over the three stances (the codebook evaluates none separately); --json: all fields")
    return "\n".join(lines)


@app.command()
def show(
    scored: Annotated[Path, typer.Argument(help="A file written by `diplostance score` (.jsonl, .csv, .parquet).")],
    text_column: Annotated[
        str | None, typer.Option("--text-column", help="Default: read from the file, else 'passage' or 'text'.")
    ] = None,
    width: Annotated[int, typer.Option(min=2, help="Characters of text shown per row.")] = 90,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="Show at most N rows.")] = None,
    stance: Annotated[
        str | None, typer.Option("--stance", help="Only rows of this label (or 'error' for unscored rows).")
    ] = None,
) -> None:
    """Print a scored file as a table of stance, confidence and text (error rows: the reason)."""
    from .records import InputError
    from .show import show_lines

    try:
        for line in show_lines(scored, text_column, width=width, limit=limit, stance=stance):
            typer.echo(line)
    except InputError as error:
        raise _fail(str(error)) from None


@app.command()
def trends(
    scored: Annotated[Path, typer.Argument(help="A file written by `diplostance score` (.jsonl, .csv, .parquet).")],
    by: Annotated[str, typer.Option("--by", help="Comma-separated group columns.")] = "actor,counterpart,issue",
    freq: Annotated[str, typer.Option("--freq", help="day, week, month, quarter or year.")] = "month",
    date_column: Annotated[str, typer.Option("--date-column", help="Column with each statement's date.")] = "date",
    min_count: Annotated[
        int, typer.Option("--min-count", min=1, help="Periods with fewer statements are flagged sparse (greyed).")
    ] = 10,
    out: Annotated[Path | None, typer.Option("--out", help="Write the table as CSV (default: print it).")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write small multiples as a PNG.")] = None,
) -> None:
    """Counts and shares of each stance per group and period, with Wilson 95% intervals."""
    from .records import InputError, read_records
    from .trends import plot_trends
    from .trends import trends as stance_trends

    try:
        import pandas as pd

        frame = pd.DataFrame([record.columns for record in read_records(scored, text_column=None)])
        groups = [column.strip() for column in by.split(",") if column.strip()]
        table = stance_trends(frame, groups, freq, date_column=date_column, min_count=min_count)
        if plot is not None:
            plot_trends(table, plot, groups)
    except (InputError, ValueError) as error:
        raise _fail(str(error)) from None
    rendered = table.to_csv(index=False, float_format="%.4f")
    if out is not None:
        out.write_text(rendered)
    else:
        typer.echo(rendered, nl=False)
    left_out = table.attrs.get("left_out", 0)
    summary = f"{len(table)} group-periods from {int(table['n'].sum()) if len(table) else 0} statements"
    typer.echo(
        summary + (f"; {left_out} rows without a stance or a readable date left out" if left_out else ""), err=True
    )


@app.command()
def export(model: ModelOption = None) -> None:
    """(Re)create the int8 ONNX model inside a model folder."""
    from diplostance.model.classifier import check_model_folder
    from diplostance.model.manifest import write_manifest
    from diplostance.model.onnx_export import export_onnx
    from diplostance.model.paths import default_model_dir

    folder = model or default_model_dir()
    try:
        check_model_folder(folder)
        path = export_onnx(folder)
        write_manifest(folder)
    except EXPECTED_ERRORS as error:
        raise _fail(str(error)) from None
    typer.echo(f"wrote {path}")


def main() -> None:
    # Quiet the libraries through their environment switches: importing them here would load torch
    # before the arguments are read, and `--help` or a bad argument would wait seconds for it.
    for switch, value in QUIET_LIBRARIES.items():
        os.environ.setdefault(switch, value)
    app(prog_name="diplostance")


if __name__ == "__main__":
    sys.exit(main())
