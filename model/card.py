"""The model card (README.md in the model folder), generated from the training run's
config and metrics so that every number in it is one the run measured."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .labels import LABELS

CARD_NAME = "README.md"


@dataclass(frozen=True)
class CardInfo:
    config: dict
    metrics: dict


def _metrics_table(metrics: dict) -> str:
    rows = ["| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label in LABELS:
        m = metrics["per_label"][label]
        rows.append(f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    return "\n".join(rows)


def render_model_card(info: CardInfo) -> str:
    metrics = info.metrics
    test = metrics.get("test")
    lines = [
        "---",
        "license: apache-2.0",
        "library_name: transformers",
        "pipeline_tag: text-classification",
        "language: en",
        "---",
        "# diplostance stance classifier",
        "",
        "Labels the stance a government takes toward cooperating on the matter at hand in a diplomatic or",
        "government statement: **cooperative**, **conditional**, **refusing**, or **none** (no position),",
        "following the project's codebook (LABELS.md).",
        "",
        "## Model",
        "- Base encoder: sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide, uncased; Apache-2.0),",
        "  fine-tuned end to end with a [CLS] classification head (`BertForSequenceClassification`).",
        f"- Labels (output order): {', '.join(LABELS)}.",
        f"- Max length {info.config['max_length']} word pieces; longer texts keep their beginning. Use document mode",
        "  (`StanceClassifier.score_document`, `diplostance score --documents`) for transcripts and communiqués.",
        f"- Temperature scaling fitted on the dev split: T = {metrics['temperature']:.3f} (`calibration.json`).",
        "- Files: `model.safetensors` (weights), `model.onnx` (int8, ONNX Runtime), `manifest.json` (SHA-256 of",
        "  every file, checked at load), `training_config.json`, `metrics.json`.",
        "",
        "## Data",
        f"Split sizes: {metrics['counts']}. Real statements (White House briefing room, UN General Debate),",
        "hand-labelled by the codebook, plus authored statements for the refusals and conditions real text lacks.",
        "See the project's data/README.md (datasheet).",
        "",
    ]
    if test:
        none_accuracy = "n/a" if test["none_accuracy"] is None else f"{test['none_accuracy']:.3f}"
        lines += [
            "## Metrics on the test split",
            f"- n = {test['n']}, accuracy = {test['accuracy']:.3f},",
            f"  macro-F1 over the three stances = {test['macro_f1']:.3f}, accuracy on `none` = {none_accuracy}",
            f"- Expected calibration error (10 bins): {test['ece_before_calibration']:.3f} before,",
            f"  {test['ece']:.3f} after temperature scaling",
            "",
            _metrics_table(test),
            "",
        ]
    lines += [
        "## Intended use",
        "Batch scoring of English government statements, readouts, communiqués and wire copy by analysts, with the",
        "probabilities used for thresholds (`min_confidence`) and the evidence spans for auditing.",
        "",
        "## Limits",
        "- English only; trained mostly on US and UN text plus authored statements: other registers are less certain.",
        "- A label describes one statement, not a government's policy; sarcasm and implicature are weak spots.",
        "- The codebook's `none` is scored on its own: metrics above report macro-F1 over the three stances only.",
        "",
        "## Training configuration",
        "```json",
        json.dumps(info.config, indent=2, default=str),
        "```",
        "",
    ]
    return "\n".join(lines)


def write_model_card(folder: str | Path, info: CardInfo) -> None:
    (Path(folder) / CARD_NAME).write_text(render_model_card(info))
