"""Shared pytest set-up: deterministic threads, and CUDA tests that skip cleanly without a GPU."""

import pytest
import torch

# NOTE: one thread: tiny GEMMs spin-wait on 2 cores under load (0.2 ms -> 130 ms seen)
torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
