"""Export a saved classifier to ONNX with dynamic int8 quantisation (``model.onnx``).

The fp32 graph comes from ``torch.onnx.export`` (TorchScript exporter, dynamic batch and
sequence axes); ONNX Runtime's ``quantize_dynamic`` then stores the weights of the linear
layers as int8, one scale per output channel. It needs no calibration data; embeddings
and LayerNorms stay fp32. Three kinds of MatMul stay fp32 too, each measured on the real
model's rows (top-label agreement with torch): the feed-forward layers and the attention
output projection (the distilled student is more sensitive than the plain fine-tuned model
was: on its test + held-out test rows, quantising only the down-projections' neighbours left
97.7% agreement on test, adding the attention outputs to the fp32 set 98.8%, adding the FFN
up-projections 99.3%), the pooler and the classifier (tiny), and the attention products of
two activations (no gain from int8 at these lengths). So today only the Q/K/V projections
are int8; static int8 with calibration or bf16 is the way to faster exact inference (issue 12).
"""

from __future__ import annotations

import re
import tempfile
import warnings
from pathlib import Path

from .batching import model_input_names

ONNX_NAME = "model.onnx"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def export_onnx(folder: str | Path) -> Path:
    """Write ``folder/model.onnx`` (int8) from ``folder``'s safetensors weights; return its path."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder = Path(folder)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_fp32(folder, Path(tmp) / "model_fp32.onnx")
        quantize_dynamic(
            fp32,
            folder / ONNX_NAME,
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=_kept_in_fp32(fp32),
        )
    return folder / ONNX_NAME


def export_fp32(folder: str | Path, path: Path) -> Path:
    """Write the fp32 graph of ``folder``'s model to ``path`` (dynamic batch and sequence axes)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True).eval()
    names = [name for name in INPUT_NAMES if name in model_input_names(model)]  # MPNet has no token_type_ids
    example = {name: torch.ones((2, 16), dtype=torch.long) for name in names}
    if "token_type_ids" in example:
        example["token_type_ids"] = torch.zeros_like(example["token_type_ids"])
    dynamic = {name: {0: "batch", 1: "sequence"} for name in names} | {"logits": {0: "batch"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (),
            str(path),
            kwargs=example,
            input_names=names,
            output_names=["logits"],
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )
    return path


def _kept_in_fp32(graph_path: Path) -> list[str]:
    """Names of the MatMul/Gemm nodes left unquantised (see the module docstring)."""
    import onnx

    graph = onnx.load(str(graph_path)).graph
    return [
        node.name
        for node in graph.node
        if node.op_type in ("MatMul", "Gemm")
        and (
            "/output/dense/" in node.name
            or "/intermediate/dense/" in node.name
            or "pooler" in node.name
            or "classifier" in node.name
            or re.search(r"/self/MatMul(_1)?$", node.name)
        )
    ]
