"""The label schema, defined once: every other module reads it from here.

The order is part of the contract: it is the column order of ``predict_proba``,
the ``id2label`` mapping in a saved model's config.json, and the order of the
``p_*`` columns in scored files. Changing it invalidates saved models, so the
loader checks it (see ``diplostance.model.classifier``).
"""

from __future__ import annotations

LABELS: tuple[str, ...] = ("cooperative", "conditional", "refusing", "none")
"""All labels, in model output order. ``none`` means the text takes no position."""

STANCES: tuple[str, ...] = LABELS[:3]
"""The three stances; macro-F1 is reported over these (the codebook evaluates ``none`` separately)."""

NONE_LABEL = "none"

ID2LABEL: dict[int, str] = dict(enumerate(LABELS))
LABEL2ID: dict[str, int] = {label: i for i, label in ID2LABEL.items()}


def check_label(value: object) -> str:
    """Return ``value`` if it is a valid label, else raise a ValueError naming the allowed values."""
    if isinstance(value, str) and value in LABEL2ID:
        return value
    raise ValueError(f"invalid label {value!r}: expected one of {', '.join(LABELS)}")
