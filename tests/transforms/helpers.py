"""Shared helpers for the transform tests: float64 cases and their scalarised forms."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from torchnn.testing._catalog import Case, all_cases


def cases() -> list[Case]:
    return all_cases()


def ids() -> list[str]:
    return [c.name for c in cases()]


def tensor_positions(case: Case) -> list[int]:
    """The differentiable inputs: floating tensors (class indices stay fixed)."""
    return [i for i, t in enumerate(case.inputs)
            if isinstance(t, Tensor) and t.is_floating_point()]


def over_tensors(case: Case, fn):
    """fn as a function of the case's tensor inputs only, the others fixed (float64)."""
    pos = tensor_positions(case)

    def f(*xs: Tensor) -> Tensor:
        args = list(case.inputs)
        for i, x in zip(pos, xs):
            args[i] = x
        return fn(*args)

    return f


def tensors64(case: Case) -> tuple[Tensor, ...]:
    return tuple(case.inputs[i].detach().double() for i in tensor_positions(case))


def weighted(f, out_shape, seed: int = 0):
    """Σ w·f(...) with fixed random weights w: a generic scalar of f."""
    w = torch.randn(out_shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return lambda *xs: (f(*xs) * w).sum()


class CostOf(nn.Module):
    """``net.cost(x, y)`` as a module's forward, so torch.func.functional_call can reach it."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.net.cost(x, y)
