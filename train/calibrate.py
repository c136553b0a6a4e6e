"""Calibration fitted on the selection split (the held-out-register dev split when there is one).

- Temperature scaling (Guo et al., 2017): one scalar T so that softmax(logits / T) has the lowest
  negative log-likelihood. It changes confidences, never the top label, so every backend applies it
  after the fact.
- A prior shift: one offset per class added to the logits, fitted jointly with T by the same NLL
  (the bias half of vector scaling). New registers hold more no-position text than the training mix
  (real transcripts: the model found 58% of their `none` units), and a label-prior change is what a
  bias corrects. It is added to the classifier's output bias, so the saved weights, the ONNX graph and
  ``transformers.pipeline`` all carry it; it moves the top label, so its effect is reported per split.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax


def fit_temperature(logits: np.ndarray, gold_ids: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises dev NLL."""

    def nll(log_t: float) -> float:
        return float(-log_softmax(logits / np.exp(log_t), axis=1)[np.arange(len(gold_ids)), gold_ids].mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def fit_temperature_and_shift(logits: np.ndarray, gold_ids: np.ndarray) -> tuple[float, np.ndarray]:
    """T and the per-class logit offsets (in raw-logit units, centred) that minimise NLL of
    softmax((logits + shift) / T); T starts from plain temperature scaling. Bounded, so a dev split the
    model separates perfectly (tiny test corpora) cannot drive T to zero."""
    start_t = fit_temperature(logits, gold_ids)
    rows = np.arange(len(gold_ids))

    def nll(params: np.ndarray) -> float:
        t, shift = np.exp(params[0]), params[1:]
        return float(-log_softmax((logits + shift) / t, axis=1)[rows, gold_ids].mean())

    start = np.concatenate([[np.log(start_t)], np.zeros(logits.shape[1])])
    bounds = [(np.log(0.05), np.log(20.0))] + [(-5.0, 5.0)] * logits.shape[1]  # T as fit_temperature allows
    result = minimize(nll, start, method="L-BFGS-B", bounds=bounds)
    shift = result.x[1:] - result.x[1:].mean()
    return float(np.exp(result.x[0])), shift
