"""Static int8 (QDQ, fixed activation scales) against the bf16 and dynamic-int8 backends (issue 12).

    python benchmarks/static_int8.py --model models/diplostance [--n 2000] [--calibration 400]

Dynamic int8 computes each activation's scale from the tensor at hand, so batching would make a
row's numbers depend on its batch-mates; static int8 fixes every scale from calibration text
(training rows only, never held-out), which makes batching safe in principle. This script
builds static QDQ graphs of the model (ONNX Runtime ``quantize_static``: per-channel int8
weights, uint8 activations, MinMax calibration over whole-run or moving-average ranges (the
histogram methods need equal-length calibration tensors); variants that keep the fragile
feed-forward down-projections in fp32), then measures in one process, side by side:
statements/s in length-grouped fixed-shape batches (one single-threaded session per core),
top-label agreement with the fp32 torch model and macro-F1 on the held-out splits, and whether a
row's logits change with its batch-mates (the same rows scored in two different orders).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from throughput import timed_rates

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus.jsonl"
BATCH_ROWS = 32


def corpus_rows(splits: tuple[str, ...]) -> list[dict]:
    rows = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    return [r for r in rows if r["split"] in splits]


class Calibration:
    """ONNX Runtime's CalibrationDataReader over training rows, one unpadded row per call."""

    def __init__(self, token_ids: list[list[int]], input_names: set[str], pad_id: int) -> None:
        from diplostance.model.tokenization import pad_batch

        self.feeds = iter(
            [{k: v for k, v in pad_batch([ids], len(ids), pad_id).items() if k in input_names} for ids in token_ids]
        )

    def get_next(self) -> dict | None:
        return next(self.feeds, None)


def fp32_node_names(graph_path: Path, keep_down: bool) -> list[str]:
    """MatMul/Gemm nodes to leave in fp32: the pooler and classifier, and optionally the FFN down-projections."""
    import onnx

    names = []
    for node in onnx.load(str(graph_path)).graph.node:
        if node.op_type not in ("MatMul", "Gemm"):
            continue
        if "pooler" in node.name or "classifier" in node.name or (keep_down and "/output/dense/" in node.name):
            if "/attention/output/" not in node.name:
                names.append(node.name)
    return names


def build_static(fp32: Path, out: Path, calibration: Calibration, *, keep_down: bool, method: str) -> Path:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    quantize_static(
        str(fp32),
        str(out),
        calibration,
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=["MatMul", "Gemm"],
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=fp32_node_names(fp32, keep_down),
        calibrate_method=CalibrationMethod.MinMax,
        extra_options={"MatMulConstBOnly": True, "CalibMovingAverage": method == "moving-average"},
    )
    return out


class BatchedSession:
    """Fixed-shape batches of rows with one padded length, on one single-threaded session per core."""

    def __init__(self, path: Path, pad_id: int, max_length: int, workers: int = 2) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.names = {i.name for i in self.session.get_inputs()}
        self.pad_id, self.max_length = pad_id, max_length
        self.pool = ThreadPoolExecutor(workers)

    def logits(self, token_ids: list[list[int]]) -> np.ndarray:
        from diplostance.model.batching import length_batches
        from diplostance.model.tokenization import pad_batch

        def run(batch):
            rows, length = batch
            filled = list(rows) + [rows[0]] * (BATCH_ROWS - len(rows))
            feed = pad_batch([token_ids[i] for i in filled], length, self.pad_id)
            out = self.session.run(["logits"], {k: v for k, v in feed.items() if k in self.names})[0]
            return rows, out[: len(rows)]

        result = np.zeros((len(token_ids), self.session.get_outputs()[0].shape[-1]), dtype=np.float32)
        for rows, out in self.pool.map(run, length_batches(token_ids, self.max_length, BATCH_ROWS)):
            result[rows] = out
        return result


def main() -> None:
    import onnx
    from diplostance.infer import StanceClassifier
    from diplostance.model.labels import LABELS
    from diplostance.model.metrics import classification_metrics
    from diplostance.model.onnx_export import export_fp32

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calibration", type=int, default=400)
    args = parser.parse_args()

    torch_fp32 = StanceClassifier.from_pretrained(args.model, backend="torch")
    pad_id, max_length = torch_fp32.tokenizer.pad_token_id, torch_fp32.max_length
    heldout = corpus_rows(("heldout_dev", "heldout_test"))
    heldout_ids = torch_fp32.encode([r["text"] for r in heldout])
    gold = [r["label"] for r in heldout]
    train = corpus_rows(("train",))
    random.Random(0).shuffle(train)
    speed_ids = torch_fp32.encode([r["text"] for r in (train * (args.n // len(train) + 1))[: args.n]])
    reference = torch_fp32.logits_of_ids(heldout_ids).argmax(1)

    systems = {
        "torch fp32": torch_fp32.logits_of_ids,
        "bf16 (default)": StanceClassifier.from_pretrained(args.model, backend="bf16").logits_of_ids,
        "onnx dynamic int8": StanceClassifier.from_pretrained(args.model, backend="onnx").logits_of_ids,
    }
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_fp32(args.model, Path(tmp) / "fp32.onnx")
        calibration_ids = torch_fp32.encode([r["text"] for r in train[: args.calibration]])
        names = {i.name for i in onnx.load(str(fp32)).graph.input}  # MPNet has no token_type_ids
        for method in ("minmax", "moving-average"):
            for keep_down in (False, True):
                name = f"static int8 {method}{', FFN down fp32' if keep_down else ''}"
                path = Path(tmp) / f"{method}-{keep_down}.onnx"
                reader = Calibration(calibration_ids, names, pad_id)
                build_static(fp32, path, reader, keep_down=keep_down, method=method)
                systems[name] = BatchedSession(path, pad_id, max_length).logits
        print(f"{len(speed_ids)} training statements for speed (median of {args.runs}), {len(heldout)} held-out")
        print("| system | statements/s | x bf16 | top label = fp32 | held-out macro-F1 | max change with batch-mates |")
        print("|---|---|---|---|---|---|")
        rates = {name: statistics.median(timed_rates(score, speed_ids, args.runs)) for name, score in systems.items()}
        order = list(range(len(heldout_ids)))
        random.Random(1).shuffle(order)
        for name, score in systems.items():
            logits = score(heldout_ids)
            shuffled = score([heldout_ids[i] for i in order])
            drift = float(np.abs(shuffled - logits[order]).max())
            labels = [LABELS[i] for i in logits.argmax(1)]
            agree = float((logits.argmax(1) == reference).mean())
            f1 = classification_metrics(gold, labels)["macro_f1"]
            print(
                f"| {name} | {rates[name]:.0f} | {rates[name] / rates['bf16 (default)']:.2f} | {agree:.2%} "
                f"| {f1:.4f} | {drift:.2e} |"
            )


if __name__ == "__main__":
    main()
