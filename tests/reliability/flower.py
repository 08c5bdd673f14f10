"""The planar flower data for the reliability tests: torchnn.data.make_flower's formula, here.

NOTE: a copy of the formula (tested equal to ``torchnn.data.make_flower``) so that the
subprocesses of the determinism test need not import Lightning (seconds per process).
"""

import numpy as np
import torch


def flower(dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """X (400, 2) and y (400, 1): the course's planar "flower", seeded."""
    X, y = make_flower()
    return torch.as_tensor(X, dtype=dtype), torch.as_tensor(y, dtype=dtype).reshape(-1, 1)


def make_flower(seed: int = 1, n: int = 200, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Class j's points on the petals r = 4 sin 4t, t in [3.12 j, 3.12 (j + 1)], with noise."""
    rng = np.random.RandomState(seed)  # the course's stream (np.random.seed), kept local
    X, y = np.zeros((2 * n, 2)), np.zeros(2 * n)
    for j in range(2):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, n) + rng.randn(n) * noise
        r = 4 * np.sin(4 * t) + rng.randn(n) * noise
        X[n * j:n * (j + 1)] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[n * j:n * (j + 1)] = j
    return X, y
