"""Throughput of diplostance against the plain transformers pipeline, on the same statements.

    python benchmarks/throughput.py [--model DIR] [--n 5000] [--runs 3] [--lengths short,long]
    python benchmarks/throughput.py --large 200000     # end-to-end `diplostance score` on a JSONL file

Each system runs in its own subprocess (so peak memory is its own): it loads the model,
warms up on 64 statements, then scores the same N statements ``--runs`` times; we report
the median statements/second, the ratio to the pipeline's default call, and peak RSS.
Statements are sampled from data/corpus.jsonl and repeated to N, once per length class:
``short`` (24-64 tokens, the typical briefing sentence), ``long`` (100 tokens or more: the corpus
has one statement over 160 tokens, and the model reads at most 128, so this is the heaviest row it
computes) and ``mixed`` (the corpus as it is).
Then, per backend, top-label agreement with fp32 and macro-F1 on the held-out splits. Timings on a shared CPU are
noisy: compare the ratios measured side by side in one run, not absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus.jsonl"
SYSTEMS = {
    "pipeline": "transformers.pipeline, default call (batch_size=1)",
    "pipeline64": "transformers.pipeline, batch_size=64",
    "torch": "diplostance, torch fp32 backend",
    "onnx": "diplostance, onnx int8 backend",
    "bf16": "diplostance, bf16 backend (default on bf16 CPUs)",
}
BACKENDS = ("torch", "onnx", "bf16")
LENGTHS = {"short": (24, 64), "long": (100, 10_000), "mixed": (0, 10_000)}
"""Token counts (with special tokens, before truncation) of each length class."""


def statements(n: int, seed: int = 0, length: str = "mixed", model: str | None = None) -> list[str]:
    texts = [json.loads(line)["text"] for line in CORPUS.read_text().splitlines()]
    if length != "mixed":
        from transformers import AutoTokenizer

        low, high = LENGTHS[length]
        counts = [len(ids) for ids in AutoTokenizer.from_pretrained(model)(texts)["input_ids"]]
        texts = [t for t, c in zip(texts, counts) if low <= c <= high]
    random.Random(seed).shuffle(texts)
    return (texts * (n // len(texts) + 1))[:n]


def timed_rates(score, items: list, runs: int) -> list[float]:
    """Items/second of ``runs`` calls of ``score(items)``, after a warm-up call on the first 64."""
    score(items[:64])
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        score(items)
        rates.append(len(items) / (time.perf_counter() - start))
    return rates


def run_system(system: str, model: str, n: int, runs: int, length: str) -> dict:
    """Time one system in this process; return rows/s per run and peak RSS (MB)."""
    texts = statements(n, length=length, model=model)
    if system.startswith("pipeline"):
        from transformers import pipeline

        classifier = pipeline("text-classification", model=model, device="cpu")
        kwargs = {"batch_size": 64} if system == "pipeline64" else {}

        def score(batch):
            return classifier(batch, **kwargs)
    else:
        from diplostance.infer import StanceClassifier

        classifier = StanceClassifier.from_pretrained(model, backend=system)
        score = classifier.predict
    rates = timed_rates(score, texts, runs)
    result = {"rates": rates, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if not system.startswith("pipeline"):  # the share of scoring time spent turning text into token ids
        start = time.perf_counter()
        classifier.encode(texts)
        result["tokenise_share"] = (time.perf_counter() - start) * statistics.median(rates) / len(texts)
    return result


def heldout_accuracy(model: str) -> None:
    """Top-label agreement with the fp32 model and macro-F1 of each backend, on the held-out splits
    (sources never trained on): the accuracy cost of each speed-up on unfamiliar text."""
    from diplostance.infer import StanceClassifier
    from diplostance.model.metrics import classification_metrics
    from diplostance.train.data import load_examples

    heldout = [e for e in load_examples([CORPUS]) if e.split in ("heldout_dev", "heldout_test")]
    texts, gold = [e.text for e in heldout], [e.label for e in heldout]
    predicted = {b: StanceClassifier.from_pretrained(model, backend=b).predict(texts) for b in BACKENDS}
    print(f"\non {len(texts)} held-out statements (heldout_dev + heldout_test):")
    for backend, predictions in predicted.items():
        labels = [p.label for p in predictions]
        agree = sum(a == b.label for a, b in zip(labels, predicted["torch"])) / len(texts)
        f1 = classification_metrics(gold, labels)["macro_f1"]
        print(f"  {backend}: top label = fp32 torch on {agree:.2%}, macro-F1 {f1:.4f}")


def compare(model: str, n: int, runs: int, lengths: list[str]) -> None:
    print(f"{n} statements per length class, median of {runs} runs, {os.cpu_count()} cores")
    for length in lengths:
        results = {}
        for system in SYSTEMS:
            command = [sys.executable, __file__, "--model", model, "--n", str(n), "--runs", str(runs)]
            command += ["--system", system, "--lengths", length]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[system] = json.loads(output.strip().splitlines()[-1])
            print(f"  {length} {system}: done", file=sys.stderr)
        baseline = statistics.median(results["pipeline"]["rates"])
        previous = statistics.median(results["onnx"]["rates"])
        low, high = LENGTHS[length]
        print(f"\n{length} statements ({low}-{high} tokens)\n")
        print("| system | statements/s | × pipeline default | × onnx int8 (previous default) | peak RSS (MB) |")
        print("|---|---|---|---|---|")
        for system, label in SYSTEMS.items():
            rate = statistics.median(results[system]["rates"])
            rss = results[system]["peak_rss_mb"]
            print(f"| {label} | {rate:.1f} | {rate / baseline:.2f} | {rate / previous:.2f} | {rss:.0f} |")
        shares = ", ".join(f"{s} {results[s]['tokenise_share']:.1%}" for s in BACKENDS)
        print(f"\ntokenisation share of diplostance scoring time: {shares}")
    heldout_accuracy(model)


def large(model: str, rows: int) -> None:
    """Score a generated JSONL file end to end with the CLI under /usr/bin/time -v."""
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "large.jsonl", Path(tmp) / "scored.jsonl"
        with source.open("w") as handle:
            for i, text in enumerate(statements(rows, seed=1)):
                handle.write(json.dumps({"id": i, "text": text}) + "\n")
        command = [
            "/usr/bin/time",
            "-v",
            sys.executable,
            "-m",
            "diplostance.infer.cli",
            "score",
            str(source),
            "--out",
            str(out),
            "--model",
            model,
            "--no-progress",
        ]
        start = time.perf_counter()
        finished = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - start
        peak_kb = next(int(line.split()[-1]) for line in finished.stderr.splitlines() if "Maximum resident" in line)
        lines = sum(1 for _ in out.open()) if out.exists() else 0
        print(
            f"{rows} rows: exit {finished.returncode}, {lines} output rows, wall {wall:.0f} s "
            f"({rows / wall:.0f} rows/s), peak RSS {peak_kb / 1024:.0f} MB"
        )


def main() -> None:
    from diplostance.model.paths import default_model_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(default_model_dir()))
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--system", choices=SYSTEMS)
    parser.add_argument("--lengths", default="short,long", help="Length classes, comma-separated: short, long, mixed.")
    parser.add_argument("--large", type=int, metavar="ROWS")
    args = parser.parse_args()
    if args.system:
        print(json.dumps(run_system(args.system, args.model, args.n, args.runs, args.lengths)))
    elif args.large:
        large(args.model, args.large)
    else:
        lengths = args.lengths.split(",")
        if unknown := set(lengths) - set(LENGTHS):
            parser.error(f"unknown length class {', '.join(sorted(unknown))}: expected {', '.join(LENGTHS)}")
        compare(args.model, args.n, args.runs, lengths)


if __name__ == "__main__":
    main()
