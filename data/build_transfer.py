"""The unlabelled transfer set for distillation: pool units of the shared corpora that are not in
the corpus and not from a held-out source (no Ukrainian presidency, no held-out UN delegation).

Run from the project root: python data/build_transfer.py --out reports/transfer.jsonl [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "annotation"))
from make_slices import delegation, heldout_delegation  # noqa: E402

POOLS = ("wh-briefing-room/pool.jsonl", "ungdc/pool.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    in_corpus = {json.loads(line)["id"] for line in (HERE / "corpus.jsonl").read_text().splitlines()}
    kept = []
    for pool in POOLS:
        for line in (args.shared / "corpora" / pool).read_text(encoding="utf-8").splitlines():
            unit = json.loads(line)
            speaker = unit["speaker_or_source"]
            if unit["id"] in in_corpus or ("delegation, UN" in speaker and heldout_delegation(delegation(speaker))):
                continue
            kept.append({"id": unit["id"], "text": unit["text"], "origin": f"pool:{pool.split('/')[0]}"})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(u, ensure_ascii=False) + "\n" for u in kept))
    print(f"{len(kept)} transfer units -> {args.out}")


if __name__ == "__main__":
    main()
