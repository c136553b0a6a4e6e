"""Training data loading and validation, and a few real fine-tuning steps on the MiniLM encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import TINY_CORPUS
from diplostance.model.classifier import build_classifier
from diplostance.model.labels import LABEL2ID
from diplostance.model.tokenization import encode, pad_batch, padded_length
from diplostance.train.data import DataError, load_examples, split_for_group
from diplostance.train.finetune import default_base_model


def test_bad_label_names_file_line_and_value(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "We agree.", "label": "Cooperative"}\n{"text": "No.", "label": "Hostile"}\n')
    with pytest.raises(DataError, match=r"rows\.jsonl:2: invalid label 'hostile'; expected one of"):
        load_examples([path])


def test_csv_line_numbers_count_the_header(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("text,label\nWe agree.,cooperative\n,refusing\n")
    with pytest.raises(DataError, match=r"rows\.csv:3: text is missing or empty"):
        load_examples([path])


def test_unreadable_and_unsupported_files(tmp_path):
    with pytest.raises(DataError, match="unsupported file type '.txt'"):
        load_examples([tmp_path / "rows.txt"])
    with pytest.raises(DataError, match="no such file"):
        load_examples([tmp_path / "missing.jsonl"])
    (tmp_path / "nolabel.jsonl").write_text('{"text": "We agree."}\n')
    with pytest.raises(DataError, match="no 'label' column"):
        load_examples([tmp_path / "nolabel.jsonl"])


def test_rows_without_split_are_grouped_by_origin(tmp_path):
    path = tmp_path / "rows.jsonl"
    rows = [f'{{"text": "Statement {i}.", "label": "none", "origin": "doc-{i // 5}"}}\n' for i in range(200)]
    path.write_text("".join(rows))
    examples = load_examples([path])
    by_doc: dict[str, set[str]] = {}
    for i, example in enumerate(examples):
        by_doc.setdefault(f"doc-{i // 5}", set()).add(example.split)
    assert all(len(splits) == 1 for splits in by_doc.values())
    assert {e.split for e in examples} == {"train", "dev", "test"}
    assert split_for_group("doc-1") == split_for_group("doc-1")


def test_tokenisation_pads_to_the_rows_own_multiple_of_eight():
    assert padded_length(1, 256) == 8 and padded_length(9, 256) == 16 and padded_length(300, 256) == 256
    inputs = pad_batch([[101, 7, 102], [101, 102]], 8, 0)
    assert inputs["input_ids"].shape == (2, 8)
    assert inputs["attention_mask"].sum(axis=1).tolist() == [3, 2]


@pytest.mark.real_encoder
def test_real_encoder_fine_tunes_and_loss_falls():
    torch.manual_seed(0)
    model, tokenizer = build_classifier(default_base_model())
    texts = [
        ("We categorically reject the proposal.", "refusing"),
        ("Talks can resume once sanctions are lifted.", "conditional"),
        ("We welcome the agreement and will sign it.", "cooperative"),
        ("The meeting took place on Tuesday.", "none"),
    ] * 2
    ids = encode(tokenizer, [t for t, _ in texts], 64)
    inputs = {k: torch.from_numpy(v) for k, v in pad_batch(ids, max(map(len, ids)), tokenizer.pad_token_id).items()}
    labels = torch.tensor([LABEL2ID[label] for _, label in texts])
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-4)
    model.train()
    losses = []
    for _ in range(10):
        loss = model(**inputs, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.5, losses


def test_prior_shift_recovers_a_label_prior_change_and_lands_in_the_output_bias(tmp_path):
    """Logits from a model whose `none` prior is too low by 1.0: the fitted shift raises `none` by about
    that much, and adding it to the head's bias shifts the model's own logits by exactly the shift."""
    import numpy as np
    from conftest import write_tiny_base
    from diplostance.train.calibrate import fit_temperature_and_shift
    from diplostance.train.finetune import add_output_bias

    rng = np.random.default_rng(0)
    gold = rng.integers(0, 4, 4000)
    clean = rng.normal(size=(4000, 4)) + 2.0 * np.eye(4)[gold]
    biased = clean - np.array([0, 0, 0, 1.0])  # `none` (last label) under-predicted
    temperature, shift = fit_temperature_and_shift(biased, gold)
    assert abs(temperature - 0.5) < 0.08  # Gaussian classes 2 apart: the true posterior is softmax(2 x)
    assert shift[3] - shift[:3].mean() == pytest.approx(1.0, abs=0.15)
    assert (biased + shift).argmax(1).tolist().count(3) > biased.argmax(1).tolist().count(3)

    model, tokenizer = build_classifier(write_tiny_base(tmp_path / "base"))
    batch = tokenizer(["We will not send troops."], return_tensors="pt")
    before = model.eval()(**batch).logits.detach().numpy()
    add_output_bias(model, shift)
    after = model(**batch).logits.detach().numpy()
    assert np.allclose(after - before, shift, atol=1e-5)


def test_frozen_word_embeddings_stay_as_pretrained_while_the_rest_learns(tmp_path):
    from conftest import write_tiny_base, write_tiny_corpus
    from diplostance.train.finetune import TrainConfig, train
    from safetensors.torch import load_file

    base = write_tiny_base(tmp_path / "base")
    pretrained, _ = build_classifier(base)
    out = tmp_path / "model"
    config = TrainConfig(
        data=[write_tiny_corpus(tmp_path / "corpus.jsonl")],
        out=out,
        base_model=base,
        epochs=1,
        learning_rate=3e-3,
        batch_size=8,
        export_onnx=False,
        freeze_word_embeddings=True,
    )
    train(config)
    trained = load_file(out / "model.safetensors")
    name = next(k for k in trained if k.endswith("word_embeddings.weight"))
    layer = next(k for k in trained if k.endswith("layer.0.attention.self.query.weight"))
    state = pretrained.state_dict()
    assert torch.equal(trained[name], state[name])
    assert not torch.equal(trained[layer], state[layer])


def test_teacher_logits_are_exact_per_row_and_reused_only_from_the_same_teacher(tiny_model, tmp_path):
    """`python -m diplostance.train.distill` re-scores only new texts: that is sound because a row's
    teacher logits do not depend on the other rows scored with it, and only for the same teacher."""
    from diplostance.train.distill import TeacherRow, known_logits, teacher_logits, text_key, write_teacher_logits

    texts = [text for text, _ in TINY_CORPUS]
    together = teacher_logits(tiny_model, texts)
    assert np.array_equal(teacher_logits(tiny_model, texts[3:7]), together[3:7])
    rows = [TeacherRow(f"t{i}", t, None, "test", z) for i, (t, z) in enumerate(zip(texts, together))]
    write_teacher_logits(tmp_path, rows, {"teacher_fingerprint": "abc"})
    reused = known_logits(tmp_path, "abc")
    assert set(reused) == {text_key(t) for t in texts}
    assert np.allclose(reused[text_key(texts[5])], together[5], atol=5e-5)
    assert known_logits(tmp_path, "another teacher") == {}
    assert known_logits(tmp_path / "missing", "abc") == {}
