"""Build the office-holder gazetteer (``infer/gazetteer/office_holders.tsv``) from the corpora's speaker lists.

Office-holders change, so the list is date-aware: the UN General Debate names each head of delegation
by country and year ("Portugal (PRT) delegation, UN General Debate — Marcelo Rebelo de Sousa, President"),
and the White House files name their spokespeople and officials. Each full name gets the years it was
seen; a surname alone is kept only where it points to one government (Kishida: JPN; Khan: dropped).
Run: ``python data/build_gazetteer.py`` (reads ``../shared/corpora``; the output is committed).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
OUT = ROOT / "infer" / "gazetteer" / "office_holders.tsv"
UN_SPEAKER = re.compile(r"^.+\((?P<code>[A-Z]{3})\) delegation, UN General Debate — (?P<name>[^,]+),")
WH_TITLES = re.compile(
    r"^(?:(?:President|Vice President|First Lady|Second Gentleman|Secretary|Press Secretary|White House Press "
    r"Secretary|Principal Deputy Press Secretary|National Security Advisor|NSC Spokesperson|NSC Coordinator for "
    r"Strategic Communications|Deputy National Security Advisor|Ms\.|Mr\.|Dr\.|Admiral|General)\s+)+"
)
US_OFFICIAL = (
    "Ms. ",
    "Mr. ",
    "Dr. ",
    "NSC ",
    "Press Secretary",
    "White House Press",
    "Principal Deputy",
    "Vice President",
    "First Lady",
    "Secretary",
    "National Security Advisor",
    "President Joseph",
    "President Joe",
    "President Biden",
    "President Donald",
    "President Trump",
)
FAMILY_NAME_FIRST = {"CHN", "JPN", "KOR", "PRK", "VNM", "KHM", "HUN", "MNG", "TWN"}
TITLE_WORDS = {
    "president",
    "vice",
    "minister",
    "prime",
    "secretary",
    "first",
    "lady",
    "spokesperson",
    "press",
    "advisor",
    "national",
    "security",
    "deputy",
    "principal",
    "white",
    "house",
    "the",
    "of",
    "and",
    "senior",
    "official",
    "administration",
    "second",
    "gentleman",
    "nsc",
    "coordinator",
    "general",
    "admiral",
}
HONORIFICS = {"mr", "mrs", "ms", "dr", "sheikh", "shaikh", "sir", "h", "e", "his", "her", "excellency", "al"}


def read_jsonl(path: Path):
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def un_speakers() -> dict[tuple[str, str], list[int]]:
    """(code, full name) -> years seen, from every UN General Debate file."""
    seen: dict[tuple[str, str], list[int]] = defaultdict(list)
    for path in sorted((CORPORA / "ungdc").glob("*.jsonl")):
        for row in read_jsonl(path):
            match = UN_SPEAKER.match(row.get("speaker_or_source") or "")
            if match and str(row.get("date", ""))[:4].isdigit():
                seen[match["code"], " ".join(match["name"].split())].append(int(str(row["date"])[:4]))
    return seen


def wh_speakers() -> dict[tuple[str, str], list[int]]:
    """US officials named in the White House files (foreign leaders there are left to the UN list)."""
    seen: dict[tuple[str, str], list[int]] = defaultdict(list)
    for path in sorted((CORPORA / "wh-briefing-room").glob("*.jsonl")):
        for row in read_jsonl(path):
            speaker = (row.get("speaker_or_source") or "").split(" — ")[0]
            if speaker.startswith(("The White House", "Joint statement", "Senior Administration", "Prime Minister")):
                continue
            name = " ".join(WH_TITLES.sub("", speaker).split())
            words = re.findall(r"[A-Za-z][\w'-]*", name)
            if (
                not words
                or len(words) > 4
                or {w.lower() for w in words} <= TITLE_WORDS
                or not str(row.get("date", ""))[:4].isdigit()
            ):
                continue
            if speaker.startswith(US_OFFICIAL):  # "President Xi", "Prime Minister Kishida" are guests
                seen["USA", name].append(int(str(row["date"])[:4]))
    return seen


def surname(name: str, code: str = "") -> str | None:
    """The word a text would use alone ("Kishida", "Netanyahu"): the last, or the first where the family name
    comes first."""
    words = [w for w in re.findall(r"[^\W\d][\w'-]*", name) if w.lower() not in HONORIFICS]
    if not words:
        return None
    word = words[0] if code in FAMILY_NAME_FIRST and len(words) > 1 else words[-1]
    return word if len(word) >= 4 else None


def main() -> None:
    people = un_speakers()
    by_surname: dict[str, set[str]] = defaultdict(set)
    for code, name in people:
        if surname(name, code):
            by_surname[surname(name, code).lower()].add(code)
    people |= wh_speakers()
    for code, name in list(people):
        if code == "USA" and surname(name, code):
            by_surname[surname(name, code).lower()].add(code)
    rows: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (code, name), years in people.items():
        rows[code, name] += years
        last = surname(name, code)
        if last and by_surname[last.lower()] == {code} and last != name:
            rows[code, last] += years
    rows = {key: years for key, years in rows.items() if key[1][:1].isupper()}  # "provided" is not a name
    lines = ["code\tname\tfirst_year\tlast_year"]
    lines += [f"{code}\t{name}\t{min(y)}\t{max(y)}" for (code, name), y in sorted(rows.items())]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(rows)} office-holder names -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
