"""Two hidden layers as one autograd Function that keeps the outer activations only: activation
checkpointing for the autograd path, by hand.

``dense_activation_pair`` (layers l and l + 1, the same g):

    forward:   A^[l] = g(A^[l-1] W^[l]ᵀ + b^[l]), A^[l+1] = g(A^[l] W^[l+1]ᵀ + b^[l+1])   (2.3-2.4)
    saves:     A^[l-1] (the previous Function's output, kept anyway), A^[l+1], the parameters
    backward:  A^[l] once more from A^[l-1] (eqs. 2.3-2.4), then for layer l + 1 and layer l:
               dZ = dA * g'(Z) from the output (2.12), dW = dZᵀ A_prev, db = Σ dZ,
               dA_prev = dZ W (2.10-2.12)

A network of pairs saves every other activation; with the output layer's Function, which
recomputes its m × n[L] product, the benchmark's large network saves A^[2] alone (0.49988× the
activations), and that memory is free between the user's forward and backward. The price is one
more forward GEMM per pair in the backward. The rules are ``torchnn.functional``'s own: this file
composes ``dense_forward``, ``dense_grads``, ``dense_tangent`` and the activation tables.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn.functional._dispatch import apply, autocast_state, maybe_autocast
from torchnn.functional.activations import BACKWARD_RULES, FORWARD
from torchnn.functional.dense import check_dense_args, dense_forward, dense_grads, dense_tangent
from torchnn.functional.layer import _grad_z, activate_owned, check_fused_activation

__all__ = ["DenseActivationPairFunction", "dense_activation_pair"]


class DenseActivationPairFunction(Function):
    """A^[l+1] = g(g(A^[l-1] W1ᵀ + b1) W2ᵀ + b2); A^[l] rebuilt in backward; saves A^[l-1] and
    A^[l+1] (g' is read from each layer's output, §2.3) and the parameters."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a_prev: Tensor, w1: Tensor, b1: Tensor | None, w2: Tensor, b2: Tensor | None,
                activation: str, negative_slope: float) -> Tensor:
        a1 = activate_owned(activation, dense_forward(a_prev, w1, b1), negative_slope)  # A^[l]
        return activate_owned(activation, dense_forward(a1, w2, b2), negative_slope)  # A^[l+1]

    @staticmethod
    def setup_context(ctx, inputs, output):
        a_prev, w1, b1, w2, _b2, activation, negative_slope = inputs
        ctx.activation, ctx.negative_slope = activation, negative_slope
        ctx.save_for_backward(a_prev, w1, b1, w2, output)
        ctx.autocast = autocast_state(a_prev)

    @staticmethod
    def backward(ctx, grad_a2):
        a_prev, w1, b1, w2, a2 = ctx.saved_tensors
        name, slope, needs = ctx.activation, ctx.negative_slope, ctx.needs_input_grad
        first = needs[:3]  # (A^[l-1], W^[l], b^[l])
        with maybe_autocast(ctx.autocast, grad_a2):
            # A^[l] again (2.3-2.4), in place as the forward made it (the same bits), or
            # differentiably under create_graph
            a1 = activate_owned(name, dense_forward(a_prev, w1, b1), slope)
            grad_z2 = _grad_z(name, grad_a2, a2, slope)  # dZ^[l+1]  (2.12)
            grad_a1, grad_w2, grad_b2 = dense_grads(grad_z2, a1, w2, (any(first), *needs[3:5]))
            grads = (None, None, None)
            if any(first):
                # dZ^[l] (2.12), over the rebuilt A^[l]: spent once dW^[l+1] has read it
                grad_z1 = _grad_z(name, grad_a1, a1, slope, a_spent=True)
                grads = dense_grads(grad_z1, a_prev, w1, first)  # (2.10-2.12)
        return *grads, grad_w2, grad_b2, None, None


class _DenseActivationPairFwd(DenseActivationPairFunction):
    @staticmethod
    def setup_context(ctx, inputs, output):
        DenseActivationPairFunction.setup_context(ctx, inputs, output)
        a_prev, w1, b1, w2 = inputs[:4]
        ctx.save_for_forward(a_prev, w1, b1, w2, output)

    @staticmethod
    def jvp(ctx, a_prev_t, w1_t, b1_t, w2_t, b2_t, _activation_t, _slope_t):
        # dA = g'(Z) dZ for each layer (the activation's Jacobian is diagonal), A^[l] rebuilt
        a_prev, w1, b1, w2, a2 = ctx.saved_tensors
        name, slope = ctx.activation, ctx.negative_slope
        a1 = FORWARD[name](dense_forward(a_prev, w1, b1), slope)
        a1_t = dense_tangent(a_prev, w1, a_prev_t, w1_t, b1_t)
        a1_t = None if a1_t is None else BACKWARD_RULES[name](a1_t, a1, slope)
        z2_t = dense_tangent(a1, w2, a1_t, w2_t, b2_t)
        return None if z2_t is None else BACKWARD_RULES[name](z2_t, a2, slope)


def dense_activation_pair(
    input: Tensor,
    w1: Tensor,
    b1: Tensor | None,
    w2: Tensor,
    b2: Tensor | None,
    activation: str = "relu",
    negative_slope: float = 0.01,
) -> Tensor:
    """g(g(input W1ᵀ + b1) W2ᵀ + b2): two ``dense_activation`` layers whose middle activation is
    not kept for backward but rebuilt there (activation checkpointing).

    The same values and gradients as two ``dense_activation`` calls. ``activation``: one of
    ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"`` (slope >= 0: g' is read from A).
    """
    check_fused_activation("dense_activation_pair", activation, negative_slope)
    check_dense_args(input, w1, b1, "dense_activation_pair (first layer)")
    # the second layer's input is A^[l], (*, n[l]) in the input's dtype on its device
    a1 = torch.empty((1, w1.shape[0]), dtype=input.dtype, device=input.device)
    check_dense_args(a1, w2, b2, "dense_activation_pair (second layer)")
    return apply_dense_activation_pair(input, w1, b1, w2, b2, activation, float(negative_slope))


def apply_dense_activation_pair(
    a_prev: Tensor, w1: Tensor, b1: Tensor | None, w2: Tensor, b2: Tensor | None,
    activation: str, negative_slope: float,
) -> Tensor:
    """``dense_activation_pair`` without the argument checks (``DeepNetwork`` made them)."""
    return apply(_DenseActivationPairFwd, DenseActivationPairFunction, a_prev, w1, b1, w2, b2,
                 activation, negative_slope)
