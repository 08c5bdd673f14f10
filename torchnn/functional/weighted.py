"""The costs with torch's weights: ``weight`` and ``pos_weight`` for the cross-entropy, ``weight``
for the squared error, each with a closed-form backward derived by hand.

Weighted cross-entropy, w per element and p per class (the last dimension), a = σ(z):

    L = w [p y softplus(-z) + (1 - y) softplus(z)]       (§1.2's L(a, y) when w = p = 1)
      = w [(1 - y) z + (1 + (p - 1) y) softplus(-z)]     (softplus(z) = z + softplus(-z))

    dL/dz = w [(1 + (p - 1) y) a - p y]                  (eq. 2.9's A - Y when w = p = 1)
    dL/dy = w [(p - 1) softplus(-z) - z]                 (-z when w = p = 1)

from d softplus(-z)/dz = -(1 - a) and d softplus(z)/dz = a:
dL/dz = w [-p y (1 - a) + (1 - y) a] = w [a (1 - y + p y) - p y].

Weighted squared error, as ``torch.nn.functional.mse_loss(..., weight=w)`` (w of the input's
shape): L = w (a - y)², the mean is J = Σ w (a - y)² / Σ w, and

    dJ/da = 2 w (a - y) / Σ w,   dJ/dy = -dJ/da,   dJ/dw = ((a - y)² - J) / Σ w

(the sum: Σ w (a - y)², with 2 w (a - y), -2 w (a - y), (a - y)²).
"""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn._validate import check_same_device, check_tensor
from torchnn.functional._autograd import any_autocast, call, save, twin
from torchnn.functional.costs import (
    _reduce,
    _scale,
    _sigmoid,
    check_cost_args,
    cross_entropy_delta,
    squared_error_delta,
)

__all__ = ["weighted_cross_entropy_value", "weighted_cross_entropy_delta",
           "weighted_cross_entropy_target_grad", "WeightedCrossEntropyFunction",
           "WeightedSquaredErrorFunction", "weighted_binary_cross_entropy_with_logits",
           "weighted_mse_loss"]


# ----------------------------------------------------------------------------------------------
# the formulas
# ----------------------------------------------------------------------------------------------


def _softplus_neg(z: Tensor) -> Tensor:
    """softplus(-z) = log(1 + e^{-z}) = max(-z, 0) + log(1 + e^{-|z|}): no overflow for any z.

    NOTE: not ``F.softplus``, which returns its argument above a threshold (20): off by e^{-20}.
    """
    return (-z).clamp_min(0) + torch.log1p(torch.exp(-z.abs()))


def _weigh(t: Tensor, weight: Tensor | None) -> Tensor:
    return t if weight is None else weight * t


def weighted_cross_entropy_value(z: Tensor, y: Tensor, weight: Tensor | None,
                                 pos_weight: Tensor | None, reduction: str) -> Tensor:
    """J's value. NOTE: PyTorch's fused kernel in float32 / float64 (the same stable form in one
    call, as ``costs.cross_entropy_value``), the formula above in half precision."""
    if z.dtype in (torch.float32, torch.float64):
        return torch.nn.functional.binary_cross_entropy_with_logits(
            z, y, weight, reduction=reduction, pos_weight=pos_weight)
    log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
    return _reduce(_weigh((1 - y) * z + log_weight * _softplus_neg(z), weight), reduction)


def weighted_cross_entropy_delta(a: Tensor, y: Tensor, weight: Tensor | None,
                                 pos_weight: Tensor | None) -> Tensor:
    """dZ = w [(1 + (p - 1) y) a - p y] before the mean's 1/m: eq. 2.9's A - Y, weighted."""
    if pos_weight is None:
        return _weigh(cross_entropy_delta(a, y), weight)
    return _weigh((1 + (pos_weight - 1) * y) * a - pos_weight * y, weight)


def weighted_cross_entropy_target_grad(z: Tensor, y: Tensor, weight: Tensor | None,
                                       pos_weight: Tensor | None) -> Tensor:
    """dL/dy = w [(p - 1) softplus(-z) - z] before the mean's 1/m (-w z when p = 1)."""
    if pos_weight is None:
        return _weigh(-z, weight)
    return _weigh((pos_weight - 1) * _softplus_neg(z) - z, weight)


# ----------------------------------------------------------------------------------------------
# autograd Functions
# ----------------------------------------------------------------------------------------------


@twin
class WeightedCrossEntropyFunction(Function):
    """J = (1/m) Σ w [p y softplus(-z) + (1 - y) softplus(z)] (§1.2, weighted);
    dz = w [(1 + (p - 1) y) a - p y] / m (eq. 2.9, weighted), dy = w [(p - 1) softplus(-z) - z]
    / m; saves z, y, w, p. The weights get no gradient, as in PyTorch."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor, y: Tensor, weight: Tensor | None, pos_weight: Tensor | None,
                reduction: str) -> Tensor:
        return weighted_cross_entropy_value(z, y, weight, pos_weight, reduction)

    @staticmethod
    def setup_context(ctx, inputs, output):
        z, y, weight, pos_weight, ctx.reduction = inputs
        save(ctx, z, y, weight, pos_weight)

    @staticmethod
    def backward(ctx, grad_j):
        z, y, w, p = ctx.saved_tensors
        scale = _scale(grad_j, ctx.reduction, z.numel())
        grad_z = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_z = weighted_cross_entropy_delta(_sigmoid(z), y, w, p) * scale
        if ctx.needs_input_grad[1]:
            grad_y = weighted_cross_entropy_target_grad(z, y, w, p) * scale
        return grad_z, grad_y, None, None, None

    @staticmethod
    def tangent(ctx, z_t, y_t, _w_t, _p_t, _reduction_t):
        z, y, w, p = ctx.saved_tensors
        dj = torch.zeros_like(z)
        if z_t is not None:
            dj = dj + weighted_cross_entropy_delta(_sigmoid(z), y, w, p) * z_t
        if y_t is not None:
            dj = dj + weighted_cross_entropy_target_grad(z, y, w, p) * y_t
        return _reduce(dj, ctx.reduction)


def _weighted_sum(a: Tensor, y: Tensor, w: Tensor) -> tuple[Tensor, Tensor]:
    """(Σ w (a - y)², Σ w): the mean's numerator and denominator."""
    return (w * (a - y).square()).sum(), w.sum()


