"""diplostance.infer: the Python API, backends, file scoring and the CLI."""

from .classifier import EvidenceSpan, Prediction, StanceClassifier

__all__ = ["EvidenceSpan", "Prediction", "StanceClassifier"]
