"""Who takes the stance, and toward whom: actor and counterpart codes for a statement.

Names are found by a gazetteer (``Gazetteer.default()``): country names and codes from
``pycountry`` (ISO 3166), the usual short names, capitals, seats of government ("the Kremlin",
"Downing Street"), demonyms and organisations of ``gazetteer/aliases.tsv``, and office-holders
from the corpora's speaker lists with the years they held office (``gazetteer/office_holders.tsv``,
built by ``data/build_gazetteer.py``). Matching is by word n-grams, longest first, so
"South Sudan" is never read as "Sudan", and names written in capitals ("US", "WHO") match only
in capitals, so the pronoun "us" is not the United States.

The actor follows the codebook's "whose position this is":
1. First-person text ("we", "our") with a known speaker is the speaker's: the code in the speaker
   field ("Kenya (KEN) delegation", "Ms. Psaki", "Russian MFA").
2. Otherwise reported speech names the government it reports: the first mention that is the
   subject of a reporting or stance verb ("Seoul said it would ...", "Beijing has declined ...").
3. Otherwise the speaker's government, else the first government named.
The counterpart is the first other government or organisation named, else null.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GAZETTEER_DIR = Path(__file__).resolve().parent / "gazetteer"
ORGANISATIONS = ("EU", "UN", "NATO", "AU", "ASEAN", "GCC", "OAS", "ECOWAS", "G7", "G20", "IAEA", "WHO", "ICC")
WORD = re.compile(r"[^\W_]+")
MAX_NAME_WORDS = 8
QUESTION_ANSWER = re.compile(r"^\s*Q\s*[:.].*?\bA\s*[:.]\s*", re.DOTALL)
SPEAKER_CODE = re.compile(r"^([A-Z]{3})\b|\(([A-Z]{3})\)")
FIRST_PERSON = re.compile(r"\b(?:we|our|ours|us|I|my)\b", re.IGNORECASE)
REPORTING_VERB = re.compile(
    r"^(?:['’]s\s+)?(?:[\w-]+\s+){0,5}?(?:has\s+|have\s+|had\s+|will\s+|would\s+|is\s+|was\s+|also\s+|again\s+)*"
    r"(?:said|says|say|announced|announces|told|stated|states|warned|warns|rejected|rejects|refused|refuses|"
    r"agreed|agrees|declined|declines|accepted|accepts|insisted|insists|demanded|demands|offered|offers|"
    r"signed|signs|suspended|suspends|welcomed|welcomes|vowed|pledged|urged|called|ruled|denied|denies|"
    r"opposed|opposes|expelled|imposed|threatened|confirmed|noted|added|wants|cannot|will not|would not)\b",
    re.IGNORECASE,
)
"""After a mention: up to five words ("'s foreign ministry spokesperson Mao Ning") and a verb of saying or of
taking a stance, which makes the mention the subject whose position the statement reports."""


@dataclass(frozen=True)
class Mention:
    code: str
    start: int
    end: int


@dataclass(frozen=True)
class Parties:
    actor: str | None
    counterpart: str | None


def _words(text: str) -> list[re.Match]:
    return list(WORD.finditer(text))


class Gazetteer:
    """Names -> codes. ``folded`` keys are lower-cased word tuples; ``exact`` keys keep the case of acronyms
    and of people's names (a speaker called "Provided" must not match "provided"). A name that points to
    two codes is left out."""

    def __init__(self, names: list[tuple[str, str, tuple[int, int] | None]]) -> None:
        folded: dict[tuple[str, ...], set[tuple[str, tuple[int, int] | None]]] = {}
        exact: dict[tuple[str, ...], set[tuple[str, tuple[int, int] | None]]] = {}
        for name, code, years in names:
            words = tuple(m.group() for m in _words(name))
            if not words or len(words) > MAX_NAME_WORDS:
                continue
            if any(c.islower() for c in name) and years is None:  # people's names keep their case
                folded.setdefault(tuple(w.lower() for w in words), set()).add((code, years))
            else:
                exact.setdefault(words, set()).add((code, years))
        self.folded, self.exact = folded, exact

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> Gazetteer:
        import pycountry

        names: list[tuple[str, str, tuple[int, int] | None]] = []
        for country in pycountry.countries:
            for attribute in ("name", "official_name", "common_name"):
                if hasattr(country, attribute):
                    names.append((getattr(country, attribute), country.alpha_3, None))
        names += [(code, code, None) for code in ORGANISATIONS]
        names += [(row["name"], row["code"], None) for row in _read_tsv("aliases.tsv")]
        names += [
            (row["name"], row["code"], (int(row["first_year"]), int(row["last_year"])))
            for row in _read_tsv("office_holders.tsv")
        ]
        return cls(names)

    def mentions(self, text: str, year: int | None = None) -> list[Mention]:
        """Every name in ``text``, longest match first, left to right, without overlaps."""
        words = _words(text)
        found, i = [], 0
        while i < len(words):
            for n in range(min(MAX_NAME_WORDS, len(words) - i), 0, -1):
                span = words[i : i + n]
                code = self._lookup(tuple(m.group() for m in span), year)
                if code is not None:
                    found.append(Mention(code, span[0].start(), span[-1].end()))
                    i += n
                    break
            else:
                i += 1
        return found

    def _lookup(self, words: tuple[str, ...], year: int | None) -> str | None:
        candidates = self.exact.get(words) or self.folded.get(tuple(w.lower() for w in words)) or set()
        if year is not None:  # an office-holder counts only around the years the name held office
            dated = {(c, y) for c, y in candidates if y is None or y[0] - 1 <= year <= y[1] + 1}
            candidates = dated or candidates
        codes = {code for code, _ in candidates}
        return codes.pop() if len(codes) == 1 else None


def _read_tsv(name: str) -> list[dict[str, str]]:
    with (GAZETTEER_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def speaker_code(speaker: str | None, gazetteer: Gazetteer, year: int | None = None) -> str | None:
    """The government of a speaker field: an explicit "(KEN)", else the first name in it."""
    if not isinstance(speaker, str) or not speaker:  # None, or a frame's NaN
        return None
    explicit = SPEAKER_CODE.search(speaker)
    if explicit:
        return explicit.group(1) or explicit.group(2)
    mentions = gazetteer.mentions(speaker, year)
    return mentions[0].code if mentions else None


def resolve_parties(
    text: str, speaker: str | None = None, year: int | None = None, gazetteer: Gazetteer | None = None
) -> Parties:
    """Actor and counterpart of one statement (rules in the module docstring)."""
    gazetteer = gazetteer or Gazetteer.default()
    answer_at = _answer_start(text)
    question, answer = text[:answer_at], text[answer_at:]
    mentions = gazetteer.mentions(answer, year)
    spoken_by = speaker_code(speaker, gazetteer, year)
    subject = next((m for m in mentions if REPORTING_VERB.match(answer[m.end :].lstrip(" ,"))), None)
    if spoken_by and FIRST_PERSON.search(answer):
        actor = spoken_by
    elif subject is not None:
        actor = subject.code
    else:
        actor = spoken_by or (mentions[0].code if mentions else None)
    others = gazetteer.mentions(question, year) + mentions  # a reporter's question names whom the answer is to
    counterpart = next((m.code for m in others if m.code != actor), None)
    return Parties(actor, counterpart)


def _answer_start(text: str) -> int:
    """Where the answer begins in a transcribed exchange ("Q: ... A: ..."), else 0: the question's
    subject is the counterpart, not the actor."""
    match = QUESTION_ANSWER.match(text)
    return match.end() if match else 0


def first_named(text: str, gazetteer: Gazetteer | None = None) -> str | None:
    """The baseline: the first government or organisation named in the text."""
    mentions = (gazetteer or Gazetteer.default()).mentions(text)
    return mentions[0].code if mentions else None
