"""The unlabelled transfer set for distillation: pool units of the shared corpora that are not in
the corpus and not from a held-out source (no Ukrainian presidency, no held-out UN delegation),
and the helper-written paraphrases and perturbations of training statements
(``annotation/transfer/*.jsonl``, guide in ``annotation/guides/PARAPHRASE.md``).

Run from the project root: python data/build_transfer.py --out reports/transfer.jsonl [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "annotation"))
from make_slices import delegation, heldout_delegation  # noqa: E402

POOLS = ("wh-briefing-room/pool.jsonl", "ungdc/pool.jsonl")
SEED = 20261202


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pool-size", type=int, default=6000, help="Pool units kept (a seeded random sample).")
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
    random.Random(SEED).shuffle(kept)
    kept = kept[: args.pool_size]
    for path in sorted((HERE / "annotation" / "transfer").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            unit = json.loads(line)
            kept.append({"id": unit["id"], "text": unit["text"], "origin": f"authored transfer/{unit['kind']}"})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(u, ensure_ascii=False) + "\n" for u in kept))
    print(f"{len(kept)} transfer units -> {args.out}")


if __name__ == "__main__":
    main()
