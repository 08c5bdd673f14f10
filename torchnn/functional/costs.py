"""The output layer's rules (A^[L], the cost J, dZ^[L]) and the cost Functions.

The seed's classifier ends in a sigmoid with the cross-entropy cost J = (1/m) Σ L(a, y),
L(a, y) = -y log a - (1 - y) log(1 - a), a = σ(z) (§1.2). Computed straight from z^[L] in the
overflow-free form

    L = max(z, 0) - z y + log(1 + e^{-|z|}),

no log(0) appears for any |z|, and the derivative is the seed's eq. 2.9, dZ = A - Y (times the
mean's 1/m). A regressor ends in the identity or a ReLU with the squared error (A - Y)².
Each pairing is one :class:`Output` record, read by the Functions and by the explicit engine.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn._validate import check_floating, check_same_device, check_tensor
from torchnn.functional._autograd import any_autocast, call, save, twin
from torchnn.functional.activations import ACTIVATIONS, SigmoidFunction
from torchnn.functional.softmax import (
    examples,
    softmax_cross_entropy_value,
    softmax_output_delta,
    softmax_target_grad,
)

__all__ = ["Output", "OUTPUTS", "binary_cross_entropy_with_logits", "mse_loss",
           "cross_entropy_loss_from_logits", "cross_entropy_value", "cross_entropy_delta",
           "squared_error_delta", "SigmoidCrossEntropyFunction", "SquaredErrorFunction",
           "check_cost_args"]

_REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------------------------------
# the formulas
# ----------------------------------------------------------------------------------------------


def cross_entropy_loss_from_logits(z: Tensor, y: Tensor) -> Tensor:
    """L(σ(z), y) elementwise, as max(z, 0) - z y + log(1 + e^{-|z|}) (§1.2)."""
    return z.clamp_min(0) - z * y + torch.log1p(torch.exp(-z.abs()))


def cross_entropy_value(z: Tensor, y: Tensor, reduction: str = "mean") -> Tensor:
    """J's value (reduced as ``reduction``) where no graph is built: a Function's forward, the
    explicit engine.

    NOTE: PyTorch's fused kernel computes the same stable form in one call in float32 / float64
    (only the value: the derivative stays eq. 2.9); in half precision its CPU kernel is ~1e-3
    off and the formula above is not.
    """
    if z.dtype in (torch.float32, torch.float64):
        return torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction=reduction)
    return _reduce(cross_entropy_loss_from_logits(z, y), reduction)


def _sigmoid(z: Tensor) -> Tensor:
    """σ(z), through our Function where a graph is being built (a double backward)."""
    return call(SigmoidFunction, z) if torch.is_grad_enabled() else torch.sigmoid(z)


def cross_entropy_delta(a: Tensor, y: Tensor) -> Tensor:
    """dZ^[L] = A^[L] - Y (eq. 2.9), before the 1/m of the mean."""
    return a - y


def squared_error_delta(a: Tensor, y: Tensor) -> Tensor:
    """dA^[L] = 2 (A^[L] - Y) for J = mean((A - Y)²), before the 1/m of the mean."""
    return 2 * (a - y)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _scale(grad_j: Tensor, reduction: str, numel: int) -> Tensor:
    """The reduction's own derivative: 1/m for the mean (the 1/m of eqs. 2.10-2.11), 1 else."""
    return grad_j / numel if reduction == "mean" else grad_j


# ----------------------------------------------------------------------------------------------
# the output layer's rules
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """The output layer g^[L] with its cost: A^[L] from Z^[L], J, and dZ^[L] for eq. 2.9.

    ``activate(z)``: A^[L]. ``cost(z, y)``: J, the mean of the loss over every element.
    ``delta(z, y)``: dZ^[L] before the mean's 1/m (σ + cross-entropy: A - Y, eq. 2.9).
    ``classifier``: whether Y holds labels (predictions threshold A^[L], or take the arg max).
    ``count(z)``: the number of terms J averages, the 1/m of eqs. 2.10-2.11: every element of
    Z^[L] for the elementwise costs, the m rows for softmax (one loss per example).
    ``target_grad(z, y)``: dL/dY before the mean's 1/m (for a target that needs a gradient).
    """

    name: str
    activate: Callable[[Tensor], Tensor]
    cost: Callable[[Tensor, Tensor], Tensor]
    delta: Callable[[Tensor, Tensor], Tensor]
    classifier: bool
    count: Callable[[Tensor], int] = Tensor.numel
    target_grad: Callable[[Tensor, Tensor], Tensor] = lambda z, y: -z  # σ + cross-entropy


