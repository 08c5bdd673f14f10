"""The softmax output and the categorical cross-entropy: the seed's classifier with C classes.

A single label out of C classes ends in a = softmax(z), a_c = e^{z_c} / Σ_j e^{z_j}, with the
cross-entropy of §1.2 summed over the classes, L(a, y) = -Σ_c y_c log a_c (y one-hot, or a row
of class probabilities). Computed straight from z as

    L = Σ_c y_c (lse(z) - z_c),   lse(z) = max z + log Σ_j e^{z_j - max z},

no exponential overflows and no log(0) is formed, for any |z|. Its derivative is the seed's
eq. 2.9 with C rows, dZ = A - Y (times the mean's 1/m, m the number of examples): for any target
row it is a Σ_c y_c - y, which is a - y whenever the row sums to 1.

The softmax alone (``softmax``) saves its output a and back-propagates
dz = a ⊙ (da - Σ_j a_j da_j) along its dimension. Its Jacobian diag(a) - a aᵀ is symmetric, so
the same rule is also its forward-mode (jvp) rule.

These formulas are the library's one source of truth for the softmax output: the Functions
below, the ``"softmax"`` record of ``costs.OUTPUTS`` (the layer and network Functions, the
explicit engine) all read them.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn._validate import check_floating, check_same_device, check_tensor
from torchnn.functional._autograd import any_autocast, call, save, twin

__all__ = ["softmax", "cross_entropy", "SoftmaxFunction", "CrossEntropyFunction",
           "softmax_grad", "softmax_cross_entropy_value", "softmax_cross_entropy_delta",
           "softmax_output_delta", "softmax_target_grad", "examples", "check_class_target"]

_REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------------------------------
# the formulas
# ----------------------------------------------------------------------------------------------


def softmax_grad(grad_a: Tensor, a: Tensor, dim: int = -1) -> Tensor:
    """dz = a ⊙ (da - Σ_j a_j da_j) along ``dim``, read from the output a alone.

    The Jacobian of a = softmax(z) is diag(a) - a aᵀ; it is symmetric, so this is the jvp too.
    """
    return a * (grad_a - (a * grad_a).sum(dim, keepdim=True))


def _softmax(z: Tensor) -> Tensor:
    """softmax(z) over the classes, through our Function where a graph is being built (a double
    backward), torch's stable kernel (max-subtracted) otherwise."""
    return call(SoftmaxFunction, z, -1) if torch.is_grad_enabled() else torch.softmax(z, -1)


def _loss_per_example(z: Tensor, y: Tensor) -> Tensor:
    """L(softmax(z), y) per example: Σ_c y_c (lse(z) - z_c); class indices pick one term.

    NOTE: ``log_softmax`` is z - lse(z) in one stable kernel (the value only: the derivative is
    eq. 2.9 below). ``gather`` with an index outside [0, C) raises, where torch's own
    cross-entropy would skip ``ignore_index``.
    """
    log_a = torch.log_softmax(z, -1)  # (m, C): log a = z - lse(z)
    if y.is_floating_point():
        return -(y * log_a).sum(-1)  # (m,)
    return -log_a.gather(-1, y.unsqueeze(-1)).squeeze(-1)  # (m,): -log a_{y_i}


def examples(z: Tensor) -> int:
    """m, the number of examples (rows) of the logits ``(m, C)``: what the mean averages over."""
    return z.numel() // z.shape[-1] if z.dim() else 1


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def softmax_cross_entropy_value(z: Tensor, y: Tensor, reduction: str = "mean") -> Tensor:
    """J = (1/m) Σ_i L(softmax(z_i), y_i) (reduced as ``reduction``) from the logits z (m, C);
    ``y``: class indices (m,) or class probabilities (m, C)."""
    return _reduce(_loss_per_example(z, y), reduction)


def softmax_cross_entropy_delta(a: Tensor, y: Tensor) -> Tensor:
    """dZ^[L] = A^[L] - Y (eq. 2.9 with C classes), before the mean's 1/m.

    ``y`` as class indices (m,) is the one-hot Y: 1 is subtracted at each row's class. As class
    probabilities (m, C) the exact derivative is A Σ_c Y_c - Y, which is A - Y for rows that sum
    to 1 (NOTE: kept general so the gradient is torch's for any target, as gradcheck checks).
    """
    if y.is_floating_point():
        return a * y.sum(-1, keepdim=True) - y  # (m, C)
    minus_one = torch.full_like(a[..., :1], -1)  # (m, 1)
    return a.scatter_add(-1, y.unsqueeze(-1), minus_one)  # (m, C): A - one_hot(Y)


