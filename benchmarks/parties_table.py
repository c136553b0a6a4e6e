"""The README's who/whom/what table: actor, counterpart and issue accuracy on held-out labelled statements,
against the baseline "the first government named in the text".

    python benchmarks/parties_table.py [--model models/diplostance] [--out reports/parties.md]

Actor and counterpart are scored on every row the annotators gave an actor, twice: with the row's
speaker field (``--speaker-column`` in the CLI; the authored rows' field holds the writer's government,
so that column is an upper bound there) and from the text alone. Issue accuracy and macro-F1 (over
the issues present) are scored on stance rows with an annotated issue.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from diplostance.infer import StanceClassifier
from diplostance.infer.actors import first_named, resolve_parties
from diplostance.model.issues import ISSUES
from diplostance.model.labels import NONE_LABEL
from diplostance.train.data import CORPUS_FILE, load_examples
from sklearn.metrics import f1_score


def share(pairs) -> str:
    pairs = list(pairs)
    return f"{sum(a == b for a, b in pairs) / len(pairs):.3f}" if pairs else "–"


def table(classifier: StanceClassifier) -> str:
    corpus = load_examples([CORPUS_FILE])
    header = "| test set | n (actor) | actor | actor, text only | baseline: first named | counterpart | counterpart, text only | n (issue) | issue acc. | issue macro-F1 |"  # noqa: E501
    lines = [header, "|" + "---|" * 10]
    for split in ("heldout_test", "heldout_dev", "test"):
        for source in ("real", "authored"):
            examples = [e for e in corpus if e.split == split and e.source == source]
            actors = [e for e in examples if e.actor]
            with_speaker = [resolve_parties(e.text, e.speaker) for e in actors]
            text_only = [resolve_parties(e.text) for e in actors]
            issued = [e for e in examples if e.issue in ISSUES and e.label != NONE_LABEL]
            predicted = classifier.issues.predict([e.text for e in issued]) if classifier.issues else []
            gold = [e.issue for e in issued]
            macro = f1_score(gold, predicted, labels=sorted(set(gold)), average="macro") if predicted else None
            lines.append(
                f"| {split} {source} | {len(actors)} "
                f"| {share((p.actor, e.actor) for p, e in zip(with_speaker, actors))} "
                f"| {share((p.actor, e.actor) for p, e in zip(text_only, actors))} "
                f"| {share((first_named(e.text), e.actor) for e in actors)} "
                f"| {share((p.counterpart, e.counterpart) for p, e in zip(with_speaker, actors))} "
                f"| {share((p.counterpart, e.counterpart) for p, e in zip(text_only, actors))} "
                f"| {len(issued)} | {share(zip(predicted, gold))} | {'–' if macro is None else f'{macro:.3f}'} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="Model folder (default: $DIPLOSTANCE_MODEL).")
    parser.add_argument("--out", type=Path, default=None, help="Also write the table here.")
    args = parser.parse_args()
    rendered = table(StanceClassifier.from_pretrained(args.model, backend="onnx"))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(rendered)
    print(rendered, end="")


if __name__ == "__main__":
    main()