@twin
class WeightedSquaredErrorFunction(Function):
    """J = Σ w (a - y)² / Σ w (the mean; the sum without / Σ w); da = 2 w (a - y) / Σ w,
    dy = -da, dw = ((a - y)² - J) / Σ w; saves a, y, w."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a: Tensor, y: Tensor, weight: Tensor, reduction: str) -> Tensor:
        if reduction == "mean":
            total, weights = _weighted_sum(a, y, weight)
            return total / weights
        return _reduce(weight * (a - y).square(), reduction)

    @staticmethod
    def setup_context(ctx, inputs, output):
        a, y, w, ctx.reduction = inputs
        save(ctx, a, y, w)

    @staticmethod
    def backward(ctx, grad_j):
        a, y, w = ctx.saved_tensors
        mean = ctx.reduction == "mean"
        scale = grad_j / w.sum() if mean else grad_j
        grad_a = squared_error_delta(a, y) * w * scale  # 2 w (a - y)
        grad_w = None
        if ctx.needs_input_grad[2]:  # dJ/dw = (a - y)² - J (the mean), (a - y)² else
            total, weights = _weighted_sum(a, y, w)
            grad_w = ((a - y).square() - total / weights if mean else (a - y).square()) * scale
        return (grad_a if ctx.needs_input_grad[0] else None,
                -grad_a if ctx.needs_input_grad[1] else None, grad_w, None)

    @staticmethod
    def tangent(ctx, a_t, y_t, w_t, _reduction_t):
        a, y, w = ctx.saved_tensors
        dl = torch.zeros_like(a)  # the tangent of L = w (a - y)², element by element
        if a_t is not None:
            dl = dl + squared_error_delta(a, y) * w * a_t
        if y_t is not None:
            dl = dl - squared_error_delta(a, y) * w * y_t
        if ctx.reduction != "mean":
            return _reduce(dl if w_t is None else dl + (a - y).square() * w_t, ctx.reduction)
        total, weights = _weighted_sum(a, y, w)
        if w_t is None:
            return dl.sum() / weights
        return (dl + ((a - y).square() - total / weights) * w_t).sum() / weights


# ----------------------------------------------------------------------------------------------
# functional API: called by costs.binary_cross_entropy_with_logits / mse_loss with weights
# ----------------------------------------------------------------------------------------------


def _check_weight(name: str, weight: Tensor, input: Tensor, where: str, same_shape: bool,
                  differentiable: bool) -> None:
    """A weight tensor on the input's device, of its shape or broadcastable to it."""
    if isinstance(weight, str):  # torch's order: weight comes before reduction
        raise TypeError(f"{where}: {name} must be a tensor, got the string {weight!r}; expected "
                        f"reduction={weight!r} as a keyword argument")
    check_tensor(weight, name, where)
    check_same_device(weight, input, name, "input", where)
    shape, want = tuple(weight.shape), tuple(input.shape)
    try:
        fits = (shape == want) if same_shape else torch.broadcast_shapes(shape, want) == want
    except RuntimeError:
        fits = False
    if not fits:
        expected = "the same shape" if same_shape else "a shape that broadcasts to it"
        raise ValueError(f"{where}: {name} has shape {shape} but input has shape {want}; "
                         f"expected {expected}")
    if not differentiable and weight.requires_grad and torch.is_grad_enabled():
        raise RuntimeError(f"{where}: {name} requires grad, but the cost is not differentiable "
                           f"with respect to it (as in PyTorch); expected {name}.detach()")


def _autocast(*tensors: Tensor | None) -> list[Tensor | None]:
    """NOTE: autocast runs the costs in float32, as PyTorch's do."""
    if any_autocast() and torch.is_autocast_enabled(cast(Tensor, tensors[0]).device.type):
        return [None if t is None else t.float() for t in tensors]
    return list(tensors)


def weighted_binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight: Tensor | None, pos_weight: Tensor | None,
    reduction: str
) -> Tensor:
    """``binary_cross_entropy_with_logits`` with ``weight`` and / or ``pos_weight``."""
    where = "binary_cross_entropy_with_logits"
    check_cost_args(where, input, target, reduction)
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        if w is not None:
            _check_weight(name, w, input, where, same_shape=False, differentiable=False)
    input, target, weight, pos_weight = _autocast(input, target, weight, pos_weight)  # type: ignore[assignment]
    dtype = input.dtype
    return call(WeightedCrossEntropyFunction, input, target.to(dtype),
                None if weight is None else weight.to(dtype),
                None if pos_weight is None else pos_weight.to(dtype), reduction)


def weighted_mse_loss(input: Tensor, target: Tensor, weight: Tensor, reduction: str) -> Tensor:
    """``mse_loss`` with ``weight`` (the input's shape; it gets a gradient, as in PyTorch)."""
    check_cost_args("mse_loss", input, target, reduction)
    _check_weight("weight", weight, input, "mse_loss", same_shape=True, differentiable=True)
    input, target, weight = _autocast(input, target, weight)  # type: ignore[assignment]
    dtype = input.dtype
    return call(WeightedSquaredErrorFunction, input, target.to(dtype), weight.to(dtype),
                reduction)
