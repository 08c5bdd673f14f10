"""Every torchnn Function (and DeepNetwork through functional_call) with example inputs and
its native PyTorch reference: what ``python -m torchnn.testing --table`` and the tests check."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as TF
from torch import Tensor, nn

from torchnn import functional as F
from torchnn.nn.network import DeepNetwork

__all__ = ["Case", "function_cases", "network_case", "all_cases"]


@dataclass
class Case:
    """One row of the table: ``check_function(fn, *inputs, reference=reference)``."""

    name: str
    fn: Callable[..., Any]
    inputs: tuple[Any, ...]
    reference: Callable[..., Any]


def _inputs(seed: int = 0) -> dict[str, Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {
        "z": torch.randn(3, 4, generator=gen),  # (m, n)
        "w": torch.randn(2, 4, generator=gen),  # (n_out, n_in)
        "b": torch.randn(2, generator=gen),  # (n_out,)
        "y": torch.rand(3, 4, generator=gen),  # targets in [0, 1]
        "y_out": torch.rand(3, 2, generator=gen),  # targets of a (3, 2) layer output
        "w2": torch.randn(3, 2, generator=gen),  # a second layer on the (3, 2) output
        "b2": torch.randn(3, generator=gen),
        "y_net": torch.rand(3, 3, generator=gen),  # targets of the (3, 3) second layer output
        "t": torch.tensor([3, 0, 1]),  # class indices (m,) of the (3, 4) logits z
        "t_out": torch.tensor([1, 0, 1]),  # class indices of a (3, 2) layer output
        "t_net": torch.tensor([2, 0, 1]),  # class indices of the (3, 3) second layer output
        "p": torch.softmax(torch.randn(3, 4, generator=gen), -1),  # class probabilities (m, C)
    }


def function_cases(seed: int = 0) -> list[Case]:
    """The Functions of ``torchnn.functional`` against ``torch.nn.functional``."""
    t = _inputs(seed)
    z, w, b, y = t["z"], t["w"], t["b"], t["y"]
    return [
        Case("sigmoid", F.sigmoid, (z,), torch.sigmoid),
        Case("tanh", F.tanh, (z,), torch.tanh),
        Case("relu", F.relu, (z,), TF.relu),
        Case("leaky_relu", F.leaky_relu, (z, 0.01), TF.leaky_relu),
        Case("dense", F.dense, (z, w, b), TF.linear),
        Case("dense_activation", F.dense_activation, (z, w, b, "tanh"),
             lambda z, w, b, g: torch.tanh(TF.linear(z, w, b))),
        Case("dense_activation_pair", F.dense_activation_pair,
             (z, w, b, t["w2"], t["b2"], "tanh"),
             lambda z, w, b, w2, b2, g: torch.tanh(TF.linear(torch.tanh(TF.linear(z, w, b)),
                                                             w2, b2))),
        Case("dense_cross_entropy", F.dense_cross_entropy, (z, w, b, t["y_out"]),
             lambda z, w, b, y: TF.binary_cross_entropy_with_logits(TF.linear(z, w, b), y)),
        Case("dense_network_cross_entropy",
             functools.partial(F.dense_network_cross_entropy, activation="tanh"),
             (z, t["y_net"], w, b, t["w2"], t["b2"]),
             lambda z, y, w, b, w2, b2: TF.binary_cross_entropy_with_logits(
                 TF.linear(torch.tanh(TF.linear(z, w, b)), w2, b2), y)),
        Case("bce_with_logits", F.binary_cross_entropy_with_logits, (z, y),
             TF.binary_cross_entropy_with_logits),
        Case("mse_loss", F.mse_loss, (z, y), TF.mse_loss),
        Case("softmax", F.softmax, (z, -1), TF.softmax),
        Case("cross_entropy", F.cross_entropy, (z, t["t"]), TF.cross_entropy),
        Case("cross_entropy[probabilities]", F.cross_entropy, (z, t["p"]), TF.cross_entropy),
        Case("dense_softmax_cross_entropy", F.dense_softmax_cross_entropy,
             (z, w, b, t["t_out"]),
             lambda z, w, b, y: TF.cross_entropy(TF.linear(z, w, b), y)),
        Case("dense_network_cross_entropy[softmax]",
             functools.partial(F.dense_network_cross_entropy, activation="tanh",
                               output="softmax"),
             (z, t["t_net"], w, b, t["w2"], t["b2"]),
             lambda z, y, w, b, w2, b2: TF.cross_entropy(
                 TF.linear(torch.tanh(TF.linear(z, w, b)), w2, b2), y)),
    ]


def _stateless(module: nn.Module, names: list[str]) -> Callable[..., Tensor]:
    """module(x) as a function of x and the parameters, via torch.func.functional_call."""

    def f(x: Tensor, *params: Tensor) -> Tensor:
        return torch.func.functional_call(module, dict(zip(names, params)), (x,))

    return f


def network_case(hidden: str = "tanh", seed: int = 0) -> Case:
    """A 3-layer DeepNetwork A^[L](x; W, b) against its ``to_torch()`` twin."""
    gen = torch.Generator().manual_seed(seed)
    net = DeepNetwork([3, 4, 3, 1], hidden_activation=hidden, init="he", generator=gen)
    seq = net.to_torch()
    names = [n for n, _ in net.named_parameters()]
    seq_names = [n for n, _ in seq.named_parameters()]
    params = tuple(p.detach().clone() for p in net.parameters())
    x = torch.randn(5, 3, generator=gen)
    return Case(f"DeepNetwork[{hidden}]", _stateless(net, names), (x, *params),
                _stateless(seq, seq_names))


def all_cases(seed: int = 0) -> list[Case]:
    return function_cases(seed) + [network_case("tanh", seed)]
