"""The explicit engine: the seed's forward and backward passes with no autograd graph.

``backprop`` runs eqs. 2.3-2.4 forward, J and dZ^[L] = A^[L] - Y (eq. 2.9) from the output
rule, then eqs. 2.10-2.12 layer by layer (``functional.network.backward_pass``, the loop the
one-node network Function runs too), and returns J with every dW^[l], db^[l]. It takes the
parameters, the activation record, the output rule and a workspace, never a module:
``DeepNetwork`` checks its arguments once and delegates here. ``accumulate`` adds gradients into
``.grad`` (what ``.backward()`` does); ``descend`` applies Algorithm 1.1's w := w - α dw.

This is the seam for faster engines: one that computes the same J and gradients another way
(e.g. a compiled kernel for small networks) plugs in beside ``backprop`` without touching the
rules in ``torchnn.functional``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from torchnn.functional._autograd import add_all_
from torchnn.functional.activations import Activation
from torchnn.functional.costs import Output
from torchnn.functional.dense import dense_forward
from torchnn.functional.network import backward_pass

__all__ = ["backprop", "accumulate", "descend", "dropped_layers", "Workspace", "SERIAL_MACS"]

SERIAL_MACS = 100_000  # below this many forward multiply-adds a CPU step runs on one thread


class Workspace:
    """Gradient buffers, laid out as the parameters, that ``gd_step`` reuses step after step.

    NOTE: a new dW every step costs more than the GEMM that fills it on a mid-sized network (the
    allocator hands large blocks back to the OS and each new one is page-faulted in again).
    ``gd_step`` spends its gradients at once, so it writes them into the same buffers each time;
    ``backprop`` hands its gradients to the caller and takes new ones. Copies start empty.
    """

    def __init__(self) -> None:
        self.buffers: list[Tensor | None] = []

    def like(self, params: Sequence[Tensor | None], dtype: torch.dtype) -> list[Tensor | None]:
        """Buffers of the parameters' shapes and device in ``dtype`` (made when these change)."""
        bufs = self.buffers
        # NOTE: the parameters share one device (DeepNetwork checks x against W^[1])
        if len(bufs) != len(params) or bufs[0].device != params[0].device or any(
                (b is None) != (p is None) or p is not None and (b.shape != p.shape
                                                                 or b.dtype != dtype)
                for b, p in zip(bufs, params)):
            bufs = self.buffers = [None if p is None else torch.empty_like(p, dtype=dtype)
                                   for p in params]
        return bufs

    def __reduce__(self):
        return Workspace, ()


def dropped_layers(num_layers: int, recompute: bool) -> frozenset[int]:
    """The hidden layers l whose A^[l] activation checkpointing drops: odd l < L, so each is
    rebuilt from A^[l-1], which is always kept (A^[0] is the input): nothing cascades."""
    return frozenset(range(1, num_layers, 2)) if recompute else frozenset()


def backprop(
    params: Sequence[Tensor | None], x: Tensor, y: Tensor, hidden: Activation, slope: float,
    output: Output, recompute: bool = False, on_cost: Callable[[Tensor], None] | None = None,
    workspace: Workspace | None = None,
) -> tuple[Tensor, list[Tensor | None]]:
    """J and [dW^[1], db^[1], ..., dW^[L], db^[L]] (None for a missing bias) of one batch.

    ``params``: W^[1], b^[1], ..., W^[L], b^[L]; ``hidden``: g of layers 1..L-1 (``slope`` is
    leaky ReLU's); ``output``: g^[L] with its cost. ``recompute``: drop A^[l] for odd l in the
    forward and rebuild it in the backward (activation checkpointing). ``on_cost(J)`` runs
    before the backward pass (a check may raise there). ``workspace``: the gradients are written
    into its buffers (valid until the next call), else into new tensors.
    """
    threads = torch.get_num_threads()
    if threads > 1 and x.is_cpu and x.shape[0] * sum(w.numel() for w in params[::2]) < SERIAL_MACS:
        # NOTE: a step this small (the seed's 2-4-1 network) is shorter than an OpenMP fork/join;
        # on a busy machine the other threads' barrier costs more than the step
        torch.set_num_threads(1)
    try:
        with torch.no_grad():
            return _backprop(params, x, y, hidden, slope, output, recompute, on_cost, workspace)
    finally:
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)


def _backprop(params, x, y, hidden, slope, output, recompute, on_cost, workspace):
    layers = len(params) // 2
    dropped = dropped_layers(layers, True) if recompute else ()
    keeps_z = hidden.saves_input(slope)  # g' read from Z, not A (a negative leaky slope)
    acts, saved, a = [x], [x], x
    for l in range(1, layers):
        z = dense_forward(a, params[2 * l - 2], params[2 * l - 1])  # Z^[l] = A^[l-1] W^[l]ᵀ + b^[l]
        a = hidden.forward_(z.clone() if keeps_z else z, slope)  # A^[l] = g(Z^[l])  (2.3-2.4)
        acts.append(None if l in dropped else a)
        saved.append(None if l in dropped else z if keeps_z else a)
    z = dense_forward(a, params[-2], params[-1])  # Z^[L]
    cost = output.cost(z, y)  # J (§1.2)
    if on_cost is not None:
        on_cost(cost)
    grad_z = output.delta(z, y).div_(z.numel())  # dZ^[L] = (A^[L] - Y) / m  (2.9)
    needs = [False] + [p is not None for p in params]  # X needs no gradient
    out = None
    if workspace is not None and z.dtype == params[0].dtype:  # (not under autocast)
        out = workspace.like(params, grad_z.dtype)
    _, grads = backward_pass(grad_z, acts, params, hidden, slope, needs,
                             saved if keeps_z else None, out)  # (2.10-2.12)
    return cost, grads


def accumulate(params: Sequence[Tensor | None], grads: Sequence[Tensor | None]) -> None:
    """Add each gradient into its parameter's ``.grad``, as the autograd engine does."""
    for p, g in zip(params, grads):
        if p is None:
            continue
        g = g.to(p.dtype)  # NOTE: under autocast the products come out in the autocast dtype
        if p.grad is None:
            p.grad = g
        else:
            p.grad.add_(g)


def descend(params: Sequence[Tensor | None], grads: Sequence[Tensor | None], lr: float) -> None:
    """w := w - α dw for every parameter (Algorithm 1.1), in place.

    NOTE: dW is computed whole before it is added: a GEMM that adds into W itself (``addmm_``)
    rounds each block's partial sum at W's scale and loses most of a small update on a large
    float32 batch.
    """
    with torch.no_grad():  # (autocast's lower-precision gradients are added in p's dtype)
        add_all_([p for p in params if p is not None], [g for g in grads if g is not None], -lr)
