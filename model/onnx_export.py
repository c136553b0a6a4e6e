"""Export a saved classifier to ONNX with dynamic int8 quantisation (``model.onnx``).

The fp32 graph comes from ``torch.onnx.export`` (TorchScript exporter, dynamic batch and
sequence axes); ONNX Runtime's ``quantize_dynamic`` then stores the MatMul weights as int8.
Dynamic quantisation needs no calibration data and keeps the embedding lookups and
LayerNorms in fp32, which is what keeps its accuracy within noise of the torch model.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

ONNX_NAME = "model.onnx"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def export_onnx(folder: str | Path) -> Path:
    """Write ``folder/model.onnx`` (int8) from ``folder``'s safetensors weights; return its path."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForSequenceClassification

    folder = Path(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True).eval()
    example = torch.ones((2, 16), dtype=torch.long)
    dynamic = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES} | {"logits": {0: "batch"}}
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fp32 = Path(tmp) / "model_fp32.onnx"
        torch.onnx.export(
            model,
            (example, example, torch.zeros_like(example)),
            str(fp32),
            input_names=list(INPUT_NAMES),
            output_names=["logits"],
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(fp32, folder / ONNX_NAME, weight_type=QuantType.QInt8)
    return folder / ONNX_NAME