def _relu_output_delta(z: Tensor, y: Tensor) -> Tensor:
    a = torch.relu(z)  # dZ = 2 (A - Y) * g'(Z), g' read from A (§2.3)
    return ACTIVATIONS["relu"].grad(squared_error_delta(a, y), a, 0.0)


OUTPUTS: dict[str, Output] = {o.name: o for o in (
    Output("sigmoid", torch.sigmoid, cross_entropy_value,
           lambda z, y: cross_entropy_delta(_sigmoid(z), y), classifier=True),
    Output("identity", lambda z: z, lambda z, y: (z - y).square().mean(), squared_error_delta,
           classifier=False, target_grad=lambda z, y: -squared_error_delta(z, y)),
    Output("relu", torch.relu, lambda z, y: (torch.relu(z) - y).square().mean(),
           _relu_output_delta, classifier=False,
           target_grad=lambda z, y: -squared_error_delta(torch.relu(z), y)),
    # C classes: dZ = softmax(Z) - Y (eq. 2.9), J averaged over the m examples (softmax.py)
    Output("softmax", lambda z: torch.softmax(z, -1), softmax_cross_entropy_value,
           softmax_output_delta, classifier=True, count=examples, target_grad=softmax_target_grad),
)}


# ----------------------------------------------------------------------------------------------
# autograd Functions
# ----------------------------------------------------------------------------------------------


@twin
class SigmoidCrossEntropyFunction(Function):
    """J = (1/m) Σ L(σ(z), y) (§1.2); dz = (a - y) / m (eq. 2.9), dy = -z / m; saves z, y."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor, y: Tensor, reduction: str) -> Tensor:
        return cross_entropy_value(z, y, reduction)

    @staticmethod
    def setup_context(ctx, inputs, output):
        z, y, ctx.reduction = inputs
        save(ctx, z, y)

    @staticmethod
    def backward(ctx, grad_j):
        z, y = ctx.saved_tensors
        scale = _scale(grad_j, ctx.reduction, z.numel())
        grad_z = OUTPUTS["sigmoid"].delta(z, y) * scale if ctx.needs_input_grad[0] else None
        grad_y = -z * scale if ctx.needs_input_grad[1] else None  # dL/dy = -z
        return grad_z, grad_y, None

    @staticmethod
    def tangent(ctx, z_t, y_t, _reduction_t):
        z, y = ctx.saved_tensors
        dj = torch.zeros_like(z)
        if z_t is not None:
            dj = dj + OUTPUTS["sigmoid"].delta(z, y) * z_t
        if y_t is not None:
            dj = dj - z * y_t
        return _reduce(dj, ctx.reduction)


@twin
class SquaredErrorFunction(Function):
    """J = (1/m) Σ (a - y)²; da = 2 (a - y) / m, dy = -2 (a - y) / m; saves a, y."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a: Tensor, y: Tensor, reduction: str) -> Tensor:
        return _reduce((a - y) ** 2, reduction)

    @staticmethod
    def setup_context(ctx, inputs, output):
        a, y, ctx.reduction = inputs
        save(ctx, a, y)

    @staticmethod
    def backward(ctx, grad_j):
        a, y = ctx.saved_tensors
        grad_a = squared_error_delta(a, y) * _scale(grad_j, ctx.reduction, a.numel())
        return (grad_a if ctx.needs_input_grad[0] else None,
                -grad_a if ctx.needs_input_grad[1] else None, None)

    @staticmethod
    def tangent(ctx, a_t, y_t, _reduction_t):
        a, y = ctx.saved_tensors
        delta, dj = squared_error_delta(a, y), torch.zeros_like(a)
        if a_t is not None:
            dj = dj + delta * a_t
        if y_t is not None:
            dj = dj - delta * y_t
        return _reduce(dj, ctx.reduction)


