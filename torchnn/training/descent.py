"""The gradients of one gradient-descent iteration, by the seed's backprop or by autograd.

Both fill every parameter's ``.grad`` with dJ/dθ and return J, so the update that follows
(w := w - α dw, Algorithm 1.1) is the same for either path. Under data parallelism each process
holds a slice of the batch; :func:`all_reduce_gradients` averages the per-process mean gradients,
which equals the full-batch mean gradient when the slices are of equal size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from torchnn.nn import DeepNetwork

__all__ = ["BACKWARDS", "explicit_gradients", "autograd_gradients", "all_reduce_gradients"]

BACKWARDS = ("explicit", "autograd")


def explicit_gradients(net: DeepNetwork, x: Tensor, y: Tensor) -> Tensor:
    """J, with dJ/dW^[l], dJ/db^[l] from ``net.backprop`` (eqs. 2.9-2.12) in every ``.grad``.

    NOTE: autocast is switched off here: the explicit equations run in the parameters' dtype.
    ``backprop`` itself works under autocast (gradients in the parameters' dtype, tested); mixed
    precision here covers the autograd path and evaluation.
    """
    for p in net.parameters():
        p.grad = None  # backprop accumulates, as .backward() does
    with torch.autocast(x.device.type, enabled=False):
        return net.backprop(x, y)


def autograd_gradients(net: DeepNetwork, x: Tensor, y: Tensor) -> Tensor:
    """J, with dJ/dθ in every ``.grad`` from autograd through the hand-written Functions.

    NOTE: ``torch.autograd.grad`` rather than ``.backward()``: it does not run the gradient
    accumulators that DistributedDataParallel hooks, so both paths synchronise the same way,
    through :func:`all_reduce_gradients`, once per iteration.
    """
    params = list(net.parameters())
    with torch.enable_grad():
        cost = net.cost(x, y)
    grads = torch.autograd.grad(cost, params)
    for p, g in zip(params, grads):
        p.grad = g
    return cost.detach()


def all_reduce_gradients(params: list[nn.Parameter], world_size: int) -> None:
    """Replace each ``.grad`` by its mean over the ``world_size`` processes (one collective)."""
    grads = [cast(Tensor, p.grad) for p in params]  # every parameter has one here
    flat = torch.cat([g.reshape(-1) for g in grads])  # (Σ numel,)
    torch.distributed.all_reduce(flat)  # sum over processes
    flat.div_(world_size)
    offset = 0
    for p, g in zip(params, grads):
        p.grad = flat[offset : offset + g.numel()].view_as(g)
        offset += g.numel()
