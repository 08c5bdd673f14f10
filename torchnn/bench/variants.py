"""The benchmarked problems and the training-step variants that solve them.

Every variant starts from the same weights (one seeded ``DeepNetwork``), sees the same (x, y) and
runs one step of batch gradient descent on the cross-entropy cost with the same learning rate,
so all of them do the same work (``tests/bench`` checks they end at the same parameters).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from torchnn.bench.floors import bare_function_step, kernels_step
from torchnn.bench.numpy_ref import NumpyNetwork
from torchnn.nn.network import DeepNetwork

__all__ = ["SIZES", "Problem", "Variant", "VARIANTS", "parse_size", "build_variants"]

# name -> (layer_dims, m): the seed's networks at the sizes the course trains them
SIZES: dict[str, tuple[list[int], int]] = {
    "tiny": ([3, 5, 1], 32),  # smoke tests only
    "flower": ([2, 4, 1], 400),  # the planar "flower" data, 2-layer network
    "wdbc": ([30, 64, 32, 1], 569),  # breast-cancer table
    "mnist": ([784, 256, 256, 1], 256),  # 28x28 images, one mini-batch
    "cat": ([12288, 20, 7, 5, 1], 209),  # the course's 4-layer cat network, 64x64x3 images
    "large": ([2048, 2048, 2048, 1], 4096),  # GEMM-bound
}
VARIANTS = ("explicit", "backprop", "autograd", "autograd-network", "torch.nn", "compiled", "numpy",
            "recompute", "autograd-recompute", "kernels", "bare-fn")
# NOTE: "kernels" and "bare-fn" are floors (``torchnn.bench.floors``), not library paths


def parse_size(spec: str) -> tuple[str, list[int], int]:
    """A name from ``SIZES`` or ``"n0-n1-...-nL@m"`` (e.g. ``"2-4-1@400"``)."""
    if spec in SIZES:
        dims, m = SIZES[spec]
        return spec, list(dims), m
    try:
        dims_s, m_s = spec.split("@")
        dims, m = [int(n) for n in dims_s.split("-")], int(m_s)
    except ValueError:
        raise ValueError(
            f"unknown size {spec!r}; expected one of {sorted(SIZES)} or 'n0-n1-...-nL@m' "
            "such as '2-4-1@400'"
        ) from None
    if len(dims) < 2 or min(dims) < 1 or m < 1:
        raise ValueError(f"size {spec!r}: expected at least two positive layer sizes and m >= 1")
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
    x: Tensor = field(init=False, repr=False)
    y: Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        g = torch.Generator().manual_seed(self.seed)
        x = torch.randn(self.m, self.dims[0], generator=g, dtype=self.dtype)
        y = (torch.rand(self.m, self.dims[-1], generator=g) > 0.5).to(self.dtype)
        self.x, self.y = x.to(self.device), y.to(self.device)

    def network(self) -> DeepNetwork:
        """The shared starting point: He-initialised weights, zero biases (seed §2.4)."""
        g = torch.Generator().manual_seed(self.seed + 1)
        net = DeepNetwork(self.dims, self.activation, "sigmoid", init="he", generator=g,
                          dtype=self.dtype)
        return net.to(self.device)

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
    tape: Callable[[], list] | None = None  # tensors kept for backward (explicit variants)
    forward: Callable[[], Tensor] | None = None  # the graph-building part (autograd variants)
    exclude: list[Tensor] = field(default_factory=list)  # parameters and inputs
    held: Callable[[], int | None] | None = None  # bytes the step keeps between calls (explicit)


def _net_params(net: DeepNetwork) -> list[Tensor]:
    return [t for lay in net.layers for t in (lay.weight, lay.bias)]


def _explicit(p: Problem, net0: DeepNetwork, recompute: bool) -> Variant:
    net, x, y = copy.deepcopy(net0), p.x, p.y
    check = p.device == "cpu"  # NOTE: the J check is a host sync on an accelerator
    from torchnn.nn.explicit import forward_tape, workspace_bytes

    def tape():
        z, a_prev, saved = forward_tape(net, x, recompute)
        return [z, *a_prev[1:], *saved[1:]]

    return Variant("recompute" if recompute else "explicit",
                   lambda: net.gd_step(x, y, p.lr, recompute=recompute, check_values=check),
                   lambda: _net_params(net), tape=tape, held=lambda: workspace_bytes(net))


def _backprop(p: Problem, net0: DeepNetwork) -> Variant:
    net, x, y = copy.deepcopy(net0), p.x, p.y
    params = list(net.parameters())
    check = p.device == "cpu"

    def step():
        net.zero_grad()
        cost = net.backprop(x, y, check_values=check)  # eqs. 2.9-2.12 into .grad
        with torch.no_grad():
            torch._foreach_add_(params, [q.grad for q in params], alpha=-p.lr)  # w -= α dw
        return cost

    return Variant("backprop", step, lambda: _net_params(net))


def _autograd(p: Problem, net0: DeepNetwork, recompute: bool = False,
              graph: str = "layers") -> Variant:
    net, x, y = copy.deepcopy(net0), p.x, p.y
    net.recompute = recompute  # two hidden layers a DenseActivationPairFunction
    net.graph = graph  # "network": the whole network one DenseNetworkFunction
    opt = torch.optim.SGD(net.parameters(), lr=p.lr)
    check = p.device == "cpu"

    def step():
        opt.zero_grad()
        cost = net.cost(x, y, check_values=check)
        cost.backward()
        opt.step()
        return cost

    name = "autograd-recompute" if recompute else (
        "autograd" if graph == "layers" else f"autograd-{graph}")
    return Variant(name, step,
                   lambda: _net_params(net),
                   forward=lambda: net.cost(x, y, check_values=False),
                   exclude=[*net.parameters(), x, y])


def _torch_nn(p: Problem, net0: DeepNetwork, compiled: bool) -> Variant:
    seq = nn.Sequential(*list(net0.to_torch())[:-1])  # logits: drop the final Sigmoid
    loss_fn = nn.BCEWithLogitsLoss()
    opt = torch.optim.SGD(seq.parameters(), lr=p.lr)
    x, y = p.x, p.y

    def loss(x, y):
        return loss_fn(seq(x), y)

    if compiled:
        # NOTE: every cell compiles the same ``loss`` code object; without a reset Dynamo's
        # cache hits its recompile limit after 8 shapes and silently runs the rest eagerly
        torch._dynamo.reset()
    fwd = torch.compile(loss) if compiled else loss

    def step():
        opt.zero_grad()
        cost = fwd(x, y)
        cost.backward()
        opt.step()
        return cost

    linears = [mod for mod in seq if isinstance(mod, nn.Linear)]
    params = lambda: [t for lin in linears for t in (lin.weight, lin.bias)]  # noqa: E731
    return Variant("compiled" if compiled else "torch.nn", step, params,
                   forward=None if compiled else (lambda: fwd(x, y)),
                   exclude=[*seq.parameters(), x, y])


def _numpy(p: Problem, net0: DeepNetwork) -> Variant:
    w = [lay.weight.detach().cpu().double().numpy() for lay in net0.layers]
    b = [lay.bias.detach().cpu().double().numpy() for lay in net0.layers]
    ref = NumpyNetwork(w, b, p.activation, net0.negative_slope)
    X = np.ascontiguousarray(p.x.cpu().double().numpy().T)  # (n_x, m): the seed's columns
    Y = np.ascontiguousarray(p.y.cpu().double().numpy().T)

    def params():
        return [torch.from_numpy(t.copy()) for w_l, b_l in zip(ref.W, ref.b)
                for t in (w_l, b_l.reshape(-1))]

    def tape():
        ref.forward(X)
        return ref.saved_arrays()

    return Variant("numpy", lambda: ref.step(X, Y, p.lr), params, tape=tape)


def build_variants(p: Problem, names: tuple[str, ...] = VARIANTS) -> dict[str, Variant]:
    """Every requested variant of problem ``p``, each from the same starting weights."""
    net0 = p.network()
    out: dict[str, Variant] = {}
    for name in names:
        if name == "explicit":
            out[name] = _explicit(p, net0, recompute=False)
        elif name == "recompute":
            out[name] = _explicit(p, net0, recompute=True)
        elif name == "backprop":
            out[name] = _backprop(p, net0)
        elif name in ("autograd", "autograd-recompute"):
            out[name] = _autograd(p, net0, recompute=name == "autograd-recompute")
        elif name == "autograd-network":
            out[name] = _autograd(p, net0, graph="network")
        elif name in ("torch.nn", "compiled"):
            out[name] = _torch_nn(p, net0, compiled=name == "compiled")
        elif name == "numpy":
            if p.device == "cpu":
                out[name] = _numpy(p, net0)
        elif name == "kernels":
            floor = kernels_step(p, net0)
            if floor is not None:
                out[name] = Variant(name, *floor)
        elif name == "bare-fn":
            step, params, forward, exclude = bare_function_step(p, net0)
            out[name] = Variant(name, step, params, forward=forward, exclude=exclude)
        else:
            raise ValueError(f"unknown variant {name!r}; expected one of {list(VARIANTS)}")
    return out
