"""The label schema, the saved model folder, safe loading and pipeline compatibility."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from diplostance.infer import StanceClassifier
from diplostance.model.classifier import ModelFolderError, check_model_folder
from diplostance.model.labels import ID2LABEL, LABEL2ID, LABELS, STANCES, check_label
from diplostance.model.manifest import ManifestError, write_manifest
from transformers import pipeline

TEXTS = [
    "We categorically reject the proposal.",
    "Talks can resume once the sanctions are lifted.",
    "The meeting took place on Tuesday.",
    "We welcome the agreement and will implement it.",
]


def test_label_schema_is_one_consistent_order():
    assert LABELS == ("cooperative", "conditional", "refusing", "none")
    assert STANCES == LABELS[:3]
    assert all(LABEL2ID[ID2LABEL[i]] == i for i in ID2LABEL)
    assert check_label("refusing") == "refusing"
    with pytest.raises(ValueError, match="expected one of cooperative, conditional, refusing, none"):
        check_label("hostile")


def test_saved_folder_has_the_documented_files(tiny_model):
    names = {p.name for p in tiny_model.iterdir()}
    expected = {"config.json", "model.safetensors", "model.onnx", "calibration.json", "manifest.json", "README.md"}
    assert expected <= names
    assert not any(name.endswith(".bin") for name in names)
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["id2label"] == {str(i): label for i, label in enumerate(LABELS)}
    card = (tiny_model / "README.md").read_text()
    assert "macro-F1" in card and "Intended use" in card and "Limits" in card


def test_round_trip_gives_identical_probabilities(tiny_model, tmp_path):
    first = StanceClassifier.from_pretrained(tiny_model, backend="torch").predict_proba(TEXTS)
    copy = tmp_path / "copy"
    shutil.copytree(tiny_model, copy)
    second = StanceClassifier.from_pretrained(copy, backend="torch").predict_proba(TEXTS)
    np.testing.assert_array_equal(first, second)


def test_transformers_pipeline_loads_the_folder_and_agrees(tiny_model):
    classifier = pipeline("text-classification", model=str(tiny_model), device="cpu")
    ours = StanceClassifier.from_pretrained(tiny_model, backend="torch").predict(TEXTS)
    theirs = classifier(TEXTS)
    assert [r["label"] for r in theirs] == [p.label for p in ours]


def test_pickle_weights_are_refused(tiny_model, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny_model, folder)
    (folder / "pytorch_model.bin").write_bytes(b"not really a pickle")
    with pytest.raises(ModelFolderError, match="pytorch_model.bin is a pickle weight file"):
        StanceClassifier.from_pretrained(folder)


def test_tampered_file_is_named(tiny_model, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny_model, folder)
    with (folder / "model.safetensors").open("r+b") as handle:
        handle.seek(-8, 2)
        handle.write(b"\x00" * 8)
    with pytest.raises(ManifestError, match="'model.safetensors'.*does not match its hash"):
        check_model_folder(folder)


def test_missing_manifest_and_missing_folder_are_clear(tiny_model, tmp_path):
    with pytest.raises(ModelFolderError, match="no model at"):
        check_model_folder(tmp_path / "nowhere")
    folder = tmp_path / "m"
    shutil.copytree(tiny_model, folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(ManifestError, match="manifest.json is missing"):
        check_model_folder(folder)


def test_foreign_label_schema_is_refused(tiny_model, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny_model, folder)
    config = json.loads((folder / "config.json").read_text())
    config["id2label"] = {"0": "positive", "1": "negative", "2": "neutral", "3": "none"}
    (folder / "config.json").write_text(json.dumps(config))
    write_manifest(folder)
    with pytest.raises(ModelFolderError, match="not a diplostance model"):
        check_model_folder(folder)


def test_inference_truncates_at_the_training_length(tiny_model):
    trained = json.loads((tiny_model / "training_config.json").read_text())["max_length"]
    assert StanceClassifier.from_pretrained(tiny_model).max_length == trained == 128


def _damaged(tiny_model, tmp_path, damage) -> Path:
    """A copy of the model folder, damaged by ``damage(folder)``, with its manifest regenerated (so only the
    content checks can catch it)."""
    folder = tmp_path / "damaged"
    shutil.copytree(tiny_model, folder)
    damage(folder)
    write_manifest(folder)
    return folder


def _three_output_graph(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    logits = helper.make_tensor("value", TensorProto.FLOAT, [1, 3], [0.1, 0.2, 0.7])
    graph = helper.make_graph(
        [helper.make_node("Constant", [], ["logits"], value=logits)],
        "three",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, None])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


@pytest.mark.parametrize(
    ("damage", "backend", "message"),
    [
        (lambda f: (f / "model.onnx").write_bytes(b"garbage"), "onnx", "model.onnx is not a readable ONNX model"),
        (lambda f: _three_output_graph(f / "model.onnx"), "onnx", "model.onnx gives 1 output.s. of width 3"),
        (lambda f: (f / "calibration.json").write_text('{"temp": 1}'), "onnx", "calibration.json is unreadable"),
        (lambda f: (f / "calibration.json").write_text('{"temperature": 0}'), "onnx", "must be a positive"),
        (lambda f: (f / "calibration.json").write_text('{"temperature": -1}'), "onnx", "must be a positive"),
        (
            lambda f: (f / "model.safetensors").write_bytes((f / "model.safetensors").read_bytes()[:1000]),
            "torch",
            "model.safetensors cannot be loaded",
        ),
        (lambda f: (f / "config.json").write_text("{not json"), "onnx", "config.json is unreadable"),
    ],
)
def test_a_damaged_model_folder_is_refused_naming_the_file(tiny_model, tmp_path, damage, backend, message):
    folder = _damaged(tiny_model, tmp_path, damage)
    with pytest.raises(ModelFolderError, match=message):
        StanceClassifier.from_pretrained(folder, backend=backend)


def test_a_link_leaving_the_folder_and_a_malformed_manifest_are_refused(tiny_model, tmp_path):
    (tmp_path / "elsewhere.json").write_text("{}")
    folder = _damaged(tiny_model, tmp_path, lambda f: (f / "extra.json").symlink_to(tmp_path / "elsewhere.json"))
    with pytest.raises(ModelFolderError, match="extra.json is a link .* outside the model folder"):
        check_model_folder(folder)
    (folder / "extra.json").unlink()
    (folder / "manifest.json").write_text("{broken")
    with pytest.raises(ManifestError, match="manifest.json is unreadable"):
        check_model_folder(folder)
