"""Does the reporter's question help the model read a briefing answer? (issue 14)

``train OUT``: the student recipe of ``make model``, except that every corpus row with a ``context``
(the question a briefing answer replies to) is encoded as the pair (answer, question); the answer comes
first so truncation cuts the question, never the answer. ``eval MODEL...``: each model on the dev and
test rows that have a question, once on the answer alone and once on the pair, macro-F1 and accuracy.
The shipped recipe reads the answer alone: this measured no gain (README, Evaluation).

    python benchmarks/question_context.py train /tmp/model-context
    python benchmarks/question_context.py eval models/diplostance /tmp/model-context
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from diplostance.model.labels import LABELS
from diplostance.model.metrics import classification_metrics
from diplostance.model.tokenization import CHARS_PER_PIECE_BOUND
from diplostance.train import finetune
from diplostance.train.data import CORPUS_FILE

ROWS = [json.loads(line) for line in CORPUS_FILE.read_text(encoding="utf-8").splitlines()]
QUESTIONS = {r["text"].strip(): r["context"] for r in ROWS if r.get("context")}


def encode_with_questions(tokenizer, texts, max_length: int, use_questions: bool = True) -> list[list[int]]:
    """Token ids of each text, followed by its question where the corpus has one."""
    ids = []
    for text in texts:
        question = QUESTIONS.get(text.strip()) if use_questions else None
        text = text[: max_length * CHARS_PER_PIECE_BOUND]
        if question is None:
            ids.append(tokenizer(text, truncation=True, max_length=max_length)["input_ids"])
            continue
        fits = len(tokenizer(text)["input_ids"]) < max_length - 8
        strategy = "only_second" if fits else "longest_first"
        ids.append(tokenizer(text, question[:4000], truncation=strategy, max_length=max_length)["input_ids"])
    return ids


def train(out: Path) -> None:
    finetune.encode = encode_with_questions  # the one place training turns text into ids
    config = finetune.TrainConfig(
        out=out, epochs=3, teacher_logits=Path("data/distill"), transfer_size=4000, export_onnx=False
    )
    metrics = finetune.train(config)
    print(f"heldout_test {metrics['heldout_test']['macro_f1']:.3f}  test {metrics['test']['macro_f1']:.3f}")


def evaluate(model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    rows = [r for r in ROWS if r.get("context") and r["split"] in ("dev", "test")]
    gold = [r["label"] for r in rows]
    for use in (False, True):
        ids = encode_with_questions(tokenizer, [r["text"] for r in rows], tokenizer.model_max_length, use)
        with torch.inference_mode():
            predicted = [LABELS[int(model(input_ids=torch.tensor([i])).logits.argmax())] for i in ids]
        f1 = classification_metrics(gold, predicted)["macro_f1"]
        accuracy = sum(p == g for p, g in zip(predicted, gold)) / len(gold)
        shown = "answer + question" if use else "answer alone"
        print(f"{model_dir}  {shown:17s}  n={len(rows)}  macro_f1={f1:.3f}  accuracy={accuracy:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("train").add_argument("out", type=Path)
    sub.add_parser("eval").add_argument("models", type=Path, nargs="+")
    args = parser.parse_args()
    if args.command == "train":
        train(args.out)
    else:
        for model_dir in args.models:
            evaluate(model_dir)


if __name__ == "__main__":
    main()
