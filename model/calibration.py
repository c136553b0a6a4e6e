"""Calibrated probabilities: softmax of logits divided by the temperature saved with the model.

The temperature is fitted on the dev split at the end of training
(``diplostance.train.calibrate``) and stored in ``calibration.json``; a folder without one
uses T = 1 (the raw model).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .classifier import ModelFolderError

CALIBRATION_NAME = "calibration.json"


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` in float64."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def read_temperature(folder: str | Path) -> float:
    """The folder's temperature (1.0 without calibration.json); a value that is not a positive finite
    number would give NaN or inverted probabilities, so it is refused with the file named."""
    path = Path(folder) / CALIBRATION_NAME
    if not path.is_file():
        return 1.0
    try:
        temperature = float(json.loads(path.read_text())["temperature"])
    except (ValueError, KeyError, TypeError) as error:
        raise ModelFolderError(f"{path} is unreadable: no numeric 'temperature' ({error!r})") from None
    if not math.isfinite(temperature) or temperature <= 0:
        raise ModelFolderError(f"{path}: temperature must be a positive number, got {temperature}")
    return temperature


def write_temperature(folder: str | Path, temperature: float) -> None:
    (Path(folder) / CALIBRATION_NAME).write_text(json.dumps({"temperature": temperature}) + "\n")