def softmax_output_delta(z: Tensor, y: Tensor) -> Tensor:
    """dZ^[L] = softmax(Z) - Y (eq. 2.9), before 1/m: the ``"softmax"`` output record's rule."""
    return softmax_cross_entropy_delta(_softmax(z), y)


def softmax_target_grad(z: Tensor, y: Tensor) -> Tensor:
    """dL/dy_c = -log a_c = lse(z) - z_c (for probability targets), before 1/m."""
    return -torch.log_softmax(z, -1)


def _per_example(grad_j: Tensor, reduction: str, z: Tensor) -> Tensor:
    """dJ/dL_i: 1/m for the mean (the 1/m of eqs. 2.10-2.11), 1 for the sum, the incoming
    gradient per row for ``"none"`` (as (m, 1), to scale each row of dZ)."""
    if reduction == "none":
        return grad_j.unsqueeze(-1)
    return grad_j / examples(z) if reduction == "mean" else grad_j


# ----------------------------------------------------------------------------------------------
# autograd Functions
# ----------------------------------------------------------------------------------------------


@twin
class SoftmaxFunction(Function):
    """a = softmax(z) along dim (max-subtracted: stable for any |z|); dz = a ⊙ (da - Σ_j a_j da_j);
    saves a."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor, dim: int) -> Tensor:
        return torch.softmax(z, dim)  # a_c = e^{z_c - max z} / Σ_j e^{z_j - max z}

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.dim = inputs[1]
        save(ctx, output)

    @staticmethod
    def backward(ctx, grad_a):
        (a,) = ctx.saved_tensors
        return softmax_grad(grad_a, a, ctx.dim), None  # dz = a ⊙ (da - Σ_j a_j da_j)

    @staticmethod
    def tangent(ctx, z_t, _dim_t):
        (a,) = ctx.saved_tensors
        return softmax_grad(z_t, a, ctx.dim)  # a symmetric Jacobian: the same rule


@twin
class CrossEntropyFunction(Function):
    """J = (1/m) Σ_i L(softmax(z_i), y_i) (§1.2, C classes); dz = (A - Y) / m (eq. 2.9),
    dy = -log a / m for probability targets; saves z, y (the softmax is recomputed in backward:
    one m × C pass instead of a saved tensor)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor, y: Tensor, reduction: str) -> Tensor:
        return softmax_cross_entropy_value(z, y, reduction)

    @staticmethod
    def setup_context(ctx, inputs, output):
        z, y, ctx.reduction = inputs
        save(ctx, z, y)

    @staticmethod
    def backward(ctx, grad_j):
        z, y = ctx.saved_tensors
        scale = _per_example(grad_j, ctx.reduction, z)  # 1/m for the mean
        grad_z = softmax_output_delta(z, y) * scale if ctx.needs_input_grad[0] else None  # (2.9)
        grad_y = softmax_target_grad(z, y) * scale if ctx.needs_input_grad[1] else None
        return grad_z, grad_y, None

    @staticmethod
    def tangent(ctx, z_t, y_t, _reduction_t):
        z, y = ctx.saved_tensors
        dj = torch.zeros_like(z)  # (m, C), summed over the classes below
        if z_t is not None:
            dj = dj + softmax_output_delta(z, y) * z_t
        if y_t is not None:
            dj = dj + softmax_target_grad(z, y) * y_t
        return _reduce(dj.sum(-1), ctx.reduction)


# ----------------------------------------------------------------------------------------------
# functional API (same names and arguments as torch.nn.functional)
# ----------------------------------------------------------------------------------------------


