"""The one place where text becomes token ids, shared by training and inference.

Truncation policy: a statement longer than ``max_length`` word pieces (special tokens
included) keeps its first ``max_length - 2`` word pieces. Training saves its ``max_length``
as the tokenizer's ``model_max_length``, which inference reads back. 256 word pieces is roughly
1,000-1,400 characters of English, longer than almost every statement the codebook
defines as a unit (a sentence up to a paragraph); longer texts belong in document mode
(``StanceClassifier.score_document``), which splits them into passages and never cuts.

Padding policy (torch backend): rows are padded to a multiple of ``PAD_MULTIPLE`` that
depends on the row alone, and a batch only holds rows of one padded length, so little
compute goes to padding and a row's padded input never depends on its batch-mates. The
ONNX backend pads nothing: it runs one row per call (see ``diplostance.infer.backends``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from transformers import PreTrainedTokenizerBase

DEFAULT_MAX_LENGTH = 256
PAD_MULTIPLE = 8
CHARS_PER_PIECE_BOUND = 64
"""Texts are cut to ``max_length * CHARS_PER_PIECE_BOUND`` characters before tokenising (16,384 for
256 pieces). English word pieces average 4-5 characters, so the cut never reaches the pieces the
model reads, and a 50 MB line costs 16 kB of tokenising instead of gigabytes of memory."""


def encode(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids of each text, with special tokens, truncated to ``max_length`` (no padding)."""
    limit = max_length * CHARS_PER_PIECE_BOUND
    cut = [text[:limit] for text in texts]
    return tokenizer(cut, truncation=True, max_length=max_length, padding=False)["input_ids"]


def fits_window(tokenizer: PreTrainedTokenizerBase, text: str, max_length: int) -> bool:
    """Whether ``text`` (special tokens included) fits in ``max_length`` pieces uncut: document mode
    splits what does not, so that no passage loses its end to truncation."""
    if len(text) > max_length * CHARS_PER_PIECE_BOUND:
        return False
    return len(tokenizer(text, truncation=False, verbose=False)["input_ids"]) <= max_length


def padded_length(n_tokens: int, max_length: int) -> int:
    """The length a row of ``n_tokens`` ids is padded to: the next multiple of PAD_MULTIPLE."""
    return min(max_length, -(-n_tokens // PAD_MULTIPLE) * PAD_MULTIPLE)


def pad_batch(ids: Sequence[Sequence[int]], length: int, pad_id: int) -> dict[str, np.ndarray]:
    """Model inputs (int64 arrays) for rows of token ids padded to ``length``."""
    input_ids = np.full((len(ids), length), pad_id, dtype=np.int64)
    attention_mask = np.zeros((len(ids), length), dtype=np.int64)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = seq
        attention_mask[row, : len(seq)] = 1
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "token_type_ids": np.zeros_like(input_ids),
    }
