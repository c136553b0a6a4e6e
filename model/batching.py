"""Logits of a torch classifier for rows of token ids: length-sorted batches, exact per row.

Rows are sorted by length and batched so that every row of a batch has the same padded
length (a multiple of ``PAD_MULTIPLE`` that depends on the row alone): little compute goes
to padding, and a row's numbers do not depend on its batch-mates. Shared by the torch
inference backend and by training (the teacher's logits for distillation), so both compute
the same numbers.

``bf16`` runs the matrix products under ``torch.autocast(bfloat16)``: on CPUs with
AVX512-BF16 or AMX it is several times faster than fp32 (see the README's benchmark); the
logits come back as float32.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import numpy as np

from .tokenization import pad_batch, padded_length


def length_batches(token_ids: list[list[int]], max_length: int, batch_size: int) -> Iterator[tuple[np.ndarray, int]]:
    """Row indices of each batch and its padded length: sorted by length, one padded length a batch."""
    lengths = np.array([padded_length(len(ids), max_length) for ids in token_ids])
    order = np.argsort(lengths, kind="stable")
    start = 0
    while start < len(order):
        length = lengths[order[start]]
        stop = start + 1
        while stop < len(order) and stop - start < batch_size and lengths[order[stop]] == length:
            stop += 1
        yield order[start:stop], int(length)
        start = stop


def model_input_names(model) -> set[str]:
    """The inputs the model's forward accepts (MPNet takes no token_type_ids, BERT does)."""
    return set(inspect.signature(model.forward).parameters)


def batched_logits(
    model, token_ids: list[list[int]], *, pad_id: int, max_length: int, batch_size: int = 64, bf16: bool = False
) -> np.ndarray:
    """Logits (n, n_labels) in input order; ``model`` is in eval mode."""
    import torch

    accepted = model_input_names(model)
    out = np.zeros((len(token_ids), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for rows, length in length_batches(token_ids, max_length, batch_size):
            inputs = pad_batch([token_ids[i] for i in rows], length, pad_id)
            tensors = {k: torch.from_numpy(v) for k, v in inputs.items() if k in accepted}
            out[rows] = model(**tensors).logits.float().numpy()
    return out
