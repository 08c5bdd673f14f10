"""Costs J: the seed's cross-entropy (fused with the output sigmoid) and the squared error.

The cross-entropy cost J = (1/m) Σ L(a, y) with L(a, y) = -y log a - (1 - y) log(1 - a) and
a = σ(z) (§1.2) is computed straight from z^[L], in the overflow-free form

    L = max(z, 0) - z y + log(1 + e^{-|z|}),

so no log(0) appears for any |z|. Its derivative is the seed's eq. 2.9, dZ = (A - Y) / m.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch.autograd import Function

from torchnn._validate import check_floating, check_same_device, check_tensor
from torchnn.functional._dispatch import apply
from torchnn.functional.activations import (
    NP_ZERO,
    np_log1p_exp_neg_abs,
    np_sigmoid_from_,
    sigmoid,
)

__all__ = [
    "binary_cross_entropy_with_logits",
    "mse_loss",
    "cross_entropy_loss_from_logits",
    "cross_entropy_cost",
    "cross_entropy_delta",
    "np_cross_entropy_delta_",
    "cross_entropy_value",
    "squared_error_delta",
]

_REDUCTIONS = ("mean", "sum", "none")
_REDUCTION_ENUM = {"none": 0, "mean": 1, "sum": 2}  # ATen's at::Reduction
_FUSED_DTYPES = (torch.float32, torch.float64)


# ----------------------------------------------------------------------------------------------
# the formulas (one source of truth, shared with the whole-network backprop)
# ----------------------------------------------------------------------------------------------


def cross_entropy_loss_from_logits(z: Tensor, y: Tensor) -> Tensor:
    """L(σ(z), y) elementwise, as max(z, 0) - z y + log(1 + e^{-|z|}) (§1.2)."""
    return z.clamp_min(0) - z * y + torch.log1p(torch.exp(-z.abs()))


def cross_entropy_cost(z: Tensor, y: Tensor) -> Tensor:
    """J = (1/m) Σ L(σ(z), y) (§1.2) as a value, for the explicit backprop (no graph is built).

    NOTE: the same number as ``cross_entropy_loss_from_logits(z, y).mean()`` (the stable form
    (1 - y) z - log σ(z)), from PyTorch's fused kernel in one call instead of eight Python-level
    ops. Only the value is used: the derivative stays ours, eq. 2.9 (``cross_entropy_delta``).
    """
    # NOTE: the aten op itself (reduction 1 = mean): the torch.nn.functional wrapper adds ~1 µs
    # of Python checks, a visible share of the seed's 2-4-1 step
    return torch.binary_cross_entropy_with_logits(z, y, None, None, 1)


def cross_entropy_value(z: Tensor, y: Tensor, reduction: str = "mean") -> Tensor:
    """J's value (reduced as ``reduction``) for a Function's forward, where no graph is built.

    NOTE: from PyTorch's fused kernel in float32 / float64 eager code, one call instead of five
    ops and the reduction (as ``cross_entropy_cost``); the stable form otherwise (in half
    precision the CPU kernel is ~1e-3 off, our form is not; Dynamo and torch.func get the ops).
    """
    if z.dtype in _FUSED_DTYPES and not torch.compiler.is_compiling() and (
            not torch._C._are_functorch_transforms_active()):
        return torch.binary_cross_entropy_with_logits(z, y, None, None, _REDUCTION_ENUM[reduction])
    return _reduce(cross_entropy_loss_from_logits(z, y), reduction)


def cross_entropy_delta(a: Tensor, y: Tensor, out: Tensor | None = None) -> Tensor:
    """dZ^[L] = A^[L] - Y (eq. 2.9), before the 1/m of the mean; ``out=a`` writes over A.

    Numpy arrays in, a numpy array out (the numpy engine, ``nn.explicit_numpy``).
    """
    if isinstance(a, np.ndarray):
        return np.subtract(a, y, out=out)
    return torch.sub(a, y, out=out)


def np_cross_entropy_delta_(
    z: np.ndarray, y: np.ndarray, lg: np.ndarray, t: np.ndarray
) -> float:
    """Σ L(σ(z), y) (J before its 1/m) in numpy, and dZ^[L] (eq. 2.9) written over z.

    J's value in the same overflow-free form as above, L = max(z, 0) - z y + log(1 + e^{-|z|}),
    for the explicit engine's numpy path; dZ is ``cross_entropy_delta``. ``lg`` and ``t`` are
    scratch arrays of z's shape.
    """
    zy = np.vdot(y, z)  # Σ z y
    np_log1p_exp_neg_abs(z, lg)  # lg = log(1 + e^{-|z|})
    # Σ max(z, 0) + lg - z y (NOTE: add.reduce, not .sum(): the same pairwise sum, ~0.6 µs less)
    total = np.add.reduce(np.add(np.maximum(z, NP_ZERO[z.dtype], out=t), lg, out=t),
                          axis=None) - zy
    cross_entropy_delta(np_sigmoid_from_(z, lg), y, out=z)  # A - Y, A = σ(Z) over Z
    return float(total)


def squared_error_delta(a: Tensor, y: Tensor) -> Tensor:
    """dA^[L] = 2 (A^[L] - Y) for J = mean((A - Y)²), before the 1/m of the mean."""
    return 2 * (a - y)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def cost_scale(grad_j: Tensor, reduction: str, numel: int) -> Tensor:
    """The cost's own derivative: 1/m for the mean (the 1/m of eqs. 2.10-2.11), 1 for a sum."""
    return grad_j / numel if reduction == "mean" else grad_j


