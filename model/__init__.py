"""diplostance.model: the label schema, the classifier, save/load and the model card."""

from .labels import ID2LABEL, LABEL2ID, LABELS, STANCES

__all__ = ["ID2LABEL", "LABEL2ID", "LABELS", "STANCES"]
