"""The benchmarked problems and the training-step variants that solve them.

Every variant starts from the same weights (one seeded ``DeepNetwork``), sees the same (x, y) and
runs one step of batch gradient descent on the cross-entropy cost with the same learning rate,
so all of them do the same work (``tests/bench`` checks they end at the same parameters).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import torch
from torch import Tensor, nn

from torchnn.bench.floors import bare_function_forward, kernels_step
from torchnn.bench.numpy_ref import NumpyNetwork
from torchnn.nn.network import DeepNetwork

__all__ = ["SIZES", "OUTPUT_OF", "Problem", "Variant", "VARIANTS", "parse_size",
           "build_variants"]

# name -> (layer_dims, m): the seed's networks at the sizes the course trains them
SIZES: dict[str, tuple[list[int], int]] = {
    "tiny": ([3, 5, 1], 32),  # smoke tests only
    "flower": ([2, 4, 1], 400),  # the planar "flower" data, 2-layer network
    "wdbc": ([30, 64, 32, 1], 569),  # breast-cancer table
    "mnist": ([784, 256, 256, 1], 256),  # 28x28 images, one mini-batch
    "cat": ([12288, 20, 7, 5, 1], 209),  # the course's 4-layer cat network, 64x64x3 images
    "large": ([2048, 2048, 2048, 1], 4096),  # GEMM-bound
    "mnist10": ([784, 256, 256, 10], 256),  # 10 digits: softmax output, one label of C
}
OUTPUT_OF = {"mnist10": "softmax"}  # the sizes whose output is not the seed's sigmoid
VARIANTS = ("explicit", "c-loop", "recompute", "backprop", "autograd", "autograd-layers",
            "autograd-recompute", "torch.nn", "compiled", "numpy", "kernels", "bare-fn")
# NOTE: "explicit" is gd_step on the torch engine; "c-loop" is gd_step as called by default
# (engine "auto": the compiled C loop for a small CPU network, else the same torch engine)
# NOTE: "kernels" and "bare-fn" are floors (``torchnn.bench.floors``), not library paths


def parse_size(spec: str) -> tuple[str, list[int], int]:
    """A name from ``SIZES`` or ``"n0-n1-...-nL@m"`` (e.g. ``"2-4-1@400"``)."""
    if spec in SIZES:
        return spec, list(SIZES[spec][0]), SIZES[spec][1]
    try:
        dims_s, m_s = spec.split("@")
        dims, m = [int(n) for n in dims_s.split("-")], int(m_s)
    except ValueError:
        dims, m = [], 0
    if len(dims) < 2 or min(dims) < 1 or m < 1:
        raise ValueError(f"unknown size {spec!r}; expected one of {sorted(SIZES)} or "
                         "'n0-n1-...-nL@m' (two or more positive sizes, m >= 1), e.g. '2-4-1@400'")
    return spec, dims, m


@dataclass
class Problem:
    """One benchmark cell: network shape, hidden activation, batch, dtype and device."""

    name: str
    dims: list[int]
    m: int
    activation: str = "tanh"
    lr: float = 0.05
    dtype: torch.dtype = torch.float32
    device: str = "cpu"
    seed: int = 0
    output: str = "sigmoid"  # or "softmax": y holds class indices (m,), C = dims[-1]
    x: Tensor = field(init=False, repr=False)
    y: Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        g = torch.Generator().manual_seed(self.seed)
        self.x = torch.randn(self.m, self.dims[0], generator=g, dtype=self.dtype).to(self.device)
        if self.output == "softmax":  # class indices (m,), as nn.CrossEntropyLoss takes them
            self.y = torch.randint(0, self.dims[-1], (self.m,), generator=g).to(self.device)
            return
        y = torch.rand(self.m, self.dims[-1], generator=g) > 0.5
        self.y = y.to(self.device, self.dtype)

    def network(self) -> DeepNetwork:
        """The shared starting point: He-initialised weights, zero biases (seed §2.4)."""
        g = torch.Generator().manual_seed(self.seed + 1)
        return DeepNetwork(self.dims, self.activation, self.output, init="he", generator=g,
                           dtype=self.dtype).to(self.device)

    @property
    def flops(self) -> int:
        """GEMM FLOPs of one step: forward, dW for every layer, dA for layers 2..L."""
        pairs = list(zip(self.dims[:-1], self.dims[1:]))
        fwd = sum(2 * self.m * a * b for a, b in pairs)
        return 2 * fwd + fwd - 2 * self.m * pairs[0][0] * pairs[0][1]

    @property
    def activation_bytes(self) -> int:
        """Σ_l m n[l] itemsize over l = 1..L: the hidden activations plus the output Z^[L]."""
        return self.m * sum(self.dims[1:]) * torch.empty((), dtype=self.dtype).element_size()


@dataclass
class Variant:
    """A way to run one training step, with what the tests and the report need from it."""

    name: str
    step: Callable[[], object]
    params: Callable[[], list[Tensor]]  # [W1, b1, W2, b2, ...] after the steps so far
    forward: Callable[[], Tensor] | None = None  # the graph-building part (autograd variants)
    exclude: list[Tensor] = field(default_factory=list)  # parameters and inputs
    held: Callable[[], int] | None = None  # bytes gd_step keeps between calls (its workspace)


def _sgd(params: list[Tensor], lr: float, cost: Callable[[], Tensor]) -> Callable[[], Tensor]:
    """A step of ``torch.optim.SGD`` on ``cost()``: zero_grad, forward, backward, update."""
    opt = torch.optim.SGD(params, lr=lr)

    def step() -> Tensor:
        opt.zero_grad()
        j = cost()
        j.backward()
        opt.step()
        return j

    return step


def _net_params(net: DeepNetwork) -> list[Tensor]:
    return [cast(Tensor, t) for lay in net.layers for t in (lay.weight, lay.bias)]


def _explicit(name: str, p: Problem, net0: DeepNetwork) -> Variant:
    net, x, y, recompute = copy.deepcopy(net0), p.x, p.y, name == "recompute"
    check = p.device == "cpu"  # NOTE: the J check is a host sync on an accelerator
    engine = "auto" if name == "c-loop" else "torch"
    return Variant(name, lambda: net.gd_step(x, y, p.lr, check, recompute, engine),
                   lambda: _net_params(net),
                   held=net._workspace.nbytes)


def _backprop(name: str, p: Problem, net0: DeepNetwork) -> Variant:
    net, x, y = copy.deepcopy(net0), p.x, p.y
    params = _net_params(net)

    def step():
        net.zero_grad()
        cost = net.backprop(x, y, check_values=p.device == "cpu")  # eqs. 2.9-2.12 into .grad
        with torch.no_grad():
            torch._foreach_add_(params, [q.grad for q in params], alpha=-p.lr)  # w -= α dw
        return cost

    return Variant(name, step, lambda: params)


def _autograd(name: str, p: Problem, net0: DeepNetwork) -> Variant:
    net, x, y = copy.deepcopy(net0), p.x, p.y
    net.recompute = name == "autograd-recompute"  # pairs of hidden layers, the middle A rebuilt
    net.graph = "layers" if name == "autograd-layers" else "network"  # per layer, or one node
    step = _sgd(list(net.parameters()), p.lr, lambda: net.cost(x, y, p.device == "cpu"))
    return Variant(name, step, lambda: _net_params(net),
                   forward=lambda: net.cost(x, y, check_values=False),
                   exclude=[*net.parameters(), x, y])


def _torch_nn(name: str, p: Problem, net0: DeepNetwork) -> Variant:
    seq = nn.Sequential(*list(net0.to_torch())[:-1])  # logits: drop the final Sigmoid / Softmax
    loss_fn = nn.CrossEntropyLoss() if p.output == "softmax" else nn.BCEWithLogitsLoss()
    x, y = p.x, p.y

    def loss(x, y):
        return loss_fn(seq(x), y)

    if name == "compiled":
        # NOTE: every cell compiles the same ``loss`` code object; without a reset Dynamo's
        # cache hits its recompile limit after 8 shapes and silently runs the rest eagerly
        torch._dynamo.reset()
        loss = torch.compile(loss)
    params = [t for lin in seq if isinstance(lin, nn.Linear) for t in (lin.weight, lin.bias)]
    return Variant(name, _sgd(params, p.lr, lambda: loss(x, y)), lambda: params,
                   forward=None if name == "compiled" else (lambda: loss(x, y)),
                   exclude=[*params, x, y])


def _numpy(name: str, p: Problem, net0: DeepNetwork) -> Variant:
    ref = NumpyNetwork([cast(Tensor, lay.weight).detach().cpu().numpy() for lay in net0.layers],
                       [cast(Tensor, lay.bias).detach().cpu().numpy() for lay in net0.layers],
                       p.activation, net0.negative_slope)
    X = np.ascontiguousarray(p.x.cpu().double().numpy().T)  # (n_x, m): the seed's columns
    Y = np.ascontiguousarray(p.y.cpu().double().numpy().T)
    return Variant(name, lambda: ref.step(X, Y, p.lr), lambda: [
        torch.from_numpy(t.copy()) for w, b in zip(ref.W, ref.b) for t in (w, b.reshape(-1))])


def _kernels(name: str, p: Problem, net0: DeepNetwork) -> Variant:
    return Variant(name, *kernels_step(p, net0))


def _bare_fn(name: str, p: Problem, net0: DeepNetwork) -> Variant:
    forward, params, exclude = bare_function_forward(p, net0)
    return Variant(name, _sgd(params, p.lr, forward), lambda: params, forward=forward,
                   exclude=exclude)


_BUILDERS = {"explicit": _explicit, "c-loop": _explicit, "recompute": _explicit,
             "backprop": _backprop,
             "autograd": _autograd, "autograd-layers": _autograd, "autograd-recompute": _autograd,
             "torch.nn": _torch_nn, "compiled": _torch_nn, "numpy": _numpy, "kernels": _kernels,
             "bare-fn": _bare_fn}


def build_variants(p: Problem, names: tuple[str, ...] = VARIANTS) -> dict[str, Variant]:
    """The requested variants of problem ``p``, each from the same starting weights (numpy, a
    reference written for the sigmoid output, on the CPU and for that output only)."""
    if bad := [n for n in names if n not in _BUILDERS]:
        raise ValueError(f"unknown variant(s) {bad}; expected some of {list(VARIANTS)}")
    net0 = p.network()
    return {n: _BUILDERS[n](n, p, net0) for n in names
            if n != "numpy" or (p.device == "cpu" and p.output == "sigmoid")}
