"""Logits of a torch classifier for rows of token ids: length-sorted batches, exact per row.

Rows are sorted by length and batched so that every row of a batch has the same padded
length (a multiple of ``PAD_MULTIPLE`` that depends on the row alone): little compute goes
to padding, and a row's numbers do not depend on its batch-mates. Shared by the torch
inference backend and by training (the teacher's logits for distillation), so both compute
the same numbers.

``bf16`` runs the matrix products under ``torch.autocast(bfloat16)``: on CPUs with
AVX512-BF16 or AMX it is several times faster than fp32 (see the README's benchmark); the
logits come back as float32. oneDNN picks its bf16 kernel by the shape of the product, and
different kernels round differently: measured here, 4-decimal probabilities of ~40% of rows
changed between batch sizes 1, 8 and 16. So under bf16 every batch has exactly
``BF16_BATCH_ROWS`` rows whatever ``batch_size`` asks (a short batch is filled with copies
of its first row, whose results are dropped): the shape then depends on the row's own length
alone, and a row's numbers are identical whatever its batch-mates, batch size or window
(tests/test_classifier_api.py and tests/test_scoring_job.py check it). Thread counts change
oneDNN's kernels too (the tiny test model's probabilities moved in the 4th decimal between 1
and 2 threads), so the bf16 backend runs single-threaded kernels on a pool of ``workers``,
one per core, which was also faster here (382 vs 322 statements/s on 2 cores).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .tokenization import pad_batch, padded_length

BF16_BATCH_ROWS = 32
"""The one batch shape of bf16 inference: 32 rows was faster than 16 here (393 vs 371 statements/s)."""


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
    model,
    token_ids: list[list[int]],
    *,
    pad_id: int,
    max_length: int,
    batch_size: int = 64,
    bf16: bool = False,
    workers: ThreadPoolExecutor | None = None,
) -> np.ndarray:
    """Logits (n, n_labels) in input order; ``model`` is in eval mode.

    ``workers``: a thread pool that runs the batches side by side (torch releases the GIL inside
    its kernels); with ``torch.set_num_threads(1)`` each kernel is single-threaded, so the numbers
    do not depend on how many workers there are.
    """
    import torch

    accepted = model_input_names(model)
    batch_size = BF16_BATCH_ROWS if bf16 else batch_size

    def run(batch: tuple[np.ndarray, int]) -> tuple[np.ndarray, np.ndarray]:
        rows, length = batch
        filled = list(rows) + [rows[0]] * (batch_size - len(rows) if bf16 else 0)
        inputs = pad_batch([token_ids[i] for i in filled], length, pad_id)
        tensors = {k: torch.from_numpy(v) for k, v in inputs.items() if k in accepted}
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return rows, model(**tensors).logits.float().numpy()[: len(rows)]

    out = np.zeros((len(token_ids), model.config.num_labels), dtype=np.float32)
    batches = length_batches(token_ids, max_length, batch_size)
    for rows, logits in workers.map(run, batches) if workers else map(run, batches):
        out[rows] = logits
    return out
