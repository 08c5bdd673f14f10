"""The dense layer: forward eq. 2.3, backward eqs. 2.10-2.12 (the 1/m comes from the cost).

The seed writes examples as columns: ``Z = W A_prev + b`` with ``A_prev`` of shape (n[l-1], m).
PyTorch writes a batch as rows, ``a_prev`` of shape (m, n[l-1]); transposing both sides gives
``Z = A_prev Wᵀ + b`` with the weight kept in the seed's shape (n[l], n[l-1]), as ``nn.Linear``
keeps it. The backward formulas transpose the same way:

    dW = dZᵀ A_prev          (seed: dW = dZ A_prevᵀ,           eq. 2.10 without 1/m)
    db = Σ_rows dZ           (seed: db = sum(dZ, axis=1),      eq. 2.11 without 1/m)
    dA_prev = dZ W           (seed: dA_prev = Wᵀ dZ,           first half of eq. 2.12)
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn._validate import check_floating, check_same_device
from torchnn.functional._dispatch import apply, autocast_state, maybe_autocast

__all__ = [
    "dense",
    "linear",
    "dense_forward",
    "dense_grad_input",
    "dense_grad_weight",
    "dense_grad_bias",
    "dense_grads",
    "dense_tangent",
]


# ----------------------------------------------------------------------------------------------
# the formulas (one source of truth, shared with the whole-network backprop)
# ----------------------------------------------------------------------------------------------


def dense_forward(a_prev: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """Z = A_prev Wᵀ + b  # (m, n_{l-1}) @ (n_{l-1}, n_l) + (n_l,) -> (m, n_l)  (eq. 2.3)."""
    if a_prev.dim() == 2 and bias is not None:
        return torch.addmm(bias, a_prev, weight.t())
    z = a_prev.matmul(weight.t())
    return z if bias is None else z + bias


def dense_grad_input(grad_z: Tensor, weight: Tensor) -> Tensor:
    """dA_prev = dZ W  # (m, n_l) @ (n_l, n_{l-1}) -> (m, n_{l-1})  (eq. 2.12, Wᵀ dZ)."""
    return grad_z.matmul(weight)


def dense_grad_weight(
    grad_z: Tensor, a_prev: Tensor, *, alpha: float = 1.0, add_to: Tensor | None = None
) -> Tensor:
    """dW = α dZᵀ A_prev  # (n_l, m) @ (m, n_{l-1}) -> (n_l, n_{l-1})  (eq. 2.10).

    ``alpha`` scales dW (the cost's 1/m, folded into the GEMM). ``add_to=t`` adds α dW into t in
    place with one fused GEMM and returns t: ``t = W.grad`` accumulates as autograd does, and
    ``t = W`` with ``alpha = -lr/m`` is Algorithm 1.1's ``w := w - α dw`` with no dW stored.
    """
    if grad_z.dim() != 2 or a_prev.dim() != 2:
        grad_z = grad_z.reshape(-1, grad_z.shape[-1])
        a_prev = a_prev.reshape(-1, a_prev.shape[-1])
    if add_to is not None:
        return add_to.addmm_(grad_z.t(), a_prev, alpha=alpha)
    grad_weight = grad_z.t().mm(a_prev)
    return grad_weight if alpha == 1.0 else grad_weight.mul_(alpha)


def dense_grad_bias(
    grad_z: Tensor,
    *,
    alpha: float = 1.0,
    add_to: Tensor | None = None,
    ones: Tensor | None = None,
) -> Tensor:
    """db = α Σ_rows dZ  # (m, n_l) -> (n_l,)  (eq. 2.11); ``alpha``, ``add_to`` as for dW.

    ``ones``: a length-m vector of ones, with ``add_to``: the row sum as ``dZᵀ 1`` fused into the
    addition (one GEMV instead of a sum and an add; the explicit engine keeps one per batch size).
    """
    if ones is not None and add_to is not None and grad_z.dim() == 2:
        return add_to.addmv_(grad_z.t(), ones, alpha=alpha)
    grad_bias = (grad_z if grad_z.dim() == 2 else grad_z.reshape(-1, grad_z.shape[-1])).sum(0)
    if add_to is not None:
        return add_to.add_(grad_bias, alpha=alpha)
    return grad_bias if alpha == 1.0 else grad_bias.mul_(alpha)


