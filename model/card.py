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


ENCODERS = {
    "all-mpnet-base-v2": "sentence-transformers/all-mpnet-base-v2 (MPNet, 12 layers, 768 wide; Apache-2.0)",
    "all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide, uncased; Apache-2.0)",
}
SPLIT_NAMES = {
    "heldout_test": "held-out-register test (sources never trained on)",
    "test": "in-distribution test split",
}


def _shift(metrics: dict) -> str:
    shift = metrics.get("prior_shift") or {}
    if not any(shift.values()):
        return "none"
    return ", ".join(f"{label} {value:+.3f}" for label, value in shift.items())


def _encoder(config: dict) -> str:
    base = str(config.get("base_model") or "all-MiniLM-L6-v2")
    return next((text for name, text in ENCODERS.items() if name in base), base)


def _split_section(name: str, m: dict) -> list[str]:
    none_accuracy = "n/a" if m["none_accuracy"] is None else f"{m['none_accuracy']:.3f}"
    issue = m.get("issue_accuracy")
    return [
        f"### {SPLIT_NAMES[name]}",
        f"- n = {m['n']}, accuracy = {m['accuracy']:.3f},",
        f"  macro-F1 over the three stances = {m['macro_f1']:.3f}, recall on `none` = {none_accuracy}",
        f"- Expected calibration error (10 bins): {m['ece_before_calibration']:.3f} before,",
        f"  {m['ece']:.3f} after temperature scaling",
        *(
            [
                f"- Issue accuracy (issue classifier, stance rows with an annotated issue): {issue['accuracy']:.3f}"
                f" (n = {issue['n']})"
            ]
            if issue
            else []
        ),
        "",
        _metrics_table(m),
        "",
    ]


def render_model_card(info: CardInfo) -> str:
    metrics, config = info.metrics, info.config
    selected_on = metrics.get("selected_on", "dev")
    distilled = config.get("teacher_logits")
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
        "following the project's codebook (docs/CODEBOOK.md in the diplostance repository).",
        "",
        "## Model",
        f"- Base encoder: {_encoder(config)}, fine-tuned end to end with a sequence-classification head.",
        f"- Labels (output order): {', '.join(LABELS)}.",
        f"- Max length {config['max_length']} word pieces; longer texts keep their beginning. Use document mode",
        "  (`StanceClassifier.score_document`, `diplostance score --documents`) for transcripts and communiqués.",
        f"- Trained {'with bf16 autocast' if config.get('bf16') else 'in fp32'}, at most {config['epochs']} epochs,"
        f" learning rate {config['learning_rate']}; the epoch kept is the best on `{selected_on}`.",
        f"- Temperature scaling fitted on `{selected_on}`: T = {metrics['temperature']:.3f} (`calibration.json`).",
        f"- Prior shift fitted with it on `{selected_on}` and added to the output bias: {_shift(metrics)}.",
        "- Files: `model.safetensors` (weights), `model.onnx` (int8, ONNX Runtime), `manifest.json` (SHA-256 of",
        "  every file, checked at load), `training_config.json`, `metrics.json`, and `issues.npz`/`issues.json`:",
        "  the issue classifier (TF-IDF + logistic regression over the taxonomy of the codebook, plain arrays).",
    ]
    if distilled:
        lines += [
            f"- Distilled (Hinton et al., 2015) from the teacher logits in `{distilled}` (temperature"
            f" {config['distill_temperature']}, weight {config['distill_alpha']} on the teacher), over the labelled"
            f" corpus and {metrics['counts']['fitted_rows'] - metrics['counts']['train']} unlabelled transfer rows.",
        ]
    lines += [
        "",
        "## Data",
        f"Split sizes: {metrics['counts']}. Real statements (White House briefing room, UN General Debate,",
        "Ukrainian presidency), double-annotated by the codebook, plus authored statements and counterfactual pairs",
        "for the refusals and conditions real text lacks. The held-out splits come from sources never trained on",
        "(the Ukrainian presidency, a set of UN delegations, a separately written batch). See data/README.md.",
        "",
        "## Metrics",
    ]
    for name in SPLIT_NAMES:
        if name in metrics:
            lines += _split_section(name, metrics[name])
    lines += [
        "## Intended use",
        "Batch scoring of English government statements, readouts, communiqués and wire copy by analysts, with the",
        "probabilities used for thresholds (`min_confidence`) and the evidence spans for auditing.",
        "",
        "## Limits",
        "- English only; real text is US, UN and Ukrainian; other registers come from authored statements.",
        "- A label describes one statement, not a government's policy; sarcasm and implicature are weak spots.",
        "- The codebook's `none` is scored on its own: macro-F1 above is over the three stances only.",
        "",
        "## Training configuration",
        "```json",
        json.dumps(config, indent=2, default=str),
        "```",
        "",
    ]
    return "\n".join(lines)


def write_model_card(folder: str | Path, info: CardInfo) -> None:
    (Path(folder) / CARD_NAME).write_text(render_model_card(info))
