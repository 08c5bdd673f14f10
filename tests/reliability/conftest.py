"""Fixtures for the reliability tests."""

import pytest
import torch


@pytest.fixture
def one_thread():
    """Run a loop of tiny ops on one intra-op thread.

    NOTE: the flower network's ops are far too small to split across threads; on a loaded 2-core
    machine two OpenMP threads made the explicit step ~10x slower (2 ms instead of 0.18 ms) as
    they wait on each other. One thread also makes CPU results independent of the thread count.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
