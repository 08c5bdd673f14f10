"""Whole layers as single autograd Functions, so a network pays one Function's Python
bookkeeping per layer instead of two or three.

A hidden layer (``dense_activation``):

    forward:   A = g(A_prev Wᵀ + b)                    (eqs. 2.3-2.4; g applied over Z in place)
    backward:  dZ = dA * g'(Z), g' read from A        (eq. 2.12, second half; §2.3)
               dW = dZᵀ A_prev, db = Σ dZ, dA_prev = dZ W   (eqs. 2.10-2.12)

The output layer with the cost (``dense_cross_entropy``):

    forward:   J = (1/m) Σ L(σ(A_prev Wᵀ + b), Y)       (eqs. 2.3-2.4 and §1.2)
    backward:  dZ = (A - Y) / m                        (eq. 2.9), then eqs. 2.10-2.12 as above

The derivative rules are the same functions ``torchnn.functional.activations`` and
``torchnn.functional.dense`` use (the one source of truth); this file only composes them. What the
fusion removes is work, not math: one Function node instead of two (about 10 µs of Python in the
forward and 15 µs in the backward each), g written over Z instead of into a new tensor, and g'(Z)
multiplied into its own buffer instead of a second one.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn.functional._dispatch import apply, autocast_state, maybe_autocast
from torchnn.functional.activations import (
    BACKWARD_RULES,
    DERIVATIVE_FROM_OUTPUT,
    FORWARD,
    FORWARD_INPLACE,
    leaky_relu,
    sigmoid,
)
from torchnn.functional.costs import (
    binary_cross_entropy_with_logits,
    check_cost_args,
    cost_scale,
    cross_entropy_delta,
    cross_entropy_value,
)
from torchnn.functional.dense import (
    check_dense_args,
    dense,
    dense_forward,
    dense_grads,
    dense_tangent,
)

__all__ = [
    "DenseActivationFunction", "DenseCrossEntropyFunction", "dense_activation",
    "dense_cross_entropy", "FUSED_ACTIVATIONS", "check_fused_activation",
]

FUSED_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


# NOTE: a batched gradient can't be multiplied in place into an unbatched g'(Z); such a call takes
# the out-of-place rule. gradcheck's batched-grad check vmaps the backward with the legacy vmap,
# whose tensors neither report a functorch level nor switch the transforms on.
_functorch = torch._C._functorch


_is_legacy_batched = getattr(_functorch, "is_legacy_batchedtensor", lambda t: True)  # unknown


def _is_wrapped(t: Tensor) -> bool:
    return _functorch.maybe_get_level(t) != -1 or _is_legacy_batched(t)


def check_fused_activation(where: str, activation: str, negative_slope: float) -> None:
    """A g that a multi-layer Function reads g' of from A: one of ``FUSED_ACTIVATIONS``, with a
    leaky slope >= 0 (a negative one makes A ambiguous about the sign of Z)."""
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {activation!r}; expected one of "
                         f"{list(FUSED_ACTIVATIONS)}")
    if (isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float))
            or negative_slope < 0):
        raise ValueError(f"{where}: negative_slope must be a real number >= 0 (g' is read "
                         f"from A), got {negative_slope!r}")


def _grad_z(name: str, grad_a: Tensor, a: Tensor, slope: float, a_spent: bool = False) -> Tensor:
    """dZ = dA * g'(Z) (eq. 2.12), in one new tensor when no graph is being built, or with
    ``a_spent`` (A is the caller's own and read for nothing else) written over A."""
    if (name in DERIVATIVE_FROM_OUTPUT and grad_a.dtype == a.dtype and not torch.is_grad_enabled()
            and not torch.compiler.is_compiling()
            and not torch._C._are_functorch_transforms_active()
            and not _is_wrapped(grad_a)):
        return DERIVATIVE_FROM_OUTPUT[name](a, out=a if a_spent else torch.empty_like(a)).mul_(
            grad_a)
    return BACKWARD_RULES[name](grad_a, a, slope)


def activate_owned(name: str, z: Tensor, slope: float) -> Tensor:
    """A = g(Z) for a Z the caller owns: written over Z, except where a graph is being built
    (a differentiable rebuild in a backward under create_graph) or Dynamo traces.

    NOTE: out of place while Dynamo traces: on torch 2.11 a Function whose forward returns a
    tensor it wrote in place gets wrong gradients, silently (pytorch#180642: zero dA_prev, dW and
    db here). The graph is the same: AOT autograd functionalises the in-place g anyway.
    """
    if torch.is_grad_enabled() or torch.compiler.is_compiling():
        return FORWARD[name](z, slope)
    return FORWARD_INPLACE[name](z, slope)


class DenseActivationFunction(Function):
    """A = g(A_prev Wᵀ + b) (eqs. 2.3-2.4) for g in sigmoid, tanh, ReLU, leaky ReLU (slope >= 0).

    Saves the output A (g' is read from it, §2.3), A_prev only if W needs a gradient and W only if
    A_prev needs one: the same tensors a ``DenseFunction`` followed by an activation Function
    keeps (A is the next layer's A_prev, so a network saves each activation once).
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(
        a_prev: Tensor, weight: Tensor, bias: Tensor | None, activation: str, negative_slope: float
    ) -> Tensor:
        return activate_owned(activation, dense_forward(a_prev, weight, bias), negative_slope)

    @staticmethod
    def setup_context(ctx, inputs, output):
        a_prev, weight, bias, activation, negative_slope = inputs
        need_a, need_w = ctx.needs_input_grad[:2]
        ctx.activation, ctx.negative_slope = activation, negative_slope
        ctx.save_for_backward(a_prev if need_w else None, weight if need_a else None, output)
        ctx.autocast = autocast_state(a_prev)

    @staticmethod
    def backward(ctx, grad_a):
        a_prev, weight, a = ctx.saved_tensors
        with maybe_autocast(ctx.autocast, grad_a):
            grad_z = _grad_z(ctx.activation, grad_a, a, ctx.negative_slope)  # dZ  (2.12)
            return *dense_grads(grad_z, a_prev, weight, ctx.needs_input_grad), None, None


class _DenseActivationFwd(DenseActivationFunction):
    @staticmethod
    def setup_context(ctx, inputs, output):
        DenseActivationFunction.setup_context(ctx, inputs, output)
        a_prev, weight = inputs[0], inputs[1]
        ctx.save_for_forward(a_prev, weight, output)

    @staticmethod
    def jvp(ctx, a_prev_t, weight_t, bias_t, _activation_t, _slope_t):
        # dA = g'(Z) dZ: the activation's Jacobian is diagonal, so the same rule as the VJP
        a_prev, weight, a = ctx.saved_tensors
        z_t = dense_tangent(a_prev, weight, a_prev_t, weight_t, bias_t)
        return BACKWARD_RULES[ctx.activation](z_t, a, ctx.negative_slope)


def dense_activation(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    activation: str = "relu",
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
        raise ValueError(
            f"dense_activation: unknown activation {activation!r}; expected one of "
            f"{[*FUSED_ACTIVATIONS, 'identity']}"
        )
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
        raise TypeError(
            f"dense_activation: negative_slope must be a real number, got {negative_slope!r}"
        )
    check_dense_args(input, weight, bias, "dense_activation")
    if activation == "identity":
        return dense(input, weight, bias)
    if activation == "leaky_relu" and negative_slope < 0:
        return leaky_relu(dense(input, weight, bias), negative_slope)
    return apply(_DenseActivationFwd, DenseActivationFunction, input, weight, bias, activation,
                 float(negative_slope))


def apply_dense_activation(
    a_prev: Tensor, weight: Tensor, bias: Tensor | None, activation: str, negative_slope: float
) -> Tensor:
    """``dense_activation`` without the argument checks, for callers that made them already
    (``DeepNetwork``: x checked once per call, the parameters its own). A fusable activation
    only (``FUSED_ACTIVATIONS``, a slope >= 0)."""
    return apply(_DenseActivationFwd, DenseActivationFunction, a_prev, weight, bias, activation,
                 negative_slope)


# ----------------------------------------------------------------------------------------------
# the output layer and the cost
# ----------------------------------------------------------------------------------------------


def output_grads(
    a_prev: Tensor, weight: Tensor, bias: Tensor | None, target: Tensor, grad_j: Tensor,
    needs: tuple[bool, ...],
) -> tuple[Tensor | None, ...]:
    """(dA_prev, dW, db, dY) of J = mean L(σ(A_prev Wᵀ + b), Y), each only where ``needs`` (for
    A_prev, W, b, Y) asks: Z^[L] recomputed (eq. 2.3), dZ = (A - Y) / m (eq. 2.9), then eqs.
    2.10-2.12; dY = -Z / m."""
    z = dense_forward(a_prev, weight, bias)  # Z^[L] again (eq. 2.3)
    scale = cost_scale(grad_j, "mean", z.numel())  # the mean's 1/m times dJ
    grads = (None, None, None)
    if any(needs[:3]):
        # NOTE: with a graph to build (double backward) A = σ(Z) goes through our Function
        a = sigmoid(z) if torch.is_grad_enabled() else torch.sigmoid(z)
        grad_z = cross_entropy_delta(a, target) * scale  # dZ = (A - Y) / m  (2.9)
        grads = dense_grads(grad_z, a_prev, weight, needs)  # (2.10-2.12)
    grad_target = -z * scale if needs[3] else None  # dL/dy = -z
    return *grads, grad_target


def output_tangent(
    a_prev: Tensor, weight: Tensor, bias: Tensor | None, target: Tensor,
    a_prev_t: Tensor | None, weight_t: Tensor | None, bias_t: Tensor | None,
    target_t: Tensor | None,
) -> Tensor:
    """Forward-mode dJ = mean((A - Y) dZ - Z dY): the VJP's rule applied to the tangents."""
    z = dense_forward(a_prev, weight, bias)
    z_t = dense_tangent(a_prev, weight, a_prev_t, weight_t, bias_t)
    dj = torch.zeros_like(z)
    if z_t is not None:
        dj = dj + cross_entropy_delta(sigmoid(z), target) * z_t
    if target_t is not None:
        dj = dj - z * target_t
    return dj.mean()


class DenseCrossEntropyFunction(Function):
    """J = mean L(σ(A_prev Wᵀ + b), Y) (§1.2); dZ = (A - Y) / m (eq. 2.9), then eqs. 2.10-2.12.

    Saves only its inputs (A_prev is the previous layer's saved output, W and b parameters, Y the
    data) and recomputes the m × n[L] product Z in backward: one small GEMM instead of a saved
    tensor. dY = -Z / m when the target needs a gradient.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(a_prev: Tensor, weight: Tensor, bias: Tensor | None, target: Tensor) -> Tensor:
        return cross_entropy_value(dense_forward(a_prev, weight, bias), target)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)
        ctx.autocast = autocast_state(inputs[0])

    @staticmethod
    def backward(ctx, grad_j):
        with maybe_autocast(ctx.autocast, grad_j):
            return output_grads(*ctx.saved_tensors, grad_j, ctx.needs_input_grad)


class _DenseCrossEntropyFwd(DenseCrossEntropyFunction):
    @staticmethod
    def setup_context(ctx, inputs, output):
        DenseCrossEntropyFunction.setup_context(ctx, inputs, output)
        ctx.save_for_forward(*inputs)

    @staticmethod
    def jvp(ctx, a_prev_t, weight_t, bias_t, target_t):
        return output_tangent(*ctx.saved_tensors, a_prev_t, weight_t, bias_t, target_t)


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
    check_cost_args("dense_cross_entropy", input, target, "mean", check_shape=False)
    out_shape = (*input.shape[:-1], weight.shape[0])
    if tuple(target.shape) != out_shape:
        raise ValueError(
            f"dense_cross_entropy: target shape {tuple(target.shape)} must equal the layer's "
            f"output shape {out_shape} (e.g. labels of shape (m, 1) for a one-unit layer)"
        )
    if torch.is_autocast_enabled(input.device.type):
        return binary_cross_entropy_with_logits(dense(input, weight, bias), target)
    return apply_dense_cross_entropy(input, weight, bias, target.to(input.dtype))


def apply_dense_cross_entropy(
    a_prev: Tensor, weight: Tensor, bias: Tensor | None, target: Tensor
) -> Tensor:
    """``dense_cross_entropy`` without the argument checks (``target`` already in the dtype)."""
    return apply(_DenseCrossEntropyFwd, DenseCrossEntropyFunction, a_prev, weight, bias, target)
