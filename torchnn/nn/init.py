"""Parameter initialisation (seed §2.4), in ``torch.nn.init``'s in-place style.

The seed: biases may start at zero, but weights must not all start equal (every hidden unit of a
layer would stay identical through gradient descent); start them at *small* random numbers, since
large ones put tanh and σ where their derivatives are flat and learning is slow.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "INIT_SCHEMES",
    "small_random_",
    "he_normal_",
    "xavier_normal_",
    "zeros_",
    "linear_uniform_",
    "init_weight_",
]

INIT_SCHEMES = ("small", "he", "xavier", "zeros", "linear")


def small_random_(
    tensor: Tensor, scale: float = 0.01, generator: torch.Generator | None = None
) -> Tensor:
    """W ~ N(0, 1) * scale (seed §2.4, the course's ``np.random.randn(...) * 0.01``)."""
    with torch.no_grad():
        return tensor.normal_(0.0, 1.0, generator=generator).mul_(scale)


def he_normal_(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """W ~ N(0, 1) * sqrt(2 / n[l-1]) (He et al.), for ReLU layers."""
    fan_in = tensor.shape[-1]
    return small_random_(tensor, math.sqrt(2.0 / fan_in), generator)


def xavier_normal_(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """W ~ N(0, 1) * sqrt(2 / (n[l-1] + n[l])) (Glorot, as ``torch.nn.init.xavier_normal_``)."""
    fan_out, fan_in = tensor.shape[0], tensor.shape[-1]
    return small_random_(tensor, math.sqrt(2.0 / (fan_in + fan_out)), generator)


def zeros_(tensor: Tensor) -> Tensor:
    """All zeros: right for biases; for weights it keeps every hidden unit identical (§2.4)."""
    with torch.no_grad():
        return tensor.zero_()


def linear_uniform_(
    weight: Tensor, bias: Tensor | None = None, generator: torch.Generator | None = None
) -> Tensor:
    """W, b ~ U(-1/sqrt(n[l-1]), 1/sqrt(n[l-1])): ``torch.nn.Linear``'s initialisation.

    NOTE: through ``torch.nn.init.kaiming_uniform_(a=sqrt(5))`` (gain sqrt(1/3), bound
    sqrt(3) gain / sqrt(n) = 1/sqrt(n)) and ``uniform_``, the calls ``nn.Linear`` makes: the same
    bound to the last bit, the same draws, the same random-number state afterwards.
    """
    torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        fan_in = weight.shape[1]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        torch.nn.init.uniform_(bias, -bound, bound, generator=generator)
    return weight


def init_weight_(
    tensor: Tensor,
    scheme: str = "small",
    scale: float = 0.01,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Initialise a weight with one of ``INIT_SCHEMES`` (``scale`` applies to ``"small"``;
    ``"linear"`` here draws the weight only: ``Dense`` draws its bias too)."""
    if scheme == "small":
        return small_random_(tensor, scale, generator)
    if scheme == "he":
        return he_normal_(tensor, generator)
    if scheme == "xavier":
        return xavier_normal_(tensor, generator)
    if scheme == "zeros":
        return zeros_(tensor)
    if scheme == "linear":
        return linear_uniform_(tensor, None, generator)
    raise ValueError(f"unknown init scheme {scheme!r}; expected one of {INIT_SCHEMES}")
