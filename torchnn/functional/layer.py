"""Whole layers as single autograd Functions: one node per layer instead of two or three.

A hidden layer (``dense_activation``):

    forward:   A = g(A_prev Wᵀ + b)                        (eqs. 2.3-2.4)
    backward:  dZ = dA * g'(Z), g' read from A            (eq. 2.12, second half; §2.3)
               dW = dZᵀ A_prev, db = Σ dZ, dA_prev = dZ W  (eqs. 2.10-2.12)

The output layer with the cost (``dense_cross_entropy``):

    forward:   J = (1/m) Σ L(σ(A_prev Wᵀ + b), Y)          (eqs. 2.3-2.4 and §1.2)
    backward:  dZ = (A - Y) / m                            (eq. 2.9), then eqs. 2.10-2.12

This file only composes the rules of ``activations`` (the records), ``costs`` (the output
rules) and ``dense`` (eqs. 2.3 and 2.10-2.12).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn.functional._autograd import autocast_replay, autocast_state, call, save, twin
from torchnn.functional.activations import ACTIVATIONS, Activation, leaky_relu
from torchnn.functional.costs import OUTPUTS, Output, binary_cross_entropy_with_logits
from torchnn.functional.costs import check_cost_args as _check_cost
from torchnn.functional.dense import (
    check_dense_args,
    dense,
    dense_forward,
    dense_grads,
    dense_tangent,
    operands_to_save,
)

__all__ = ["DenseActivationFunction", "DenseCrossEntropyFunction", "dense_output_function",
           "dense_activation",
           "dense_cross_entropy", "FUSED_ACTIVATIONS", "check_fused_activation", "output_grads",
           "output_tangent", "activate_owned"]

# the activations a layer Function fuses, reading g' from A (leaky ReLU with a slope >= 0); the
# identity layer is a plain dense layer
FUSED_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name != "identity")


def check_fused_activation(where: str, activation: str, negative_slope: float) -> None:
    """A g whose g' a layer Function reads from A: one of ``FUSED_ACTIVATIONS``, with a leaky
    slope >= 0 (a negative one makes A ambiguous about the sign of Z)."""
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {activation!r}; expected one of "
                         f"{list(FUSED_ACTIVATIONS)}")
    if (isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float))
            or negative_slope < 0):
        raise ValueError(f"{where}: negative_slope must be a real number >= 0 (g' is read "
                         f"from A), got {negative_slope!r}")


def activate_owned(g: Activation, z: Tensor, slope: float) -> Tensor:
    """A = g(Z) written over Z, a tensor the caller made and owns (no second m x n tensor).

    NOTE: out of place while Dynamo traces: a Function whose forward returns a tensor it wrote
    in place gets silently wrong gradients under torch.compile (pytorch#180642). The compiled
    graph is the same either way: AOT autograd functionalises the in-place op.
    """
    return g.forward(z, slope) if torch.compiler.is_compiling() else g.forward_(z, slope)


@twin
class DenseActivationFunction(Function):
    """A = g(A_prev Wᵀ + b) (eqs. 2.3-2.4) for g in sigmoid, tanh, ReLU, leaky ReLU (slope >= 0).

    Saves the output A (g' is read from it, §2.3), A_prev and W: the tensors a ``DenseFunction``
    followed by an activation Function keeps (A is the next layer's A_prev, so a network saves
    each activation once).
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(a_prev: Tensor, weight: Tensor, bias: Tensor | None, activation: str,
                negative_slope: float) -> Tensor:
        z = dense_forward(a_prev, weight, bias)  # Z = A_prev Wᵀ + b  (2.3)
        return activate_owned(ACTIVATIONS[activation], z, negative_slope)  # A = g(Z)  (2.4)

    @staticmethod
    def setup_context(ctx, inputs, output):
        a_prev, weight, _, activation, ctx.slope = inputs
        ctx.g = ACTIVATIONS[activation]
        save(ctx, *operands_to_save(ctx, a_prev, weight), output)
        ctx.autocast = autocast_state(a_prev)

    @staticmethod
    def backward(ctx, grad_a):
        a_prev, weight, a = ctx.saved_tensors
        with autocast_replay(ctx.autocast, grad_a):
            grad_z = ctx.g.grad(grad_a, a, ctx.slope)  # dZ = dA * g'(Z)  (2.12)
            return *dense_grads(grad_z, a_prev, weight, ctx.needs_input_grad), None, None

    @staticmethod
    def tangent(ctx, a_prev_t, weight_t, bias_t, _activation_t, _slope_t):
        a_prev, weight, a = ctx.saved_tensors
        z_t = dense_tangent(a_prev, weight, a_prev_t, weight_t, bias_t)
        return ctx.g.grad(z_t, a, ctx.slope)  # dA = g'(Z) dZ: the same diagonal rule


def dense_activation(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, activation: str = "relu",
    negative_slope: float = 0.01,
) -> Tensor:
    """A = g(A_prev Wᵀ + b): ``dense`` followed by an activation, as one autograd Function.

    The same values and gradients as ``activation(dense(input, weight, bias))`` (and as
    ``torch.nn.functional.linear`` followed by ``torch.tanh`` and so on). ``activation``:
    ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"`` or ``"identity"``; ``negative_slope``
    is leaky ReLU's. A negative slope (whose backward needs Z, not A) and ``"identity"`` run as
    separate Functions.
    """
    if activation not in (*FUSED_ACTIVATIONS, "identity"):
        raise ValueError(f"dense_activation: unknown activation {activation!r}; expected one "
                         f"of {[*FUSED_ACTIVATIONS, 'identity']}")
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
        raise TypeError(f"dense_activation: negative_slope must be a real number, got "
                        f"{negative_slope!r}")
    check_dense_args(input, weight, bias, "dense_activation")
    if activation == "identity":
        return dense(input, weight, bias)
    if activation == "leaky_relu" and negative_slope < 0:
        return leaky_relu(dense(input, weight, bias), negative_slope)
    return call(DenseActivationFunction, input, weight, bias, activation, float(negative_slope))


# ----------------------------------------------------------------------------------------------
# the output layer and the cost
# ----------------------------------------------------------------------------------------------


def output_grads(
    out: Output, a_prev: Tensor, weight: Tensor, bias: Tensor | None, target: Tensor,
    grad_j: Tensor, needs: tuple[bool, ...],
) -> tuple[Tensor | None, ...]:
    """(dA_prev, dW, db, dY) of J = cost(A_prev Wᵀ + b, Y), each where ``needs`` (for A_prev, W,
    b, Y) asks: Z^[L] recomputed (eq. 2.3), dZ = out.delta / m (eq. 2.9), then eqs. 2.10-2.12;
    dY = out.target_grad / m (-Z for σ + cross-entropy)."""
    z = dense_forward(a_prev, weight, bias)  # Z^[L] again (eq. 2.3)
    scale = grad_j / out.count(z)  # the mean's 1/m, times dJ
    grads: tuple[Tensor | None, ...] = (None, None, None)
    if any(needs[:3]):
        grad_z = out.delta(z, target) * scale  # dZ = (A - Y) / m  (2.9)
        grads = dense_grads(grad_z, a_prev, weight, needs)  # (2.10-2.12)
    grad_target = out.target_grad(z, target) * scale if needs[3] else None  # dL/dy (σ: -z)
    return *grads, grad_target


def output_tangent(
    out: Output, a_prev: Tensor, weight: Tensor, bias: Tensor | None, target: Tensor,
    a_prev_t: Tensor | None, weight_t: Tensor | None, bias_t: Tensor | None,
    target_t: Tensor | None,
) -> Tensor:
    """Forward mode: dJ = Σ (dZ^[L] dZ_t + dL/dY dY_t) / m, the VJP's rule on the tangents."""
    z = dense_forward(a_prev, weight, bias)
    z_t = dense_tangent(a_prev, weight, a_prev_t, weight_t, bias_t)
    dj = torch.zeros_like(z)
    if z_t is not None:
        dj = dj + out.delta(z, target) * z_t
    if target_t is not None:
        dj = dj + out.target_grad(z, target) * target_t
    return dj.sum() / out.count(z)


def dense_output_function(output: str, doc: str, module: str = __name__) -> type[Function]:
    """The autograd Function of an output layer with its cost: J from Z = A_prev Wᵀ + b by the
    ``OUTPUTS[output]`` record; backward dZ = (A - Y) / m (eq. 2.9), then eqs. 2.10-2.12.

    It saves only its inputs (A_prev is the previous layer's saved output, W and b parameters,
    Y the data) and recomputes Z in backward: one small GEMM instead of a saved tensor.
    NOTE: the record is looked up by name inside each method (as ``activations._elementwise``
    does): Dynamo traces a global lookup, where a closure over the record object breaks it.
    """

    def forward(a_prev: Tensor, weight: Tensor, bias: Tensor | None, target: Tensor) -> Tensor:
        return OUTPUTS[output].cost(dense_forward(a_prev, weight, bias), target)

    def setup_context(ctx, inputs, output_):
        save(ctx, *inputs)
        ctx.autocast = autocast_state(inputs[0])

    def backward(ctx, grad_j):
        with autocast_replay(ctx.autocast, grad_j):
            return output_grads(OUTPUTS[output], *ctx.saved_tensors, grad_j,
                                ctx.needs_input_grad)

    def tangent(ctx, a_prev_t, weight_t, bias_t, target_t):
        return output_tangent(OUTPUTS[output], *ctx.saved_tensors, a_prev_t, weight_t,
                              bias_t, target_t)

    body: dict[str, Callable[..., Any]] = {"forward": forward, "setup_context": setup_context,
                                           "backward": backward, "tangent": tangent}
    name = doc.split(":")[0]
    return twin(type(name, (Function,), {
        **{k: staticmethod(f) for k, f in body.items()}, "__doc__": doc, "__module__": module,
        "__qualname__": name, "generate_vmap_rule": True}))


DenseCrossEntropyFunction = dense_output_function(
    "sigmoid", "DenseCrossEntropyFunction: J = mean L(σ(A_prev Wᵀ + b), Y) (§1.2); "
    "dZ = (A - Y) / m (eq. 2.9), then eqs. 2.10-2.12; saves A_prev, W, b, Y (Z recomputed); "
    "dY = -Z / m when the target needs a gradient")


def dense_cross_entropy(
    input: Tensor, weight: Tensor, bias: Tensor | None, target: Tensor
) -> Tensor:
    """J of the seed's output layer: the mean cross-entropy of σ(A_prev Wᵀ + b) against Y.

    The same value and gradients as ``binary_cross_entropy_with_logits(dense(input, weight,
    bias), target)`` (and ``torch.nn.functional``'s), as one autograd Function: backward
    dZ = (A - Y) / m (eq. 2.9), then dW, db, dA_prev (eqs. 2.10-2.12). ``target``: the shape of
    the layer's output ``(*, n_out)``; integer or boolean labels are cast. Under autocast it runs
    as the two Functions (the cost in float32, as PyTorch's autocast does).
    """
    check_dense_args(input, weight, bias, "dense_cross_entropy")
    _check_cost("dense_cross_entropy", input, target, "mean", check_shape=False)
    out_shape = (*input.shape[:-1], weight.shape[0])
    if tuple(target.shape) != out_shape:
        raise ValueError(f"dense_cross_entropy: target shape {tuple(target.shape)} must equal "
                         f"the layer's output shape {out_shape} (e.g. labels of shape (m, 1) for "
                         "a one-unit layer)")
    if torch.is_autocast_enabled(input.device.type):
        return binary_cross_entropy_with_logits(dense(input, weight, bias), target)
    return call(DenseCrossEntropyFunction, input, weight, bias, target.to(input.dtype))
