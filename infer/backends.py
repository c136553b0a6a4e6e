"""Inference backends behind one small interface: token ids in, logits out, input order kept.

``torch`` runs the safetensors weights in eager PyTorch. Rows are sorted by length and
batched so that every row of a batch has the same padded length (a multiple of 8 that
depends on the row alone): little compute goes to padding, and a row's numbers do not
depend on its batch-mates.

``onnx`` runs the int8 graph saved beside the weights (``model.onnx``) in ONNX Runtime.
Dynamic int8 quantisation computes one activation scale over the whole input tensor, so
batching rows would make each row's probabilities depend on the others in its batch.
This backend therefore runs one row per call, with no padding at all, on a pool of
worker threads (one per core, each call single-threaded; ONNX Runtime releases the GIL).
On the 2-core development machine that is faster than batched calls with two intra-op
threads, and exact per row: the same text gets the same numbers in any batch, window,
resumed run or Spark partition.

Threads: the default is one per available core. Pass ``threads=`` (``--threads``) to run
several scoring processes side by side, e.g. ``threads=1`` per Spark executor core.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np
from diplostance.model.batching import batched_logits
from diplostance.model.classifier import ModelFolderError, load_torch_model
from diplostance.model.labels import LABELS
from diplostance.model.onnx_export import ONNX_NAME
from diplostance.model.tokenization import pad_batch

BACKENDS = ("auto", "bf16", "torch", "onnx")


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Backend(Protocol):
    """Computes logits (n, n_labels) for rows of token ids, in input order."""

    name: str

    def logits(self, token_ids: list[list[int]]) -> np.ndarray: ...


class TorchBackend:
    """Eager PyTorch in fp32 (``torch``) or under bf16 autocast with fixed-shape batches (``bf16``)."""

    def __init__(
        self,
        folder: str | Path,
        *,
        pad_id: int,
        max_length: int,
        batch_size: int = 64,
        threads: int | None = None,
        bf16: bool = False,
    ) -> None:
        import torch

        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.workers = None
        if bf16:  # single-threaded kernels side by side: exact whatever the thread count (model/batching.py)
            torch.set_num_threads(1)
            self.workers = ThreadPoolExecutor(threads or available_cores(), thread_name_prefix="diplostance-bf16")
        elif threads:
            torch.set_num_threads(threads)
        self.model = load_torch_model(folder)
        self.pad_id, self.max_length, self.batch_size, self.bf16 = pad_id, max_length, batch_size, bf16
        self.name = "bf16" if bf16 else "torch"

    def logits(self, token_ids: list[list[int]]) -> np.ndarray:
        return batched_logits(
            self.model,
            token_ids,
            pad_id=self.pad_id,
            max_length=self.max_length,
            batch_size=self.batch_size,
            bf16=self.bf16,
            workers=self.workers,
        )


class OnnxBackend:
    name = "onnx"

    def __init__(self, folder: str | Path, *, pad_id: int, threads: int | None = None) -> None:
        import onnxruntime as ort

        path = Path(folder) / ONNX_NAME
        if not path.is_file():
            raise ModelFolderError(f"{folder} has no {ONNX_NAME}: create it with `diplostance export --model {folder}`")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own InvalidProtobuf, Fail, ...: one line for the user
            raise ModelFolderError(f"{path} is not a readable ONNX model ({type(error).__name__})") from None
        outputs = self.session.get_outputs()
        width = outputs[0].shape[-1] if outputs and outputs[0].shape else None
        if len(outputs) != 1 or width != len(LABELS):
            raise ModelFolderError(
                f"{path} gives {len(outputs)} output(s) of width {width}, expected one of width {len(LABELS)} "
                f"({', '.join(LABELS)}): not this model's graph; recreate it with `diplostance export`"
            )
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.pad_id = pad_id
        self.pool = ThreadPoolExecutor(max_workers=threads or available_cores(), thread_name_prefix="diplostance-onnx")

    def _row_logits(self, ids: list[int]) -> np.ndarray:
        inputs = pad_batch([ids], len(ids), self.pad_id)
        return self.session.run(["logits"], {k: v for k, v in inputs.items() if k in self.input_names})[0][0]

    def logits(self, token_ids: list[list[int]]) -> np.ndarray:
        if not token_ids:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        return np.stack(list(self.pool.map(self._row_logits, token_ids)))


def cpu_has_bf16() -> bool:
    """Whether oneDNN runs bf16 products natively (AVX512-BF16 or AMX); elsewhere bf16 is emulated and slow."""
    import torch

    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve_backend(name: str) -> str:
    """``auto``: bf16 where the CPU runs it natively, else the int8 ONNX graph."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: expected one of {', '.join(BACKENDS)}")
    if name == "auto":
        return "bf16" if cpu_has_bf16() else "onnx"
    return name


def load_backend(
    name: str, folder: str | Path, *, pad_id: int, max_length: int, batch_size: int = 32, threads: int | None = None
) -> Backend:
    """Instantiate the backend called ``name`` (one of ``BACKENDS``) on a checked model folder."""
    name = resolve_backend(name)
    if name in ("torch", "bf16"):
        return TorchBackend(
            folder, pad_id=pad_id, max_length=max_length, batch_size=batch_size, threads=threads, bf16=name == "bf16"
        )
    return OnnxBackend(folder, pad_id=pad_id, threads=threads)
