"""Two hidden layers as one autograd Function that keeps the outer activations only: activation
checkpointing for the autograd path, by hand.

``dense_activation_pair`` (layers l and l + 1, the same g):

    forward:   A^[l] = g(A^[l-1] W1ᵀ + b1), A^[l+1] = g(A^[l] W2ᵀ + b2)   (eqs. 2.3-2.4)
    saves:     A^[l-1] (the previous Function's output, kept anyway), A^[l+1], W1, b1, W2
    backward:  dZ^[l+1] = dA^[l+1] * g'(Z^[l+1]) from A^[l+1] (2.12); A^[l] rebuilt from A^[l-1]
               (eqs. 2.3-2.4 once more), then eqs. 2.10-2.12 for both layers (``backward_pass``)

A network of pairs saves every other activation, at the price of one more forward GEMM per pair
in the backward.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn.functional._autograd import autocast_replay, autocast_state, call, save, twin
from torchnn.functional.activations import ACTIVATIONS
from torchnn.functional.dense import check_dense_args
from torchnn.functional.layer import check_fused_activation
from torchnn.functional.network import backward_pass, forward_pass, tangent_pass

__all__ = ["DenseActivationPairFunction", "dense_activation_pair"]


@twin
class DenseActivationPairFunction(Function):
    """A^[l+1] = g(g(A^[l-1] W1ᵀ + b1) W2ᵀ + b2); A^[l] rebuilt in backward; saves A^[l-1] and
    A^[l+1] (g' is read from each layer's output, §2.3) and W1, b1, W2."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a_prev: Tensor, w1: Tensor, b1: Tensor | None, w2: Tensor, b2: Tensor | None,
                activation: str, negative_slope: float) -> Tensor:
        return forward_pass([a_prev], (w1, b1, w2, b2), ACTIVATIONS[activation], negative_slope,
                            2)[-1]

    @staticmethod
    def setup_context(ctx, inputs, output):
        a_prev, w1, b1, w2, _b2, activation, ctx.slope = inputs
        ctx.g = ACTIVATIONS[activation]
        save(ctx, a_prev, w1, b1, w2, output)
        ctx.autocast = autocast_state(a_prev)

    @staticmethod
    def backward(ctx, grad_a2):
        a_prev, w1, b1, w2, a2 = ctx.saved_tensors
        with autocast_replay(ctx.autocast, grad_a2):
            grad_z2 = ctx.g.grad(grad_a2, a2, ctx.slope)  # dZ^[l+1]  (2.12)
            grad_a, grads = backward_pass(grad_z2, [a_prev, None], (w1, b1, w2, None), ctx.g,
                                          ctx.slope, ctx.needs_input_grad[:5])
        return grad_a, *grads, None, None

    @staticmethod
    def tangent(ctx, a_prev_t, w1_t, b1_t, w2_t, b2_t, _activation_t, _slope_t):
        a_prev, w1, b1, w2, a2 = ctx.saved_tensors
        acts = [*forward_pass([a_prev], (w1, b1), ctx.g, ctx.slope, 1), a2]  # A^[l] rebuilt
        return tangent_pass(a_prev_t, acts, (w1, b1, w2, None), (w1_t, b1_t, w2_t, b2_t), ctx.g,
                            ctx.slope)


def dense_activation_pair(
    input: Tensor, w1: Tensor, b1: Tensor | None, w2: Tensor, b2: Tensor | None,
    activation: str = "relu", negative_slope: float = 0.01,
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
    return call(DenseActivationPairFunction, input, w1, b1, w2, b2, activation,
                float(negative_slope))
