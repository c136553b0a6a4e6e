"""Inference backends behind one small interface: token-id arrays in, logits out.

``torch`` runs the safetensors weights in eager PyTorch; ``onnx`` runs the int8 ONNX
graph saved beside them (``model.onnx``) in ONNX Runtime, which is faster on a CPU.
Both read the same padded arrays made by ``diplostance.model.tokenization``.

Threads: both default to one thread per physical core, the fastest setting for a
single scoring process. Pass ``threads=`` (or ``--threads``) to run several processes
side by side, e.g. one thread each on a busy machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from diplostance.model.classifier import ModelFolderError, load_torch_model
from diplostance.model.onnx_export import ONNX_NAME

BACKENDS = ("torch", "onnx")


class Backend(Protocol):
    """Computes logits (n, n_labels) for a batch of padded model inputs."""

    name: str

    def logits(self, inputs: dict[str, np.ndarray]) -> np.ndarray: ...


class TorchBackend:
    name = "torch"

    def __init__(self, folder: str | Path, threads: int | None = None) -> None:
        import torch

        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self.model = load_torch_model(folder)

    def logits(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        with self._torch.inference_mode():
            tensors = {k: self._torch.from_numpy(v) for k, v in inputs.items()}
            return self.model(**tensors).logits.float().numpy()


class OnnxBackend:
    name = "onnx"

    def __init__(self, folder: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        path = Path(folder) / ONNX_NAME
        if not path.is_file():
            raise ModelFolderError(f"{folder} has no {ONNX_NAME}: create it with `diplostance export --model {folder}`")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input_names = {i.name for i in self.session.get_inputs()}

    def logits(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        feed = {k: v for k, v in inputs.items() if k in self._input_names}
        return self.session.run(["logits"], feed)[0]


def load_backend(name: str, folder: str | Path, threads: int | None = None) -> Backend:
    """Instantiate the backend called ``name`` ('torch' or 'onnx') on a checked model folder."""
    if name == "torch":
        return TorchBackend(folder, threads)
    if name == "onnx":
        return OnnxBackend(folder, threads)
    raise ValueError(f"unknown backend {name!r}: expected one of {', '.join(BACKENDS)}")
