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

from typing import cast

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn._validate import check_floating, check_same_device
from torchnn.functional._autograd import autocast_replay, autocast_state, call, save, twin

__all__ = ["dense", "linear", "dense_forward", "dense_grads", "dense_tangent",
           "dense_grad_input", "dense_grad_weight", "dense_grad_bias", "DenseFunction",
           "check_dense_args", "operands_to_save"]


# ----------------------------------------------------------------------------------------------
# the formulas: one source of truth, shared by every Function and the explicit engine
# ----------------------------------------------------------------------------------------------


def dense_forward(
    a_prev: Tensor, weight: Tensor, bias: Tensor | None, out: Tensor | None = None
) -> Tensor:
    """Z = A_prev Wᵀ + b  # (m, n[l-1]) @ (n[l-1], n[l]) + (n[l],) -> (m, n[l])  (eq. 2.3).

    ``out``: a buffer to write Z into (the explicit engine's workspace; a 2-D batch).
    NOTE: ``torch.nn.functional.linear`` is this formula as one GEMM with the bias added.
    """
    if out is None:
        return torch.nn.functional.linear(a_prev, weight, bias)
    if bias is None:
        return torch.mm(a_prev, weight.t(), out=out)
    return torch.addmm(bias, a_prev, weight.t(), out=out)


def _rows(t: Tensor) -> Tensor:
    """A batch of any leading shape (*, n) as the rows of a matrix (m, n)."""
    return t if t.dim() == 2 else t.reshape(-1, t.shape[-1])


def dense_grad_input(grad_z: Tensor, weight: Tensor, out: Tensor | None = None) -> Tensor:
    """dA_prev = dZ W  # (m, n[l]) @ (n[l], n[l-1]) -> (m, n[l-1])  (eq. 2.12: Wᵀ dZ)."""
    return torch.matmul(grad_z, weight, out=out)


def dense_grad_weight(grad_z: Tensor, a_prev: Tensor, out: Tensor | None = None) -> Tensor:
    """dW = dZᵀ A_prev  # (n[l], m) @ (m, n[l-1]) -> (n[l], n[l-1])  (eq. 2.10)."""
    return torch.mm(_rows(grad_z).t(), _rows(a_prev), out=out)


def dense_grad_bias(grad_z: Tensor, out: Tensor | None = None) -> Tensor:
    """db = Σ_rows dZ  # (m, n[l]) -> (n[l],)  (eq. 2.11)."""
    return torch.sum(_rows(grad_z), 0, out=out)


def dense_grads(
    grad_z: Tensor, a_prev: Tensor | None, weight: Tensor | None, needs: tuple[bool, ...],
    out: tuple[Tensor | None, ...] | None = None,
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """(dA_prev, dW, db) from dZ (eqs. 2.10-2.12), each only where ``needs`` asks for it.

    ``needs``: a Function's ``ctx.needs_input_grad`` for (A_prev, W, b, ...); an operand whose
    gradient is not needed (``a_prev`` or ``weight``) may be None. ``out``: buffers (dA_prev,
    dW, db) to write into (the explicit engine's workspace), else new tensors.
    """
    out_a, out_w, out_b = out or (None, None, None)
    # NOTE: weight / a_prev is None only where its product is not needed
    return (dense_grad_input(grad_z, cast(Tensor, weight), out_a) if needs[0] else None,  # (2.12)
            dense_grad_weight(grad_z, cast(Tensor, a_prev), out_w) if needs[1] else None,  # (2.10)
            dense_grad_bias(grad_z, out_b) if needs[2] else None)  # Σ_rows dZ  (2.11)


def dense_tangent(
    a_prev: Tensor, weight: Tensor, a_prev_t: Tensor | None, weight_t: Tensor | None,
    bias_t: Tensor | None,
) -> Tensor | None:
    """Forward mode: dZ = dA_prev Wᵀ + A_prev dWᵀ + db, the product rule on eq. 2.3."""
    terms = []
    if a_prev_t is not None:
        terms.append(a_prev_t.matmul(weight.t()))
    if weight_t is not None:
        terms.append(a_prev.matmul(weight_t.t()))
    if bias_t is not None:
        terms.append(bias_t.expand(*a_prev.shape[:-1], bias_t.shape[-1]))
    return sum(terms[1:], terms[0]) if terms else None


# ----------------------------------------------------------------------------------------------
# the autograd Function
# ----------------------------------------------------------------------------------------------


def operands_to_save(ctx, a_prev: Tensor, weight: Tensor) -> tuple[Tensor | None, Tensor | None]:
    """(A_prev, W) as backward needs them: A_prev for dW, W for dA_prev (the jvp needs both);
    the first layer of a network, whose input needs no gradient, keeps no W."""
    need_a, need_w = ctx.needs_input_grad[:2]
    both = getattr(ctx, "for_forward", False)
    return a_prev if need_w or both else None, weight if need_a or both else None


@twin
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
        save(ctx, *operands_to_save(ctx, *inputs[:2]))
        ctx.autocast = autocast_state(inputs[0])

    @staticmethod
    def backward(ctx, grad_z):
        a_prev, weight = ctx.saved_tensors
        with autocast_replay(ctx.autocast, grad_z):
            return dense_grads(grad_z, a_prev, weight, ctx.needs_input_grad)

    @staticmethod
    def tangent(ctx, a_prev_t, weight_t, bias_t):
        a_prev, weight = ctx.saved_tensors
        return dense_tangent(a_prev, weight, a_prev_t, weight_t, bias_t)


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
    return call(DenseFunction, input, weight, bias)


linear = dense


def check_dense_args(input: Tensor, weight: Tensor, bias: Tensor | None, where: str) -> None:
    """Types, shapes, one device and one dtype (unless autocast casts them): metadata only."""
    check_floating(input, "input", where)
    check_floating(weight, "weight", where)
    if input.dim() == 0 or weight.dim() != 2 or input.shape[-1] != weight.shape[1]:
        n_in = weight.shape[-1] if weight.dim() else "n_in"
        raise ValueError(f"{where}: input has shape {tuple(input.shape)} and weight "
                         f"{tuple(weight.shape)}; expected input (*, {n_in}) and a 2-D weight "
                         "(n_out, n_in)")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"{where}: bias has shape {tuple(bias.shape)}, expected "
                         f"({weight.shape[0]},) to match weight's first dimension")
    check_same_device(input, weight, "input", "weight", where)
    if bias is not None:
        check_same_device(bias, weight, "bias", "weight", where)
    if torch.is_autocast_enabled(input.device.type):
        return
    for name, t in (("input", input), ("bias", bias)):
        if t is not None and t.dtype != weight.dtype:
            raise TypeError(f"{where}: {name} has dtype {t.dtype} but weight has dtype "
                            f"{weight.dtype}; expected one dtype: call {name}.to({weight.dtype})")
