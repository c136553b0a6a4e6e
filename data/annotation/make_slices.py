"""Cut the unlabelled pools of ../shared/corpora into annotation slices of at most 250 units.

Each slice is what both annotators of that slice receive (`slices/<name>.jsonl`: id, text,
speaker_or_source, date and, for briefing answers, the reporter's question). The sampling
field of the pools is left out so that the keyword bucket cannot steer a reading.

Held-out sources (never trained on, in any form): every unit of the Ukrainian presidency
and every unit of the UN delegations in ``HELDOUT_DELEGATIONS`` (chosen by a hash of the
ISO code, see ``heldout_delegation``). They get slices named ``ukr``/``unh*``; the rest of
the pools get ``wh*`` and ``un*``. Order within a pool is a seeded shuffle, so slice k+1
never repeats slice k and re-running gives the same slices.

Run from the project root: python data/annotation/make_slices.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SLICE_SIZE = 250
SEED = 20261201
HELDOUT_FRACTION = 0.14
FIELDS = ("id", "text", "speaker_or_source", "date", "question")


def heldout_delegation(iso3: str) -> bool:
    """A UN delegation is held out when the hash of its code falls in the first 14%."""
    bucket = int(hashlib.sha1(f"heldout-delegation:{iso3}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < HELDOUT_FRACTION


def delegation(speaker_or_source: str) -> str:
    return re.search(r"\(([A-Z]{2,3})\) delegation", speaker_or_source).group(1)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_slices(prefix: str, units: list[dict], out: Path) -> list[str]:
    names = []
    for k in range(0, len(units), SLICE_SIZE):
        name = f"{prefix}{k // SLICE_SIZE + 1:02d}" if len(units) > SLICE_SIZE else prefix
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for unit in units[k : k + SLICE_SIZE]:
                handle.write(
                    json.dumps({f: unit.get(f) for f in FIELDS if unit.get(f) is not None}, ensure_ascii=False)
                )
                handle.write("\n")
        names.append(name)
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent.parent / "shared")
    args = parser.parse_args()
    corpora = args.shared / "corpora"
    out = HERE / "slices"
    out.mkdir(exist_ok=True)
    rng = random.Random(SEED)
    wh = read_jsonl(corpora / "wh-briefing-room" / "pool.jsonl")
    un = read_jsonl(corpora / "ungdc" / "pool.jsonl")
    ukr = read_jsonl(corpora / "ukraine-president" / "statements.jsonl")
    for pool in (wh, un):
        rng.shuffle(pool)
    un_held = [u for u in un if heldout_delegation(delegation(u["speaker_or_source"]))]
    un_train = [u for u in un if not heldout_delegation(delegation(u["speaker_or_source"]))]
    names = write_slices("ukr", ukr, out) + write_slices("unh", un_held, out)
    names += write_slices("wh", wh, out) + write_slices("un", un_train, out)
    print(f"{len(names)} slices in {out}")


if __name__ == "__main__":
    main()
