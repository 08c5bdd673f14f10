"""The planar flower data for the reliability tests (torchnn.data's, or the same formula here)."""

import numpy as np
import torch


def flower(dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """X (400, 2) and y (400, 1): the course's planar "flower", seeded."""
    try:
        from torchnn.data import make_flower
    except ImportError:  # the data package stands alone; the formula is short
        make_flower = _make_flower
    X, y = make_flower()
    return torch.as_tensor(X, dtype=dtype), torch.as_tensor(y, dtype=dtype).reshape(-1, 1)


def _make_flower(seed: int = 1, n: int = 200, noise: float = 0.2):
    rng = np.random.default_rng(seed)
    X, y = np.zeros((2 * n, 2)), np.zeros(2 * n)
    for j in range(2):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, n) + rng.standard_normal(n) * noise
        r = 4 * np.sin(4 * t) + rng.standard_normal(n) * noise
        X[n * j:n * (j + 1)] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[n * j:n * (j + 1)] = j
    return X, y
