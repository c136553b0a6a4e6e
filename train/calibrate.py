"""Temperature scaling (Guo et al., 2017): one scalar T fitted on the dev split so that
softmax(logits / T) has the lowest negative log-likelihood. It changes confidences, never
the top label, so it can be applied after the fact by every backend."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax


def fit_temperature(logits: np.ndarray, gold_ids: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises dev NLL."""

    def nll(log_t: float) -> float:
        return float(-log_softmax(logits / np.exp(log_t), axis=1)[np.arange(len(gold_ids)), gold_ids].mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))
