"""Knowledge distillation: the teacher's logits as committed data, and the student's loss.

The teacher (all-mpnet-base-v2 fine-tuned on the corpus, ``make accurate``) scores the
corpus's training rows and an unlabelled transfer set; ``write_teacher_logits`` commits its
raw logits with the teacher's fingerprint (``data/distill/``), so ``make demo`` trains only
the student. Held-out rows never enter the file: ``read_teacher_logits`` refuses a file that
holds a held-out text, which is what keeps the held-out test honest for the student.

The student's loss (Hinton et al., 2015) on a row with teacher logits z_t:
    alpha * T^2 * KL(softmax(z_t / T) || softmax(z_s / T)) + (1 - alpha) * CE(gold, z_s)
where the CE term is left out for unlabelled rows (label -100).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from diplostance.model.labels import LABEL2ID

DISTILL_DIR = Path(__file__).resolve().parent.parent / "data" / "distill"
LOGITS_NAME = "teacher_logits.jsonl"
TEACHER_NAME = "teacher.json"


def text_key(text: str) -> str:
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TeacherRow:
    id: str
    text: str
    label: str | None
    origin: str
    logits: np.ndarray


def read_teacher_logits(folder: str | Path, heldout_texts: set[str] = frozenset()) -> list[TeacherRow]:
    """The committed rows; raises ValueError if the file holds a held-out text or a bad row."""
    path = Path(folder) / LOGITS_NAME
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        item = json.loads(line)
        if item.get("label") is not None and item["label"] not in LABEL2ID:
            raise ValueError(f"{path}:{n}: invalid label {item['label']!r}")
        if len(item["logits"]) != len(LABEL2ID):
            raise ValueError(f"{path}:{n}: {len(item['logits'])} logits, expected {len(LABEL2ID)}")
        if text_key(item["text"]) in heldout_texts:
            raise ValueError(f"{path}:{n}: row {item['id']} is a held-out text; the teacher file must not hold any")
        rows.append(TeacherRow(item["id"], item["text"], item.get("label"), item["origin"], np.array(item["logits"])))
    return rows


def write_teacher_logits(folder: str | Path, rows: list[TeacherRow], teacher: dict) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOGITS_NAME).open("w", encoding="utf-8") as handle:
        for row in rows:
            item = {"id": row.id, "text": row.text, "label": row.label, "origin": row.origin}
            handle.write(json.dumps(item | {"logits": [round(float(x), 4) for x in row.logits]}, ensure_ascii=False))
            handle.write("\n")
    (folder / TEACHER_NAME).write_text(json.dumps(teacher | {"rows": len(rows)}, indent=2) + "\n")


def distillation_loss(student_logits, teacher_logits, labels, *, temperature: float, alpha: float):
    """The loss above over a batch; rows whose teacher logits are NaN get the CE term only."""
    import torch
    import torch.nn.functional as F

    has_teacher = ~torch.isnan(teacher_logits).any(dim=1)
    has_label = labels != -100
    loss = student_logits.new_zeros(())
    if has_teacher.any():
        t = temperature
        soft = F.softmax(teacher_logits[has_teacher] / t, dim=-1)
        log_student = F.log_softmax(student_logits[has_teacher] / t, dim=-1)
        kl = (soft * (soft.clamp_min(1e-12).log() - log_student)).sum(-1)
        weight = torch.where(has_label[has_teacher], alpha, 1.0)  # unlabelled rows: the teacher alone
        loss = loss + (weight * kl).sum() * t * t / len(labels)
    if has_label.any():
        ce = F.cross_entropy(student_logits[has_label], labels[has_label], reduction="none")
        weight = torch.where(has_teacher[has_label], 1.0 - alpha, 1.0)
        loss = loss + (weight * ce).sum() / len(labels)
    return loss


def teacher_logits(folder: str | Path, texts: list[str], *, bf16: bool = True, batch_size: int = 32) -> np.ndarray:
    """The teacher model's raw logits for ``texts`` (length-sorted batches, exact per row)."""
    from diplostance.model.batching import batched_logits
    from diplostance.model.classifier import check_model_folder, load_torch_model
    from diplostance.model.tokenization import encode
    from transformers import AutoTokenizer

    check_model_folder(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = load_torch_model(folder)
    max_length = tokenizer.model_max_length
    ids = encode(tokenizer, texts, max_length)
    return batched_logits(
        model, ids, pad_id=tokenizer.pad_token_id, max_length=max_length, batch_size=batch_size, bf16=bf16
    )


def known_logits(folder: Path, fingerprint: str) -> dict[str, np.ndarray]:
    """Logits already in ``folder`` from the same teacher (same fingerprint), by text.

    The teacher's logits are exact per row (``batched_logits``), so a text scored in an earlier run
    has the numbers a fresh run would give: re-deriving the file after new rows join the corpus
    scores only the new texts (minutes instead of the whole corpus with all-mpnet-base-v2)."""
    meta = folder / TEACHER_NAME
    if not meta.is_file() or json.loads(meta.read_text()).get("teacher_fingerprint") != fingerprint:
        return {}
    return {text_key(row.text): row.logits for row in read_teacher_logits(folder)}


def _relative(value, root: Path):
    """A path under the project root (or a list of them) as a relative path; anything else unchanged."""
    if isinstance(value, list):
        return [_relative(v, root) for v in value]
    if isinstance(value, str) and value.startswith(str(root)):
        return os.path.relpath(value, root)
    return value


def main() -> None:
    """Score the corpus's training rows and the transfer set with the teacher; write ``data/distill``."""
    import argparse

    from diplostance.model.manifest import verify_manifest

    from .data import CORPUS_FILE, HELDOUT_SPLITS, load_examples

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--teacher", type=Path, required=True, help="The fine-tuned teacher's model folder.")
    parser.add_argument("--transfer", type=Path, action="append", default=[], help="Unlabelled JSONL (id, text).")
    parser.add_argument("--out", type=Path, default=DISTILL_DIR)
    args = parser.parse_args()
    corpus = load_examples([CORPUS_FILE])
    heldout = {text_key(e.text) for e in corpus if e.split in HELDOUT_SPLITS}
    labelled = [TeacherRow(e.id, e.text, e.label, "corpus", None) for e in corpus if e.split == "train"]
    seen = {text_key(e.text) for e in corpus}
    transfer = []
    for path in args.transfer:
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if text_key(item["text"]) not in seen:
                seen.add(text_key(item["text"]))
                transfer.append(TeacherRow(item["id"], item["text"], None, item.get("origin", path.name), None))
    rows = [r for r in labelled + transfer if text_key(r.text) not in heldout]
    fingerprint = verify_manifest(args.teacher)
    known = known_logits(args.out, fingerprint)
    reused = sum(text_key(r.text) in known for r in rows)
    new = list({text_key(r.text): r.text for r in rows if text_key(r.text) not in known}.items())
    if new:
        known |= dict(zip([key for key, _ in new], teacher_logits(args.teacher, [text for _, text in new])))
    print(f"{len(new)} texts scored by the teacher; {reused} rows reuse the logits in {args.out}")
    rows = [TeacherRow(r.id, r.text, r.label, r.origin, known[text_key(r.text)]) for r in rows]
    metrics = json.loads((args.teacher / "metrics.json").read_text())
    root = DISTILL_DIR.parent.parent
    config = json.loads((args.teacher / "training_config.json").read_text())
    config = {k: _relative(v, root) for k, v in config.items()}  # provenance without this machine's paths
    teacher = {
        "teacher_folder": os.path.relpath(args.teacher.resolve(), root),
        "teacher_fingerprint": fingerprint,
        "teacher_config": config,
        "teacher_heldout_test": metrics.get("heldout_test", {}).get("macro_f1"),
        "labelled_rows": sum(r.label is not None for r in rows),
        "transfer_rows": sum(r.label is None for r in rows),
    }
    write_teacher_logits(args.out, rows, teacher)
    print(f"{len(rows)} rows of teacher logits -> {args.out}")


if __name__ == "__main__":
    main()