def dense_grads(
    grad_z: Tensor, a_prev: Tensor | None, weight: Tensor | None, needs: tuple[bool, ...]
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """(dA_prev, dW, db) from dZ (eqs. 2.10-2.12), each only where ``needs`` asks for it.

    ``needs``: a Function's ``ctx.needs_input_grad`` for (A_prev, W, b, ...); a gradient that
    is not needed is None, and its operand (``a_prev`` or ``weight``) may be None.
    """
    if grad_z.dim() == 2 and (a_prev is None or a_prev.dim() == 2):
        # NOTE: the usual (m, n) batch: the same products as below without the helpers' shape
        # handling (~1 µs a layer of Python: 9.3 vs 10.0 µs a call on an 8 x 7 layer, timeit)
        return (grad_z.mm(weight) if needs[0] else None,  # dZ W  (2.12)
                grad_z.t().mm(a_prev) if needs[1] else None,  # dZᵀ A_prev  (2.10)
                grad_z.sum(0) if needs[2] else None)  # Σ_rows dZ  (2.11)
    grad_a_prev = dense_grad_input(grad_z, weight) if needs[0] else None  # dZ W  (2.12)
    grad_weight = dense_grad_weight(grad_z, a_prev) if needs[1] else None  # dZᵀ A_prev  (2.10)
    grad_bias = dense_grad_bias(grad_z) if needs[2] else None  # Σ_rows dZ  (2.11)
    return grad_a_prev, grad_weight, grad_bias


# ----------------------------------------------------------------------------------------------
# the autograd Function
# ----------------------------------------------------------------------------------------------


class DenseFunction(Function):
    """Z = A_prev Wᵀ + b (eq. 2.3); dA_prev = dZ W, dW = dZᵀ A_prev, db = Σ dZ (eqs. 2.10-2.12).

    Saves A_prev only if W needs a gradient and W only if A_prev does: the first layer of a
    network (whose input needs no gradient) saves nothing but its input.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(a_prev: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        return dense_forward(a_prev, weight, bias)

    @staticmethod
    def setup_context(ctx, inputs, output):
        a_prev, weight, bias = inputs
        need_a, need_w, _ = ctx.needs_input_grad
        ctx.save_for_backward(a_prev if need_w else None, weight if need_a else None)
        ctx.autocast = autocast_state(a_prev)

    @staticmethod
    def backward(ctx, grad_z):
        a_prev, weight = ctx.saved_tensors
        with maybe_autocast(ctx.autocast, grad_z):
            return dense_grads(grad_z, a_prev, weight, ctx.needs_input_grad)


class _DenseFwd(DenseFunction):
    @staticmethod
    def setup_context(ctx, inputs, output):
        DenseFunction.setup_context(ctx, inputs, output)
        a_prev, weight, bias = inputs
        ctx.save_for_forward(a_prev, weight)

    @staticmethod
    def jvp(ctx, a_prev_t, weight_t, bias_t):
        a_prev, weight = ctx.saved_tensors
        return dense_tangent(a_prev, weight, a_prev_t, weight_t, bias_t)


def dense_tangent(
    a_prev: Tensor, weight: Tensor, a_prev_t: Tensor | None, weight_t: Tensor | None,
    bias_t: Tensor | None,
) -> Tensor | None:
    """Forward-mode dZ = dA_prev Wᵀ + A_prev dWᵀ + db: the product rule on eq. 2.3."""
    z_t = None
    if a_prev_t is not None:
        z_t = dense_forward(a_prev_t, weight, None)
    if weight_t is not None:
        term = dense_forward(a_prev, weight_t, None)
        z_t = term if z_t is None else z_t + term
    if bias_t is not None:
        shape = (*a_prev.shape[:-1], bias_t.shape[-1])
        z_t = bias_t.expand(shape) if z_t is None else z_t + bias_t
    return z_t


def dense(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Z = A_prev Wᵀ + b with the hand-written backward of eqs. 2.10-2.12.

    Same arguments and semantics as ``torch.nn.functional.linear``.

    Args:
        input: A_prev, shape ``(*, n[l-1])`` (usually ``(m, n[l-1])``).
        weight: W, shape ``(n[l], n[l-1])``.
        bias: b, shape ``(n[l],)``, or ``None``.

    Returns:
        Z, shape ``(*, n[l])``.
    """
    check_dense_args(input, weight, bias, "dense")
    return apply(_DenseFwd, DenseFunction, input, weight, bias)


def apply_dense(a_prev: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``dense`` without the argument checks, for callers that made them already."""
    return apply(_DenseFwd, DenseFunction, a_prev, weight, bias)


def check_dense_args(input: Tensor, weight: Tensor, bias: Tensor | None, where: str) -> None:
    """Types, shapes, one device and one dtype (unless autocast casts them): metadata only."""
    check_floating(input, "input", where)
    check_floating(weight, "weight", where)
    if input.dim() == 0 or weight.dim() != 2 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"{where}: input has shape {tuple(input.shape)} and weight {tuple(weight.shape)}; "
            f"expected input (*, {weight.shape[-1] if weight.dim() else 'n_in'}) and a 2-D weight "
            "(n_out, n_in)"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"{where}: bias has shape {tuple(bias.shape)}, expected ({weight.shape[0]},) "
            "to match weight's first dimension"
        )
    check_same_device(input, weight, "input", "weight", where)
    if bias is not None:
        check_same_device(bias, weight, "bias", "weight", where)
    if torch.is_autocast_enabled(input.device.type):
        return
    for name, t in (("input", input), ("bias", bias)):
        if t is not None and t.dtype != weight.dtype:
            raise TypeError(
                f"{where}: {name} has dtype {t.dtype} but weight has dtype {weight.dtype}; "
                f"expected one dtype: call {name}.to({weight.dtype})"
            )


linear = dense