# ----------------------------------------------------------------------------------------------
# autograd Functions
# ----------------------------------------------------------------------------------------------


class SigmoidCrossEntropyFunction(Function):
    """J = (1/m) Σ L(σ(z), y) (§1.2); dz = (a - y) / m (eq. 2.9), dy = -z / m; saves z, y."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor, y: Tensor, reduction: str) -> Tensor:
        return cross_entropy_value(z, y, reduction)

    @staticmethod
    def setup_context(ctx, inputs, output):
        z, y, reduction = inputs
        ctx.reduction = reduction
        ctx.save_for_backward(z, y)

    @staticmethod
    def backward(ctx, grad_j):
        z, y = ctx.saved_tensors
        scale = cost_scale(grad_j, ctx.reduction, z.numel())
        grad_z = grad_y = None
        if ctx.needs_input_grad[0]:
            # NOTE: with no graph to build (the usual backward) A = σ(Z) needs no Function
            a = sigmoid(z) if torch.is_grad_enabled() else torch.sigmoid(z)
            grad_z = cross_entropy_delta(a, y) * scale  # (A - Y) / m
        if ctx.needs_input_grad[1]:
            grad_y = -z * scale  # dL/dy = -z
        return grad_z, grad_y, None


class SquaredErrorFunction(Function):
    """J = (1/m) Σ (a - y)²; da = 2 (a - y) / m, dy = -2 (a - y) / m; saves a - y."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a: Tensor, y: Tensor, reduction: str) -> Tensor:
        return _reduce((a - y) ** 2, reduction)

    @staticmethod
    def setup_context(ctx, inputs, output):
        a, y, reduction = inputs
        ctx.reduction = reduction
        ctx.numel = a.numel()
        ctx.save_for_backward(a, y)

    @staticmethod
    def backward(ctx, grad_j):
        a, y = ctx.saved_tensors
        grad_a = squared_error_delta(a, y) * cost_scale(grad_j, ctx.reduction, ctx.numel)
        return (
            grad_a if ctx.needs_input_grad[0] else None,
            -grad_a if ctx.needs_input_grad[1] else None,
            None,
        )


class _SigmoidCrossEntropyFwd(SigmoidCrossEntropyFunction):
    @staticmethod
    def setup_context(ctx, inputs, output):
        SigmoidCrossEntropyFunction.setup_context(ctx, inputs, output)
        ctx.save_for_forward(inputs[0], inputs[1])

    @staticmethod
    def jvp(ctx, z_t, y_t, _reduction_t):
        z, y = ctx.saved_tensors
        dj = 0
        if z_t is not None:
            dj = cross_entropy_delta(sigmoid(z), y) * z_t
        if y_t is not None:
            dj = dj - z * y_t
        return _reduce(dj * torch.ones_like(z), ctx.reduction)


class _SquaredErrorFwd(SquaredErrorFunction):
    @staticmethod
    def setup_context(ctx, inputs, output):
        SquaredErrorFunction.setup_context(ctx, inputs, output)
        ctx.save_for_forward(inputs[0], inputs[1])

    @staticmethod
    def jvp(ctx, a_t, y_t, _reduction_t):
        a, y = ctx.saved_tensors
        delta = squared_error_delta(a, y)
        dj = torch.zeros_like(a)
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
        raise ValueError(
            f"{name}: target shape {tuple(target.shape)} must equal input shape "
            f"{tuple(input.shape)} (e.g. labels of shape (m, 1) for a (m, 1) output)"
        )
    check_same_device(target, input, "target", "input", name)


_check = check_cost_args


def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, reduction: str = "mean"
) -> Tensor:
    """The seed's cost J from z^[L], with backward dZ = (A - Y) / m (eq. 2.9).

    Same arguments and semantics as ``torch.nn.functional.binary_cross_entropy_with_logits``
    (without ``weight`` and ``pos_weight``). Stable for any |z|: no log(0) is ever formed.

    Args:
        input: z^[L], any shape.
        target: y, the same shape as ``input``, values in [0, 1].
        reduction: ``"mean"`` (J, the default), ``"sum"`` or ``"none"`` (L per element).
    """
    _check("binary_cross_entropy_with_logits", input, target, reduction)
    if torch.is_autocast_enabled(input.device.type):
        # NOTE: PyTorch's autocast runs this cost in float32; so do we.
        input, target = input.float(), target.float()
    target = target.to(input.dtype)
    return apply(
        _SigmoidCrossEntropyFwd, SigmoidCrossEntropyFunction, input, target, reduction
    )


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """J = mean((ŷ - y)²) with the hand-written backward 2 (ŷ - y) / m.

    Same arguments and semantics as ``torch.nn.functional.mse_loss`` (shapes must match).
    """
    _check("mse_loss", input, target, reduction)
    if torch.is_autocast_enabled(input.device.type):
        input, target = input.float(), target.float()
    target = target.to(input.dtype)
    return apply(_SquaredErrorFwd, SquaredErrorFunction, input, target, reduction)
