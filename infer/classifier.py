"""The Python API: ``StanceClassifier`` with scikit-learn manners.

    from diplostance.infer import StanceClassifier
    clf = StanceClassifier.from_pretrained()          # default model folder
    clf.predict("We will accept the flights once identities are verified.")[0].label
    clf.predict_proba(texts)                          # (n, 4) in clf.labels order

Texts are tokenised once (``diplostance.model.tokenization``), handed to the backend
(``diplostance.infer.backends``: bf16 torch where the CPU runs bf16, else int8 ONNX Runtime), and come back in
input order. A row's probabilities never depend on the other rows of the call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from diplostance.model.calibration import read_temperature, softmax
from diplostance.model.classifier import check_model_folder
from diplostance.model.issues import IssueClassifier
from diplostance.model.labels import LABELS, NONE_LABEL
from diplostance.model.paths import default_model_dir
from diplostance.model.tokenization import DEFAULT_MAX_LENGTH, encode, fits_window
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from .actors import resolve_parties
from .backends import Backend, load_backend
from .columns import scored_columns, with_parties
from .documents import DocumentResult, Passage, segment, summarise
from .evidence import occlusion_spans

DEFAULT_BACKEND = "auto"
MAX_POSITIONS = 512
"""BERT's position embeddings: the ceiling for a tokenizer that records no training length."""
DEFAULT_BATCH_SIZE = 32


@dataclass(frozen=True)
class EvidenceSpan:
    """A stretch of the input that pushed the model toward its label (character offsets)."""

    start: int
    end: int
    text: str
    weight: float


@dataclass(frozen=True)
class Prediction:
    """One text's result. ``abstained`` is True when ``min_confidence`` turned the label into none.
    ``actor`` / ``counterpart``: codes of whose stance it is and toward whom (``infer.actors``);
    ``issue``: what it is about (``model.issues``), null where the label is none."""

    label: str
    confidence: float
    probabilities: dict[str, float]
    abstained: bool = False
    evidence: list[EvidenceSpan] | None = field(default=None)
    actor: str | None = None
    counterpart: str | None = None
    issue: str | None = None


def as_text_list(texts: str | Iterable[str]) -> list[str]:
    """Accept one string or an iterable of strings; raise TypeError/ValueError naming the bad item."""
    if isinstance(texts, str):
        texts = [texts]
    elif texts is None or isinstance(texts, (bytes, bytearray)) or not isinstance(texts, Iterable):
        raise TypeError(f"texts must be a string or an iterable of strings, not {type(texts).__name__}")
    items = list(texts)
    for index, text in enumerate(items):
        if not isinstance(text, str):
            raise TypeError(f"text at index {index} is {type(text).__name__}, not str")
        if not text.strip():
            raise ValueError(f"text at index {index} is empty")
    return items


