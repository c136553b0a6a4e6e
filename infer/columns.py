"""The output columns of one scored row, shared by the batch job, Spark and ``score_frame``.

Probabilities and confidence are rounded to ``PRECISION`` decimals, so scored files do not
depend on batch size or on the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from diplostance.model.labels import LABELS, NONE_LABEL

from .writers import ABSTAINED_COLUMN, PROBABILITY_COLUMNS, TOP_STANCE_COLUMN

if TYPE_CHECKING:
    from .classifier import StanceClassifier

PRECISION = 4
"""Decimals kept for probabilities and confidence in scored files."""


def scored_columns(proba_row: np.ndarray, min_confidence: float | None) -> dict:
    """The stance columns of one scored row (rounded to PRECISION); ``with_parties`` adds the rest."""
    top = int(proba_row.argmax())
    confidence = round(float(proba_row[top]), PRECISION)
    abstained = min_confidence is not None and proba_row[top] < min_confidence
    columns = {
        "stance": NONE_LABEL if abstained else LABELS[top],
        "confidence": confidence,
        **{c: round(float(p), PRECISION) for c, p in zip(PROBABILITY_COLUMNS, proba_row)},
    }
    if min_confidence is not None:  # the model's own label stays readable when abstention said none
        columns[ABSTAINED_COLUMN] = bool(abstained)
        columns[TOP_STANCE_COLUMN] = LABELS[top]
    return columns


def with_parties(
    classifier: StanceClassifier,
    texts: list[str],
    scored: list[dict],
    speakers: list[str | None] | None = None,
    truncated: list[bool] | None = None,
) -> list[dict]:
    """Scored rows with actor, counterpart, issue and the truncation flag, in OUTPUT_COLUMNS order."""
    described = classifier.parties_and_issue(texts, [row["stance"] for row in scored], speakers)
    cut = truncated if truncated is not None else [False] * len(texts)
    rows = []
    for row, parties, was_cut in zip(scored, described, cut):
        extra = {c: row.pop(c) for c in (ABSTAINED_COLUMN, TOP_STANCE_COLUMN) if c in row}
        rows.append(row | parties | {"truncated": bool(was_cut), "error": None} | extra)
    return rows
