"""The notebooks in notebooks/ run end to end (on the tiny model) and are committed without outputs.

Each notebook is executed with nbclient in a kernel of this very interpreter (a kernelspec written
into a temporary JUPYTER_PATH, so a fresh venv needs no `ipykernel install`), with the working
directory notebooks/ and DIPLOSTANCE_MODEL pointing at the tiny model. Parameters are injected by
appending assignments to the cell tagged ``parameters`` (papermill's convention, without papermill).
The executed copies are never written back.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, write_tiny_base, write_tiny_corpus
from nbclient import NotebookClient
from nbformat import NotebookNode

NOTEBOOKS = ROOT / "notebooks"
SEED_ARTICLE = ROOT / "data" / "examples" / "seed_article.jsonl"
KERNEL_NAME = "diplostance-notebook-tests"
CELL_TIMEOUT = 300
LABEL_LINE = re.compile(r"^(cooperative|conditional|refusing|none) \(\d\.\d\d\)$", re.MULTILINE)


@pytest.fixture(scope="session")
def kernels_path(tmp_path_factory) -> Path:
    """A JUPYTER_PATH folder holding a kernelspec that runs ``sys.executable`` (the venv's Python)."""
    folder = tmp_path_factory.mktemp("jupyter")
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL_NAME, "language": "python"}))
    return folder


def inject_parameters(nb: NotebookNode, parameters: dict) -> None:
    """Append assignments to the cell tagged ``parameters``; each name must already be a parameter there."""
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "a notebook needs exactly one cell tagged 'parameters'"
    (cell,) = cells
    for name in parameters:
        assert re.search(rf"^{name}\s*=", cell.source, re.MULTILINE), f"{name} is not a parameter of the notebook"
    assignments = "".join(f"{name} = {value!r}\n" for name, value in parameters.items())
    cell.source = f"{cell.source}\n\n# injected by tests/test_notebooks.py\n{assignments}"


def run_notebook(name: str, monkeypatch, kernels: Path, model: Path, parameters: dict | None = None) -> NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    if parameters:
        inject_parameters(nb, parameters)
    monkeypatch.setenv("JUPYTER_PATH", str(kernels))
    env = {**os.environ, "DIPLOSTANCE_MODEL": str(model), "TOKENIZERS_PARALLELISM": "false"}
    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT,
        startup_timeout=120,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute(env=env)
    return nb


def cell(nb: NotebookNode, cell_id: str) -> NotebookNode:
    return next(c for c in nb.cells if c.get("id") == cell_id)


def text_of(code_cell: NotebookNode) -> str:
    """Everything the cell printed, plus the plain-text form of its results."""
    parts = []
    for output in code_cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


def html_table_rows(code_cell: NotebookNode) -> int:
    """Body rows of the (pandas) HTML table the cell displayed."""
    tables = [
        o.data["text/html"]
        for o in code_cell.outputs
        if o.output_type in ("execute_result", "display_data") and "text/html" in o.data
    ]
    assert tables, f"cell {code_cell.id} displayed no table"
    body = tables[-1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.count("<tr")


def png_images(code_cell: NotebookNode) -> int:
    return sum(
        1 for o in code_cell.outputs if o.output_type in ("execute_result", "display_data") and "image/png" in o.data
    )


def test_quickstart_runs_on_the_tiny_model(tiny_model, kernels_path, monkeypatch):
    nb = run_notebook("quickstart.ipynb", monkeypatch, kernels_path, tiny_model)

    assert "labels: cooperative, conditional, refusing, none" in text_of(cell(nb, "install-check"))
    assert str(tiny_model) in text_of(cell(nb, "load-model"))

    seed = cell(nb, "seed-table")
    assert html_table_rows(seed) == sum(1 for line in SEED_ARTICLE.read_text().splitlines() if line.strip()) == 5
    assert "confidence" in seed.outputs[-1].data["text/html"]

    transcript = cell(nb, "transcript")
    assert html_table_rows(transcript) >= 10
    table = transcript.outputs[-1].data["text/html"]
    for column in ("start", "end", "speaker", "label", "confidence", "text"):
        assert f"<th>{column}</th>" in table
    for speaker in ("MS. HARLOW", "MR. OKAFOR", "<td>Q</td>"):
        assert speaker in table
    summary = text_of(cell(nb, "summary"))
    assert re.search(r"document stance: (cooperative|conditional|refusing|none)", summary)
    assert "passages per label" in summary

    assert png_images(cell(nb, "speaker-chart")) == 1

    evidence = text_of(cell(nb, "evidence"))
    assert len(LABEL_LINE.findall(evidence)) == 2, evidence

    report = text_of(cell(nb, "report"))
    assert "n=5" in report
    assert "confusion_matrix.png" in report and "reliability.png" in report
    assert html_table_rows(cell(nb, "report")) == 4  # per_label.csv: one row per label
    assert png_images(cell(nb, "report-images")) == 2


def test_retrain_runs_fast_with_injected_parameters(tiny_model, kernels_path, monkeypatch, tmp_path):
    out_dir = tmp_path / "retrained"
    parameters = {
        "BASE_MODEL": str(write_tiny_base(tmp_path / "base")),
        "DATA": str(write_tiny_corpus(tmp_path / "corpus.jsonl")),
        "HELD_OUT": str(SEED_ARTICLE),
        "OUT_DIR": str(out_dir),
        "EPOCHS": 2,
        "LEARNING_RATE": 3e-3,
        "BATCH_SIZE": 8,
    }
    nb = run_notebook("retrain.ipynb", monkeypatch, kernels_path, tiny_model, parameters)

    setup = text_of(cell(nb, "setup"))
    assert str(tiny_model) in setup  # MODEL_BEFORE defaults to $DIPLOSTANCE_MODEL
    assert html_table_rows(cell(nb, "new-rows")) == 10

    before = text_of(cell(nb, "before"))
    assert re.search(r"^before: n=5 macro_f1=\d\.\d{3} accuracy=\d\.\d{3} ece=\d\.\d{3}$", before, re.MULTILINE)
    after = text_of(cell(nb, "after"))
    assert re.search(r"^before: n=5 macro_f1=", after, re.MULTILINE)
    assert re.search(r"^after: n=5 macro_f1=\d\.\d{3} accuracy=\d\.\d{3} ece=\d\.\d{3}$", after, re.MULTILINE)
    comparison = cell(nb, "after").outputs[-1].data["text/html"]
    for row in ("macro_f1", "accuracy", "ece", "F1 conditional", "change"):
        assert row in comparison
    assert html_table_rows(cell(nb, "new-rows-check")) == 10

    assert (out_dir / "manifest.json").is_file()
    config = json.loads((out_dir / "training_config.json").read_text())
    assert config["epochs"] == 2
    assert config["base_model"] == parameters["BASE_MODEL"]
    assert [Path(p).name for p in config["data"]] == ["corpus.jsonl", "retrained-new-statements.jsonl"]
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["counts"]["train"] == 24 + 10  # the tiny corpus's train rows plus the new statements


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert {p.name for p in notebooks} >= {"quickstart.ipynb", "retrain.ipynb"}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for code_cell in (c for c in nb.cells if c.cell_type == "code"):
            where = f"{path.name} cell {code_cell.get('id')}"
            assert code_cell.outputs == [], f"{where} has outputs: clear them before committing"
            assert code_cell.execution_count is None, f"{where} has an execution count: clear outputs"
