"""Calibrated probabilities: softmax of logits divided by the temperature saved with the model.

The temperature is fitted on the dev split at the end of training
(``diplostance.train.calibrate``) and stored in ``calibration.json``; a folder without one
uses T = 1 (the raw model).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CALIBRATION_NAME = "calibration.json"


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` in float64."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def read_temperature(folder: str | Path) -> float:
    path = Path(folder) / CALIBRATION_NAME
    return float(json.loads(path.read_text())["temperature"]) if path.is_file() else 1.0


def write_temperature(folder: str | Path, temperature: float) -> None:
    (Path(folder) / CALIBRATION_NAME).write_text(json.dumps({"temperature": temperature}) + "\n")
