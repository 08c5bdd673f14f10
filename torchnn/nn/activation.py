"""Activation modules, thin wrappers over ``torchnn.functional``, and the activation registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from torchnn import functional as F
from torchnn.functional.activations import BACKWARD_RULES

__all__ = ["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Identity", "ACTIVATIONS", "get_activation"]


class Sigmoid(nn.Module):
    r"""Applies :math:`a = \sigma(z) = 1 / (1 + e^{-z})` with derivative :math:`a(1 - a)`.

    Shape:
        Input ``(*)``; output the same shape.

    Examples:
        >>> torchnn.Sigmoid()(torch.zeros(2))
        tensor([0.5000, 0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(nn.Module):
    r"""Applies :math:`a = \tanh(z)` with derivative :math:`1 - a^2`. Shape: ``(*)`` -> ``(*)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class ReLU(nn.Module):
    r"""Applies :math:`a = \max(0, z)` with derivative :math:`1[a > 0]`. Shape: ``(*)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)


class LeakyReLU(nn.Module):
    r"""Applies :math:`a = \max(\text{slope}\, z, z)` with derivative 1 or slope.

    Args:
        negative_slope: the slope for z < 0 (the seed's 0.01). Any real value is supported.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Identity(nn.Module):
    """g(z) = z, the linear activation (the seed's "Why activation functions")."""

    def forward(self, input: Tensor) -> Tensor:
        return input


@dataclass(frozen=True)
class ActivationSpec:
    """Everything torchnn needs to know about one activation g, by name."""

    module: Callable[[float], nn.Module]  # torchnn module, given the leaky slope
    torch_module: Callable[[float], nn.Module]  # the equivalent torch.nn module
    raw: Callable[[Tensor, float], Tensor]  # g(z) without autograd bookkeeping
    backward: Callable[[Tensor, Tensor, float], Tensor]  # (dA, saved, slope) -> dZ
    saves_input: Callable[[float], bool]  # does the rule need z rather than a?


def _never(_slope: float) -> bool:
    return False


ACTIVATIONS: dict[str, ActivationSpec] = {
    "sigmoid": ActivationSpec(
        lambda s: Sigmoid(), lambda s: nn.Sigmoid(), lambda z, s: torch.sigmoid(z),
        BACKWARD_RULES["sigmoid"], _never,
    ),
    "tanh": ActivationSpec(
        lambda s: Tanh(), lambda s: nn.Tanh(), lambda z, s: torch.tanh(z),
        BACKWARD_RULES["tanh"], _never,
    ),
    "relu": ActivationSpec(
        lambda s: ReLU(), lambda s: nn.ReLU(), lambda z, s: torch.relu(z),
        BACKWARD_RULES["relu"], _never,
    ),
    "leaky_relu": ActivationSpec(
        LeakyReLU, nn.LeakyReLU, lambda z, s: torch.nn.functional.leaky_relu(z, s),
        BACKWARD_RULES["leaky_relu"], lambda s: s < 0,
    ),
    "identity": ActivationSpec(
        lambda s: Identity(), lambda s: nn.Identity(), lambda z, s: z,
        BACKWARD_RULES["identity"], _never,
    ),
}


def get_activation(name: str, where: str = "activation") -> ActivationSpec:
    """Look up an activation by name, with an error that lists the valid names."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown {where} {name!r}; expected one of {sorted(ACTIVATIONS)}"
        ) from None

