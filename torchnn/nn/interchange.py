"""Moving networks between torchnn and ``torch.nn``: same parameter names, shapes and values."""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from torchnn.nn.activation import MODULES, torch_activation
from torchnn.nn.softmax import Softmax

__all__ = ["to_torch", "from_torch", "logistic_from_torch"]

_NAMES: dict[type[nn.Module], str] = {  # torch.nn class -> name
    cls.torch_module: cls.name for cls in (*MODULES, Softmax)}


def to_torch(net) -> nn.Sequential:
    """An ``nn.Sequential`` of ``Linear`` and activation modules equal to ``net``, holding copies
    of its weights."""
    mods: list[nn.Module] = []
    for i, layer in enumerate(net.layers):
        lin = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                        device=layer.weight.device, dtype=layer.weight.dtype)
        lin.load_state_dict(layer.state_dict())
        name = net.output_activation if i == net.num_layers - 1 else net.hidden_activation
        mods += [lin, nn.Softmax(dim=-1) if name == "softmax"
                 else torch_activation(name, net.negative_slope)]
    return nn.Sequential(*mods)


def from_torch(cls, seq: nn.Sequential, **kwargs):
    """A ``cls`` (a ``DeepNetwork``) from ``Linear, act, ..., Linear[, act]``, copying weights."""
    mods = list(seq)
    if len(mods) % 2 == 1:
        mods.append(nn.Identity())  # a bare last Linear: identity output
    linears, acts = mods[0::2], mods[1::2]
    names = [_NAMES.get(type(m)) for m in acts]
    if not linears or None in names or not all(isinstance(m, nn.Linear) for m in linears):
        raise ValueError("from_torch expects nn.Sequential(Linear, activation, ..., Linear[, "
                         f"activation]) with activations among {[c.__name__ for c in _NAMES]}; "
                         f"got {seq}")
    if isinstance(acts[-1], nn.Softmax) and acts[-1].dim not in (-1, 1, None):
        raise ValueError(f"from_torch: the output {acts[-1]} normalises dim {acts[-1].dim}; "
                         "expected nn.Softmax(dim=-1) over the classes of a batch (m, C)")
    hidden = set(names[:-1]) or {"relu"}
    if len(hidden) > 1:
        raise ValueError(f"from_torch needs one hidden activation, got {sorted(hidden, key=str)}")
    slopes = [m.negative_slope for m in acts if isinstance(m, nn.LeakyReLU)]
    if len(set(slopes)) > 1:  # NOTE: one slope per network; the first would change the outputs
        raise ValueError(f"from_torch needs one LeakyReLU negative_slope, got {slopes}")
    for i, (a, b) in enumerate(zip(linears, linears[1:])):
        if b.in_features != a.out_features:
            raise ValueError(f"from_torch: Linear {i + 1} takes {b.in_features} features but "
                             f"Linear {i} gives {a.out_features}; expected consecutive Linears "
                             "to chain")
    w = linears[0].weight
    dims = [linears[0].in_features] + [m.out_features for m in linears]
    net = cls(dims, hidden.pop(), names[-1], negative_slope=slopes[0] if slopes else 0.01,
              device=w.device, dtype=w.dtype, **kwargs)
    _copy(net, cast("list[nn.Linear]", linears))  # all Linear: checked above
    return net


def logistic_from_torch(cls, seq: nn.Sequential, **kwargs):
    """A ``LogisticRegression`` from ``nn.Sequential(nn.Linear(n_x, 1), nn.Sigmoid())``."""
    mods = list(seq)
    if (len(mods) != 2 or not isinstance(mods[0], nn.Linear) or mods[0].out_features != 1
            or mods[0].bias is None or type(mods[1]) is not nn.Sigmoid):
        raise ValueError("LogisticRegression.from_torch expects nn.Sequential(nn.Linear(n_x, 1), "
                         f"nn.Sigmoid()); got {seq}")
    lin = mods[0]
    net = cls(lin.in_features, device=lin.weight.device, dtype=lin.weight.dtype, **kwargs)
    _copy(net, [lin])
    return net


def _copy(net, linears: list[nn.Linear]) -> None:
    for layer, lin in zip(net.layers, linears):
        if (layer.bias is None) != (lin.bias is None):
            layer.bias = None if lin.bias is None else nn.Parameter(torch.zeros_like(lin.bias))
        layer.load_state_dict(lin.state_dict())
