"""The dense (fully connected) layer module: eq. 2.3 with small random initialisation."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from torchnn import functional as F
from torchnn.nn import init as tinit
from torchnn.nn.dropin import refuse_torchscript

__all__ = ["Dense"]


class Dense(nn.Module):
    r"""Applies :math:`Z = A_{prev} W^T + b` (the seed's eq. 2.3 on row batches).

    Same parameter names and shapes as ``torch.nn.Linear``, so state dicts move between the two.

    Args:
        in_features: n[l-1], the size of each input row.
        out_features: n[l], the number of units.
        bias: if ``False``, the layer has no bias b.
        init: weight initialisation, one of ``"small"`` (N(0, 1) * ``init_scale``, seed §2.4),
            ``"he"``, ``"xavier"``, ``"zeros"`` (biases start at zero), or ``"linear"``:
            ``nn.Linear``'s W, b ~ U(-1/sqrt(n[l-1]), 1/sqrt(n[l-1])), the same draws bit for bit.
        init_scale: the scale of ``"small"`` (the seed's 0.01).
        generator: a ``torch.Generator`` for reproducible initialisation.

    Shape:
        Input ``(*, in_features)``; output ``(*, out_features)``.

    Examples:
        >>> layer = torchnn.Dense(2, 4)
        >>> layer(torch.randn(400, 2)).shape
        torch.Size([400, 4])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        init: str = "small",
        init_scale: float = 0.01,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Dense: {name} must be a positive int, got {value!r}")
        if init not in tinit.INIT_SCHEMES:
            raise ValueError(f"Dense: unknown init {init!r}; expected one of {tinit.INIT_SCHEMES}")
        self.in_features = in_features
        self.out_features = out_features
        self.init = init
        self.init_scale = float(init_scale)
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(out_features, in_features, **factory))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        if self.init == "linear":  # W^[l], b^[l] ~ U(-1/sqrt(n[l-1]), 1/sqrt(n[l-1])): nn.Linear's
            tinit.linear_uniform_(self.weight, self.bias, generator)
            return
        # W^[l] ~ N(0, 1) * 0.01 (or He / Xavier), b^[l] = 0  (seed §2.4)
        tinit.init_weight_(self.weight, self.init, self.init_scale, generator)
        if self.bias is not None:
            tinit.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.dense(input, self.weight, self.bias)

    __prepare_scriptable__ = refuse_torchscript  # a clear error from torch.jit.script

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, init={self.init!r}"
        )