def softmax(input: Tensor, dim: int = -1, _stacklevel: int = 3, dtype: torch.dtype | None = None
            ) -> Tensor:
    """a = softmax(z) along ``dim``, with the hand-written derivative a ⊙ (da - Σ_j a_j da_j).

    Same arguments and values as ``torch.nn.functional.softmax`` (``dim`` defaults to the last
    dimension, the classes of a batch (m, C)); ``dtype`` casts the input first, as torch's does.
    Stable for any |z|: the maximum is subtracted before exponentiating.
    """
    check_floating(input, "input", "softmax")
    if isinstance(dim, bool) or not isinstance(dim, int) or not -max(input.dim(), 1) <= dim < max(
            input.dim(), 1):
        raise ValueError(f"softmax: dim must be an int in [{-max(input.dim(), 1)}, "
                         f"{max(input.dim(), 1) - 1}] for an input of shape "
                         f"{tuple(input.shape)}, got {dim!r}")
    if dtype is not None:
        input = input.to(dtype)
    elif any_autocast() and torch.is_autocast_enabled(input.device.type) and not input.is_cpu:
        input = input.float()  # NOTE: autocast runs softmax in float32 on accelerators, as torch
    return call(SoftmaxFunction, input, dim)


def check_class_target(input: Tensor, target: Tensor, where: str) -> Tensor:
    """Logits (m, C) (or (C,)) with class indices (m,) (or ()) or probabilities (m, C) on the
    same device; integer indices come back as int64, probabilities in the input's dtype."""
    check_floating(input, "input", where)
    check_tensor(target, "target", where)
    if input.dim() not in (1, 2):
        raise ValueError(f"{where}: input has shape {tuple(input.shape)}; expected logits "
                         "(m, C) (or (C,) for one example), the classes along the last dimension")
    check_same_device(target, input, "target", "input", where)
    if target.is_floating_point():
        if target.shape != input.shape:
            raise ValueError(f"{where}: probability target has shape {tuple(target.shape)}; "
                             f"expected the input's shape {tuple(input.shape)} (one row of C "
                             "class probabilities per example), or class indices of shape "
                             f"{tuple(input.shape[:-1])}")
        return target.to(input.dtype)
    if target.dtype == torch.bool or target.shape != input.shape[:-1]:
        raise ValueError(f"{where}: class-index target has shape {tuple(target.shape)} and dtype "
                         f"{target.dtype}; expected int64 indices in [0, {input.shape[-1]}) of "
                         f"shape {tuple(input.shape[:-1])}, or float probabilities of shape "
                         f"{tuple(input.shape)}")
    return target.long()


def _refuse(name: str, value: object, default: object) -> None:
    if isinstance(value, Tensor) or value != default:
        shown = (f"a tensor of shape {tuple(value.shape)}" if isinstance(value, Tensor)
                 else repr(value))
        raise NotImplementedError(
            f"cross_entropy: {name} = {shown} is not supported by torchnn (expected "
            f"{default!r}); use torch.nn.functional.cross_entropy for it")


def cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
    ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """J = (1/m) Σ_i -Σ_c y_ic log softmax(z_i)_c from the logits, with the hand-written backward
    dZ = (A - Y) / m (eq. 2.9 with C classes).

    Same arguments and semantics as ``torch.nn.functional.cross_entropy`` for logits (m, C) and
    targets given as class indices (m,) or class probabilities (m, C). Fused and stable
    (log-sum-exp): no overflow and no log(0) for any |z|. ``weight``, ``ignore_index`` and
    ``label_smoothing`` are refused (NotImplementedError) unless left at their defaults, so
    every index must lie in [0, C); the deprecated ``size_average`` / ``reduce`` are read as
    torch reads them.

    Args:
        input: z^[L], logits of shape (m, C) (or (C,)).
        target: class indices (m,) of an integer dtype, or probabilities (m, C) (soft labels,
            one-hot rows).
        reduction: ``"mean"`` (J, over the m examples), ``"sum"`` or ``"none"`` (L per example).
    """
    _refuse("weight", weight, None)
    _refuse("ignore_index", ignore_index, -100)
    _refuse("label_smoothing", label_smoothing, 0.0)
    if size_average is not None or reduce is not None:
        # NOTE: imported here: costs.py builds its output records on this file's formulas
        from torchnn.functional.costs import _legacy_reduction

        reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {_REDUCTIONS}, got "
                         f"{reduction!r}")
    target = check_class_target(input, target, "cross_entropy")
    if any_autocast() and torch.is_autocast_enabled(input.device.type):
        input = input.float()  # NOTE: autocast runs the costs in float32, as torch's
        target = target.float() if target.is_floating_point() else target
    return call(CrossEntropyFunction, input, target, reduction)
