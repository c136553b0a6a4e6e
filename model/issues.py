"""What a statement is about: one issue of the taxonomy (``docs/CODEBOOK.md``, from ``shared/ISSUES.md``).

A TF-IDF + logistic-regression classifier, trained beside the stance model on the corpus rows
whose annotators recorded an issue, and saved in the model folder. Why not a second head on the
encoder: the issue is topical (extradition, IAEA, tariffs), which word n-grams carry well; this
trains in seconds, scores tens of thousands of statements a second, and leaves the stance
model's ONNX graph and the ``transformers.pipeline`` contract untouched. It is saved as plain
arrays (``issues.npz``, ``issues.json``), never a pickle, so loading a model folder runs no code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ISSUES: tuple[str, ...] = (
    "migration_deportation", "extradition", "prisoner_exchange", "consular_access", "visas", "journalists",
    "diplomatic_relations", "ceasefire_peace_talks", "territorial_dispute", "maritime_incident", "use_of_force",
    "military_cooperation", "security_assistance", "arms_transfers", "alliance_accession", "arms_control",
    "nuclear_programme_inspections", "sanctions", "trade_tariffs", "energy_supply", "debt_relief",
    "financial_assistance", "humanitarian_aid_access", "food_security", "water_sharing", "climate",
    "pandemic_vaccines", "cyber", "intelligence_sharing", "investigation", "international_justice", "human_rights",
    "elections", "counternarcotics", "cultural_property", "other",
)  # fmt: skip
ARRAYS_NAME = "issues.npz"
VOCABULARY_NAME = "issues.json"


@dataclass
class IssueClassifier:
    vocabulary: list[str]
    idf: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    classes: list[str]

    @classmethod
    def fit(cls, texts: Sequence[str], issues: Sequence[str], *, c: float = 10.0) -> IssueClassifier:
        """Fit on statements and their issues (values outside ISSUES raise a ValueError naming them)."""
        from sklearn.linear_model import LogisticRegression

        unknown = sorted(set(issues) - set(ISSUES))
        if unknown:
            raise ValueError(f"unknown issue(s) {', '.join(unknown)}; see docs/CODEBOOK.md")
        vectorizer = _vectorizer()
        features = vectorizer.fit_transform(texts)
        model = LogisticRegression(C=c, max_iter=2000).fit(features, list(issues))
        vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
        return cls(vocabulary, vectorizer.idf_, model.coef_, model.intercept_, list(model.classes_))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        scores = self._features(texts) @ self.coef.T + self.intercept
        scores = np.asarray(scores)
        if len(self.classes) == 2:  # sklearn keeps one row of coefficients for two classes
            scores = np.hstack([-scores, scores])
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str]) -> list[str]:
        if not texts:
            return []
        return [self.classes[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def _features(self, texts: Sequence[str]):
        vectorizer = _vectorizer(vocabulary={term: i for i, term in enumerate(self.vocabulary)})
        vectorizer.idf_ = self.idf
        return vectorizer.transform(list(texts))

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        np.savez(folder / ARRAYS_NAME, idf=self.idf, coef=self.coef, intercept=self.intercept)
        (folder / VOCABULARY_NAME).write_text(
            json.dumps({"classes": self.classes, "vocabulary": self.vocabulary}, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: str | Path) -> IssueClassifier | None:
        """The folder's issue classifier, or None for a model trained before there was one."""
        folder = Path(folder)
        if not (folder / ARRAYS_NAME).is_file():
            return None
        arrays = np.load(folder / ARRAYS_NAME, allow_pickle=False)
        meta = json.loads((folder / VOCABULARY_NAME).read_text(encoding="utf-8"))
        return cls(meta["vocabulary"], arrays["idf"], arrays["coef"], arrays["intercept"], meta["classes"])


def _vectorizer(vocabulary: dict[str, int] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=30000, sublinear_tf=True, vocabulary=vocabulary)