class StanceClassifier:
    """Stance of government statements: cooperative, conditional, refusing or none."""

    labels: tuple[str, ...] = LABELS

    def __init__(
        self,
        backend: Backend,
        tokenizer: PreTrainedTokenizerBase,
        *,
        temperature: float = 1.0,
        max_length: int = DEFAULT_MAX_LENGTH,
        fingerprint: str = "",
        issues: IssueClassifier | None = None,
    ) -> None:
        self.backend = backend
        self.tokenizer = tokenizer
        self.temperature = temperature
        self.max_length = max_length
        self.fingerprint = fingerprint
        self.issues = issues

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path | None = None,
        *,
        backend: str = DEFAULT_BACKEND,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
    ) -> StanceClassifier:
        """Load a model folder (default: ``$DIPLOSTANCE_MODEL`` or the per-user cache) after safety checks."""
        folder = Path(path) if path is not None else default_model_dir()
        fingerprint = check_model_folder(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        max_length = min(tokenizer.model_max_length, MAX_POSITIONS)  # the length the model was trained with
        return cls(
            load_backend(
                backend,
                folder,
                pad_id=tokenizer.pad_token_id,
                max_length=max_length,
                batch_size=batch_size,
                threads=threads,
            ),
            tokenizer,
            temperature=read_temperature(folder),
            max_length=max_length,
            fingerprint=fingerprint,
            issues=IssueClassifier.load(folder),
        )

    def logits_of_ids(self, token_ids: list[list[int]]) -> np.ndarray:
        """Raw logits (n, 4) for already-tokenised rows, in input order."""
        return self.backend.logits(token_ids)

    def _logits_of_texts(self, texts: list[str]) -> np.ndarray:
        return self.logits_of_ids(self.encode(texts))

    def encode(self, texts: list[str]) -> list[list[int]]:
        return encode(self.tokenizer, texts, self.max_length)

    def predict_proba(self, texts: str | Iterable[str]) -> np.ndarray:
        """Calibrated probabilities, shape (n, 4), columns in ``self.labels`` order."""
        items = as_text_list(texts)
        if not items:
            return np.zeros((0, len(LABELS)))
        return softmax(self.logits_of_ids(self.encode(items)), self.temperature)

    def score_rows(
        self,
        texts: Sequence[str],
        speakers: Sequence[str | None] | None = None,
        min_confidence: float | None = None,
    ) -> list[dict]:
        """The output columns of ``diplostance score`` for each text, rounded as in scored files. One
        tokenisation serves the model and the ``truncated`` flag (more pieces than the model reads)."""
        ids = self.encode(list(texts)) if texts else []
        proba = softmax(self.logits_of_ids(ids), self.temperature) if ids else np.zeros((0, len(LABELS)))
        scored = [scored_columns(row, min_confidence) for row in proba]
        cut = [len(row) >= self.max_length for row in ids]
        return with_parties(self, list(texts), scored, list(speakers) if speakers else None, cut)

    def parties_and_issue(
        self, texts: Sequence[str], labels: Sequence[str], speakers: Sequence[str | None] | None = None
    ) -> list[dict[str, str | None]]:
        """``actor``, ``counterpart`` and ``issue`` of each text. ``speakers`` (a speaker or source field per
        text, e.g. "Kenya (KEN) delegation") gives first-person text its government."""
        speakers = list(speakers) if speakers is not None else [None] * len(texts)
        issues = self.issues.predict(texts) if self.issues is not None else [None] * len(texts)
        described = []
        for text, label, speaker, issue in zip(texts, labels, speakers, issues):
            parties = resolve_parties(text, speaker)
            described.append(
                {
                    "actor": parties.actor,
                    "counterpart": parties.counterpart,
                    "issue": None if label == NONE_LABEL else issue,
                }
            )
        return described

    def predict(
        self,
        texts: str | Iterable[str],
        *,
        min_confidence: float | None = None,
        explain: bool = False,
        speakers: Sequence[str | None] | None = None,
    ) -> list[Prediction]:
        """One Prediction per text, in input order.

        ``min_confidence``: where the top probability is below it, the label becomes ``none``
        and ``abstained`` is True (the probabilities are left as the model gave them).
        ``speakers``: a speaker or source field per text, so that first-person text gets its government.
        ``explain``: fill ``Prediction.evidence`` with the phrases that most pushed the model
        toward its label (occlusion; one extra forward pass per word, see ``infer.evidence``).
        """
        items = as_text_list(texts)
        if speakers is not None and len(speakers) != len(items):
            raise ValueError(f"speakers has {len(speakers)} entries for {len(items)} texts")
        predictions = predictions_from_proba(self.predict_proba(items), min_confidence)
        described = self.parties_and_issue(items, [p.label for p in predictions], speakers)
        predictions = [replace(p, **d) for p, d in zip(predictions, described)]
        if not explain:
            return predictions
        return [
            replace(
                p,
                evidence=[]  # no position: there is no stance for a phrase to carry
                if top_label(p) == NONE_LABEL
                else [
                    EvidenceSpan(*span)
                    for span in occlusion_spans(text, LABELS.index(top_label(p)), self._logits_of_texts)
                ],
            )
            for text, p in zip(items, predictions)
        ]

    def score_frame(
        self,
        frame,
        text_column: str = "text",
        *,
        speaker_column: str | None = None,
        min_confidence: float | None = None,
    ):
        """``frame`` (a pandas DataFrame) with the columns of ``diplostance score`` appended, row for row:
        a row whose text cannot be scored keeps its place with ``error`` set. The notebook form of a job."""
        from .records import text_error
        from .writers import OUTPUT_COLUMNS

        for column in (text_column, speaker_column):
            if column is not None and column not in frame.columns:
                raise KeyError(f"no column {column!r} (columns: {', '.join(map(str, frame.columns))})")
        clash = [c for c in OUTPUT_COLUMNS if c in frame.columns]
        if clash:
            raise ValueError(f"the frame already has output column {clash[0]!r}; rename it first")
        import pandas as pd

        texts = [None if _missing(t) else t for t in frame[text_column].tolist()]  # NaN, pd.NA: missing
        problems = [text_error(text, text_column) for text in texts]
        valid = [i for i, problem in enumerate(problems) if problem is None]
        speakers = (
            [None if _missing(v) else v for v in frame[speaker_column]] if speaker_column else [None] * len(texts)
        )
        described = self.score_rows([texts[i] for i in valid], [speakers[i] for i in valid], min_confidence)
        rows = dict(zip(valid, described))
        unscored = dict.fromkeys(described[0] if described else OUTPUT_COLUMNS)
        columns = [rows.get(i, unscored | {"error": problems[i]}) for i in range(len(texts))]
        return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)

    def score_document(self, text: str) -> DocumentResult:
        """Split a transcript or communiqué into passages, score each, and summarise (``infer.documents``)."""
        (text,) = as_text_list([text])
        spans = segment(text, lambda chunk: fits_window(self.tokenizer, chunk, self.max_length))
        if not spans:
            raise ValueError("the document has no sentences to score")
        predictions = self.predict([text[s:e] for s, e, _ in spans])
        passages = [
            Passage(s, e, text[s:e], speaker, p.label, p.confidence, p.probabilities)
            for (s, e, speaker), p in zip(spans, predictions)
        ]
        return DocumentResult(passages=passages, summary=summarise(passages))


def _missing(value: object) -> bool:
    """A frame's missing value (None, NaN, pd.NA), which pandas puts where text is absent."""
    return value is None or (isinstance(value, float) and value != value) or type(value).__name__ == "NAType"


def top_label(prediction: Prediction) -> str:
    """The model's own top label, also when abstention turned the shown label into none."""
    return max(prediction.probabilities, key=prediction.probabilities.get)


def predictions_from_proba(proba: np.ndarray, min_confidence: float | None = None) -> list[Prediction]:
    """Turn probability rows into Predictions, applying the abstention threshold."""
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be between 0 and 1, got {min_confidence}")
    results = []
    for row in proba:
        top = int(row.argmax())
        abstained = min_confidence is not None and row[top] < min_confidence
        results.append(
            Prediction(
                label=NONE_LABEL if abstained else LABELS[top],
                confidence=float(row[top]),
                probabilities={label: float(p) for label, p in zip(LABELS, row)},
                abstained=abstained,
            )
        )
    return results
