"""Document mode: split a transcript or communiqué into passages, score each, summarise.

Segmentation. Briefing transcripts are first cut into speaker turns at lines such as
``MS. PSAKI:``, ``MR. KIRBY:``, ``THE PRESIDENT:``, ``SECRETARY BLINKEN:`` or ``Q:``/``Q.``;
each turn is split into sentences with pysbd (rule-based, handles "Mr." and "U.S.").
A sentence longer than the model's window is cut into consecutive word chunks that fit,
so no statement is ever silently dropped; time stamps and stage directions on lines of their
own (``1:14 P.M. EDT``, ``(Laughter.)``) are not statements and become no passage. Offsets are
character offsets into the input.

Summary. Reporters' questions (speaker ``Q``) are scored but left out of the summary: they
are not a government's position. The document stance is the stance with the largest
total probability over passages labelled with a stance (ties broken in the codebook's
decision order: refusing, conditional, cooperative); ``none`` when no passage takes a
position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from diplostance.model.labels import LABELS, NONE_LABEL, STANCES

SPEAKER_TURN = re.compile(
    r"^[ \t]*(?:(?P<question>Q)[:.]"
    r"|(?P<speaker>(?:(?:MR|MS|MRS|DR)\. ?)?[A-Z][A-Z'\-]+(?: [A-Z][A-Z'\-]+){0,3}):)[ \t]+",
    re.MULTILINE,
)
"""A line that opens a speaker turn: ``Q:``/``Q.``, or an upper-case name or title and a colon."""
_CLOCK = r"\d{1,2}:\d{2}\s*[AP]\.?\s?M\.?(?:\s+[A-Z]{2,4})?"
STAGE_LINE = re.compile(rf"^[ \t]*(?:{_CLOCK}|\([^()\n]*\)|\[[^\[\]\n]*\]|END(?:\s+{_CLOCK})?)[ \t]*$", re.MULTILINE)
"""A transcript line that is not a statement: a time stamp ("1:14 P.M. EDT"), a stage direction
("(Laughter.)", "[Applause]") or "END 2:03 P.M. EST". Such lines become no passage."""
QUESTION_SPEAKER = "Q"
DECISION_ORDER = ("refusing", "conditional", "cooperative")


@dataclass(frozen=True)
class Passage:
    start: int
    end: int
    text: str
    speaker: str | None
    label: str = NONE_LABEL
    confidence: float = 0.0
    probabilities: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentSummary:
    counts: dict[str, int]
    strongest: dict[str, Passage | None]
    stance: str


@dataclass(frozen=True)
class DocumentResult:
    passages: list[Passage]
    summary: DocumentSummary

    def to_frame(self):
        """The passages as a pandas DataFrame: offsets, speaker, text, label, confidence, ``p_<label>``."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "start": p.start,
                    "end": p.end,
                    "speaker": p.speaker,
                    "passage": p.text,
                    "stance": p.label,
                    "confidence": p.confidence,
                    **{f"p_{label}": p.probabilities.get(label) for label in LABELS},
                }
                for p in self.passages
            ]  # fmt: skip
        )


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def speaker_turns(text: str) -> list[tuple[int, int, str | None]]:
    """(start, end, speaker) of each turn; text before the first speaker label has speaker None."""
    marks = list(SPEAKER_TURN.finditer(text))
    if not marks:
        return [(0, len(text), None)]
    turns = [(0, marks[0].start(), None)] if text[: marks[0].start()].strip() else []
    for mark, following in zip(marks, [*marks[1:], None]):
        end = following.start() if following else len(text)
        turns.append((mark.end(), end, mark.group("question") or mark.group("speaker")))
    return turns


def _fit_to_window(start: int, end: int, text: str, fits) -> list[tuple[int, int]]:
    """Cut [start, end) into consecutive word chunks for which ``fits(chunk)`` holds."""
    if fits(text[start:end]):
        return [(start, end)]
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    chunks, first = [], 0
    while first < len(words):
        last = first + 1
        while last < len(words) and fits(text[words[first][0] : words[last][1]]):
            last += 1
        chunks.append((words[first][0], words[last - 1][1]))
        first = last
    return chunks


def segment(text: str, fits=lambda chunk: True) -> list[tuple[int, int, str | None]]:
    """(start, end, speaker) of each passage: sentences within speaker turns, cut to fit the model."""
    passages = []
    text = STAGE_LINE.sub(lambda line: " " * len(line.group()), text)  # same offsets, stage lines blank
    for turn_start, turn_end, speaker in speaker_turns(text):
        body = text[turn_start:turn_end]
        for sentence in _segmenter().segment(body) if body.strip() else []:
            raw = body[sentence.start : sentence.end]
            start = turn_start + sentence.start + (len(raw) - len(raw.lstrip()))
            end = turn_start + sentence.start + len(raw.rstrip())
            if end > start:
                passages.extend((s, e, speaker) for s, e in _fit_to_window(start, end, text, fits))
    return passages


def summarise(passages: list[Passage]) -> DocumentSummary:
    stated = [p for p in passages if p.speaker != QUESTION_SPEAKER]
    counts = {label: sum(p.label == label for p in stated) for label in LABELS}
    strongest = {
        label: max((p for p in stated if p.label == label), key=lambda p: p.confidence, default=None)
        for label in STANCES
    }
    mass = {label: sum(p.probabilities[label] for p in stated if p.label == label) for label in DECISION_ORDER}
    best = max(DECISION_ORDER, key=lambda label: (mass[label], -DECISION_ORDER.index(label)))
    return DocumentSummary(counts=counts, strongest=strongest, stance=best if mass[best] > 0 else NONE_LABEL)


def summary_row(passages: list[Passage]) -> dict:
    """One document's line of ``score --documents --summary``: its stance, the count per stance, the
    strongest passage of that stance, and each speaker's share of passages per stance."""
    summary = summarise(passages)
    strongest = summary.strongest.get(summary.stance)
    speakers: dict[str, dict[str, float]] = {}
    for speaker in dict.fromkeys(p.speaker or "-" for p in passages if p.speaker != QUESTION_SPEAKER):
        own = [p for p in passages if (p.speaker or "-") == speaker]
        speakers[speaker] = {label: round(sum(p.label == label for p in own) / len(own), 4) for label in LABELS}
    return {
        "document_stance": summary.stance,
        "passages": len(passages),
        **{f"n_{label}": n for label, n in summary.counts.items()},
        "strongest_passage": strongest.text if strongest else None,
        "strongest_confidence": strongest.confidence if strongest else None,
        "speaker_shares": speakers,
    }
