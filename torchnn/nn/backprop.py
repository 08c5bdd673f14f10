"""The explicit engine: the seed's forward and backward passes with no autograd graph.

``backprop`` runs eqs. 2.3-2.4 forward, J and dZ^[L] = A^[L] - Y (eq. 2.9) from the output
rule, then eqs. 2.10-2.12 layer by layer (``functional.network.backward_pass``, the loop the
one-node network Function runs too), and returns J with every dW^[l], db^[l]. It takes the
parameters, the activation record, the output rule and a workspace, never a module:
``DeepNetwork`` checks its arguments once and delegates here. ``accumulate`` adds gradients into
``.grad`` (what ``.backward()`` does); ``descend`` applies Algorithm 1.1's w := w - α dw, and
``gd_step`` is ``backprop`` and ``descend`` in one call.

This is the seam for faster engines: one that computes the same J and gradients another way
(e.g. a compiled kernel for small networks) plugs in beside ``backprop`` without touching the
rules in ``torchnn.functional``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import torch
from torch import Tensor

from torchnn.functional._autograd import add_all_
from torchnn.functional.activations import Activation
from torchnn.functional.costs import Output
from torchnn.functional.dense import dense_forward
from torchnn.functional.network import backward_pass

__all__ = ["backprop", "gd_step", "accumulate", "descend", "dropped_layers", "Workspace",
           "SERIAL_MACS"]

SERIAL_MACS = 100_000  # below this many forward multiply-adds a CPU step runs on one thread


class Workspace:
    """The buffers ``gd_step`` reuses step after step: Z^[l] (A^[l] once g is applied over it),
    dA^[l] and the gradients dW^[l], db^[l], for one batch shape (rebuilt when it changes).

    NOTE: on mid-sized networks a new m x n tensor per step costs more than the arithmetic that
    fills it, where a buffer reused every step stays warm. ``gd_step`` spends everything within
    the step, so its buffers can be reused; ``backprop`` hands its gradients to the caller and
    takes new ones. Copies of a network start with an empty workspace.
    """

    def __init__(self) -> None:
        self.key: tuple | None = None

    def bind(self, x: Tensor, params: Sequence[Tensor | None], acts: bool) -> Workspace:
        """Make the buffers for this batch and these parameters, unless the last call did.
        ``acts``: keep Z^[l] buffers too (not with activation checkpointing, which would then
        hold every activation anyway)."""
        key = (x.shape, x.dtype, x.get_device(), acts, [p is not None and p.shape for p in params])
        if key != self.key:
            m, opts = x.shape[0], dict[str, Any](dtype=x.dtype, device=x.device)
            weights = cast("list[Tensor]", params[::2])  # W^[l] is never None (b^[l] may be)
            self.z = [torch.empty(m, w.shape[0], **opts) if acts else None for w in weights]
            self.layers = [(torch.empty(m, w.shape[1], **opts) if l else None,  # dA^[l]
                            torch.empty_like(w, **opts),  # dW^[l+1]
                            None if b is None else torch.empty_like(b, **opts))  # db^[l+1]
                           for l, (w, b) in enumerate(zip(weights, params[1::2]))]
            self.key = key
        return self

    def nbytes(self) -> int:
        """The bytes the buffers hold (0 before the first step)."""
        if self.key is None:
            return 0
        tensors = [*self.z, *(t for layer in self.layers for t in layer)]
        return sum(t.nbytes for t in tensors if t is not None)

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
    with _Step(x, params):
        return _backprop(params, x, y, hidden, slope, output, recompute, on_cost, workspace)


def gd_step(
    params: Sequence[Tensor | None], x: Tensor, y: Tensor, hidden: Activation, slope: float,
    output: Output, lr: float, recompute: bool = False,
    on_cost: Callable[[Tensor], None] | None = None, workspace: Workspace | None = None,
) -> Tensor:
    """One iteration of Algorithm 1.1: ``backprop``, then w := w - lr dw in place; returns J."""
    with _Step(x, params):
        cost, grads = _backprop(params, x, y, hidden, slope, output, recompute, on_cost,
                                workspace)
        _descend(params, grads, lr)
        return cost


class _Step:
    """No graph, and a CPU step below ``SERIAL_MACS`` forward multiply-adds on one thread.

    NOTE: a step that small (the seed's 2-4-1 network) is shorter than an OpenMP fork/join, and
    on a busy machine the other threads' barrier costs more than the step; results don't change.
    """

    def __init__(self, x: Tensor, params: Sequence[Tensor | None]) -> None:
        self.threads = torch.get_num_threads()
        self.serial = self.threads > 1 and x.is_cpu and (
            x.shape[0] * sum(w.numel() for w in params[::2] if w is not None) < SERIAL_MACS)
        self.no_grad = torch.no_grad()

    def __enter__(self) -> None:
        self.no_grad.__enter__()
        if self.serial:
            torch.set_num_threads(1)

    def __exit__(self, *exc) -> None:
        if self.serial:
            torch.set_num_threads(self.threads)
        self.no_grad.__exit__(*exc)


def _backprop(params, x, y, hidden, slope, output, recompute, on_cost, workspace):
    """``backprop``'s body, inside the no-grad and thread scope."""
    layers = len(params) // 2
    dropped = dropped_layers(layers, True) if recompute else ()
    keeps_z = hidden.saves_input(slope)  # g' read from Z, not A (a negative leaky slope)
    ws = None
    if workspace is not None and x.dtype == params[0].dtype:  # (not under autocast)
        ws = workspace.bind(x, params, acts=not recompute)
    acts, saved, a = [x], [x], x
    for l in range(1, layers):
        z = dense_forward(a, *params[2 * l - 2:2 * l], ws and ws.z[l - 1])  # Z^[l]  (2.3)
        a = hidden.forward_(z.clone() if keeps_z else z, slope)  # A^[l] = g(Z^[l])  (2.4)
        acts.append(None if l in dropped else a)
        saved.append(None if l in dropped else z if keeps_z else a)
    z = dense_forward(a, params[-2], params[-1], ws and ws.z[-1])  # Z^[L]
    cost = output.cost(z, y)  # J (§1.2)
    if on_cost is not None:
        on_cost(cost)
    grad_z = output.delta(z, y).div_(output.count(z))  # dZ^[L] = (A^[L] - Y) / m  (2.9)
    needs = [False] + [p is not None for p in params]  # X needs no gradient
    _, grads = backward_pass(grad_z, acts, params, hidden, slope, needs,
                             saved if keeps_z else None, ws and ws.layers)  # (2.10-2.12)
    return cost, grads


def accumulate(params: Sequence[Tensor | None], grads: Sequence[Tensor | None]) -> None:
    """Add each gradient into its parameter's ``.grad``, as the autograd engine does."""
    for p, g in zip(params, grads):
        if p is None or g is None:
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
    with torch.no_grad():
        _descend(params, grads, lr)


def _descend(params, grads, lr):  # (autocast's lower-precision gradients are added in p's dtype)
    add_all_([p for p in params if p is not None], [g for g in grads if g is not None], -lr)