# ----------------------------------------------------------------------------------------------
# functional API (same names and arguments as torch.nn.functional)
# ----------------------------------------------------------------------------------------------


def check_cost_args(
    name: str, input: Tensor, target: Tensor, reduction: str, check_shape: bool = True
) -> None:
    """A floating input, a tensor target of the same shape and device, a known reduction."""
    check_floating(input, "input", name)
    check_tensor(target, "target", name)  # NOTE: integer / boolean labels are accepted (cast)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if check_shape and input.shape != target.shape:
        raise ValueError(f"{name}: target shape {tuple(target.shape)} must equal input shape "
                         f"{tuple(input.shape)} (e.g. labels of shape (m, 1) for a (m, 1) output)")
    check_same_device(target, input, "target", "input", name)


def _cost(cls: type[Function], name: str, input: Tensor, target: Tensor, reduction: str):
    check_cost_args(name, input, target, reduction)
    if any_autocast() and torch.is_autocast_enabled(input.device.type):
        input, target = input.float(), target.float()  # NOTE: autocast runs costs in float32
    return call(cls, input, target.to(input.dtype), reduction)


def _legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """torch's deprecated ``size_average`` / ``reduce`` pair as a ``reduction``, read as torch
    reads it: ``reduce=False`` gives "none", else ``size_average=False`` "sum", else "mean"."""
    if size_average is None and reduce is None:
        return reduction
    for name, value in (("size_average", size_average), ("reduce", reduce)):
        if value is not None and not isinstance(value, bool):  # NOTE: torch reads any truthy
            raise TypeError(f"{name} must be a bool or None, got {value!r}; expected e.g. "
                            f"reduction={value!r} as a keyword argument")
    legacy = "none" if reduce is False else "sum" if size_average is False else "mean"
    warnings.warn(f"size_average and reduce are deprecated (as in torch); use "
                  f"reduction={legacy!r} instead", UserWarning, stacklevel=3)
    return legacy


def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight: Tensor | None = None,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """The seed's cost J from z^[L], with backward dZ = (A - Y) / m (eq. 2.9).

    Same arguments, in the same order, and semantics as
    ``torch.nn.functional.binary_cross_entropy_with_logits``. Stable for any |z|: no log(0) is
    ever formed. With weights, dZ = w [(1 + (p - 1) Y) A - p Y] / m, still closed-form
    (``torchnn/functional/weighted.py``).

    Args:
        input: z^[L], any shape.
        target: y, the same shape as ``input``, values in [0, 1].
        weight: w, each element's loss is multiplied by it (broadcast to ``input``).
        size_average, reduce: torch's deprecated pair, read as torch reads them.
        reduction: ``"mean"`` (J, the default), ``"sum"`` or ``"none"`` (L per element).
        pos_weight: p, the weight of the positive term -y log a, per class (the last dimension).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if weight is None and pos_weight is None:
        return _cost(SigmoidCrossEntropyFunction, "binary_cross_entropy_with_logits", input,
                     target, reduction)
    # NOTE: imported here, not at the top: weighted.py builds on this file's formulas
    from torchnn.functional.weighted import weighted_binary_cross_entropy_with_logits

    return weighted_binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)


def mse_loss(
    input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
    reduction: str = "mean", weight: Tensor | None = None,
) -> Tensor:
    """J = mean((ŷ - y)²) with the hand-written backward 2 (ŷ - y) / m.

    Same arguments, in the same order, and semantics as ``torch.nn.functional.mse_loss``
    (shapes must match). With ``weight`` (the input's shape), J = Σ w (ŷ - y)² / Σ w, as torch.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if weight is None:
        return _cost(SquaredErrorFunction, "mse_loss", input, target, reduction)
    from torchnn.functional.weighted import weighted_mse_loss  # NOTE: here, as above

    return weighted_mse_loss(input, target, weight, reduction)
