"""The classifier: a Hugging Face BERT sequence classifier on the MiniLM encoder.

Pooling. all-MiniLM-L6-v2 was trained by sentence-transformers with *mean* pooling, so
its [CLS] vector is not a sentence embedding out of the box. We still classify from the
standard [CLS] -> pooler -> linear head of ``BertForSequenceClassification``, because that
is the only head that ``transformers.pipeline`` and ONNX export load without custom code
(``trust_remote_code`` is never used), and because full fine-tuning moves all six layers:
the [CLS] position learns to summarise the statement within the first epoch. The frozen
encoder baselines (``diplostance.train.baselines``), which cannot adapt, use mean pooling.

Saved folders hold safetensors weights only. Loading refuses pickle weight files, checks
the file-hash manifest and refuses a folder whose labels are not this project's schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from .labels import ID2LABEL, LABEL2ID, LABELS
from .manifest import verify_manifest

if TYPE_CHECKING:  # transformers loads torch (seconds): imported where a model is built or loaded
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


class ModelFolderError(ValueError):
    """A model folder that cannot be loaded safely; the message says which file and why."""


def build_classifier(base_model: str | Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A fresh four-label classifier on a pretrained encoder folder (the head starts random)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    base_model = Path(base_model)
    if not (base_model / "config.json").is_file():
        raise ModelFolderError(f"{base_model} is not a Hugging Face model folder (no config.json)")
    model = AutoModelForSequenceClassification.from_pretrained(
        base_model,
        num_labels=len(LABELS),
        id2label=ID2LABEL,
        label2id=LABEL2ID,
        use_safetensors=True,
    )
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    return model, tokenizer


def save_classifier(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, folder: str | Path) -> None:
    """Write weights (safetensors), config and tokenizer; the caller writes the manifest last."""
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)


def check_model_folder(folder: str | Path) -> str:
    """Refuse unsafe or foreign folders before anything is deserialised; return the model fingerprint."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFolderError(f"no model at {folder}: train one with `diplostance train --out {folder}`")
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise ModelFolderError(
            f"{folder / pickles[0]} is a pickle weight file; diplostance loads safetensors only "
            "(pickle files can run code when loaded)"
        )
    if not (folder / "model.safetensors").is_file():
        raise ModelFolderError(f"{folder} has no model.safetensors")
    outside = next((p for p in sorted(folder.rglob("*")) if p.is_symlink() and not _inside(p, folder)), None)
    if outside is not None:
        raise ModelFolderError(f"{outside} is a link to {outside.resolve()}, outside the model folder; refused")
    fingerprint = verify_manifest(folder)
    check_label_schema(folder)
    return fingerprint


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def check_label_schema(folder: str | Path) -> None:
    """Refuse a model whose id2label is not exactly this project's label order."""
    path = Path(folder) / "config.json"
    try:
        config = json.loads(path.read_text())
        found = {int(k): v for k, v in config.get("id2label", {}).items()}
    except (OSError, ValueError, AttributeError) as error:
        raise ModelFolderError(f"{path} is unreadable: {error}") from None
    if found != ID2LABEL:
        raise ModelFolderError(
            f"{folder} has labels {[found[k] for k in sorted(found)]}, expected {list(LABELS)}: not a diplostance model"
        )


def load_torch_model(folder: str | Path) -> PreTrainedModel:
    """Load the weights of a folder that ``check_model_folder`` accepted, in eval mode."""
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a bar per load would land in every scored file's stderr and every notebook
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            folder, use_safetensors=True, trust_remote_code=False
        )
    except Exception as error:  # SafetensorError, OSError, RuntimeError...: a truncated or foreign weights file
        raise ModelFolderError(f"{Path(folder) / 'model.safetensors'} cannot be loaded: {error}") from None
    model.eval()
    return model
