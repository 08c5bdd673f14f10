"""A whole σ + cross-entropy classifier as one autograd Function: one node in the graph for the
network, so a training step pays one Function's Python bookkeeping instead of one per layer.

``dense_network_cross_entropy`` (layers 1..L, the same g for the hidden ones):

    forward:   A^[l] = g(A^[l-1] W^[l]ᵀ + b^[l]) for l < L, J = mean L(σ(A^[L-1] W^[L]ᵀ + b^[L]), Y)
                                                              (eqs. 2.3-2.4, §1.2)
    saves:     A^[0] (the input), Y, the parameters and A^[1..L-1] (the ``setup_context`` class
               returns them as non-differentiable outputs, the only way it can keep what it
               computed; plain eager calls' old-style class saves them from ``forward``)
    backward:  Z^[L] recomputed, dZ^[L] = (A^[L] - Y) / m (eq. 2.9); then for l = L..1:
               dW = dZᵀ A^[l-1], db = Σ dZ, dA^[l-1] = dZ W (eqs. 2.10-2.12),
               dZ^[l-1] = dA^[l-1] * g'(Z^[l-1]) from A^[l-1] (eq. 2.12, §2.3)

The seed's backward pass (eqs. 2.9-2.12) as a loop inside one ``backward``: the same rules as
``dense_activation`` and ``dense_cross_entropy`` (this file only composes
``torchnn.functional``'s), the same saved tensors (each activation once, Z^[L] recomputed), the
same values and gradients; what it removes is the per-layer Function machinery (``apply``,
``setup_context``, an engine node and a Python ``backward`` call per layer: ~20 µs a layer).

NOTE: with a graph to build in backward (``create_graph=True``, ``torch.func.grad`` and every
transform stacked on it) the saved activations would be constants to that graph: they were made
inside ``forward``, outside autograd. The backward then rebuilds them from A^[0] differentiably
(one more forward pass), so second derivatives are exact.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn.functional._dispatch import apply, autocast_state, maybe_autocast
from torchnn.functional.activations import BACKWARD_RULES
from torchnn.functional.costs import check_cost_args, cross_entropy_value
from torchnn.functional.dense import check_dense_args, dense_forward, dense_grads, dense_tangent
from torchnn.functional.layer import (
    _grad_z,
    activate_owned,
    check_fused_activation,
    dense_activation,
    dense_cross_entropy,
    output_grads,
    output_tangent,
)

__all__ = ["DenseNetworkFunction", "dense_network_cross_entropy"]


def _hidden_forward(a: Tensor, params: tuple, name: str, slope: float) -> list[Tensor]:
    """A^[1..L-1] from A^[0] (eqs. 2.3-2.4); ``params`` = (W^[1], b^[1], ..., W^[L], b^[L])."""
    acts = []
    for l in range(0, len(params) - 2, 2):
        a = activate_owned(name, dense_forward(a, params[l], params[l + 1]), slope)
        acts.append(a)
    return acts


def _keep(ctx, a0, target, activation, slope, params, acts) -> None:
    """Save A^[0], Y, the parameters and A^[1..L-1] for backward, with g, its slope, L and the
    autocast state to replay."""
    ctx.activation, ctx.negative_slope, ctx.layers = activation, slope, len(params) // 2
    ctx.save_for_backward(a0, target, *params, *acts)
    ctx.autocast = autocast_state(a0)


class DenseNetworkFunction(Function):
    """J = mean L(σ(Z^[L]), Y) of the seed's L-layer classifier (eqs. 2.3-2.4, §1.2), backward
    eqs. 2.9-2.12 for every layer in one node. Outputs (J, A^[1], ..., A^[L-1]), the activations
    non-differentiable; saves A^[0], Y, the parameters and the activations (g' is read from A)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a0: Tensor, target: Tensor, activation: str, negative_slope: float,
                *params: Tensor | None) -> tuple[Tensor, ...]:
        acts = _hidden_forward(a0, params, activation, negative_slope)
        a_last = acts[-1] if acts else a0
        return cross_entropy_value(dense_forward(a_last, params[-2], params[-1]), target), *acts

    @staticmethod
    def setup_context(ctx, inputs, output):
        a0, target, activation, negative_slope, *params = inputs
        ctx.mark_non_differentiable(*output[1:])
        ctx.set_materialize_grads(False)  # no zero gradients for the activations
        _keep(ctx, a0, target, activation, negative_slope, params, output[1:])

    @staticmethod
    def backward(ctx, grad_j, *_grad_acts):
        a0, target, *rest = ctx.saved_tensors
        n_layers, name, slope = ctx.layers, ctx.activation, ctx.negative_slope
        params, acts = rest[:2 * n_layers], rest[2 * n_layers:]
        needs = ctx.needs_input_grad  # (A^[0], Y, g, slope, W^[1], b^[1], ...)
        grads: list[Tensor | None] = [None] * (2 * n_layers)
        if grad_j is None:
            return None, None, None, None, *grads
        with maybe_autocast(ctx.autocast, grad_j):
            if torch.is_grad_enabled():  # a graph to build: the activations as its functions
                acts = _hidden_forward(a0, params, name, slope)
            a_in = (a0, *acts)  # A^[l-1] of layer l, at index l - 1
            # whether layer l's backward must go on to dA^[l-1]: something below it needs a grad
            below = [needs[0]]
            for l in range(1, n_layers):
                below.append(below[-1] or needs[2 + 2 * l] or needs[3 + 2 * l])
            last = n_layers - 1
            grad_a, grads[-2], grads[-1], grad_target = output_grads(
                a_in[last], params[-2], params[-1], target, grad_j,
                (below[last], *needs[-2:], needs[1]))  # eqs. 2.9-2.12 for layer L
            for l in range(last - 1, -1, -1):
                if grad_a is None:
                    break  # nothing below needs a gradient
                grad_z = _grad_z(name, grad_a, a_in[l + 1], slope)  # dZ^[l]  (2.12)
                grad_a, grads[2 * l], grads[2 * l + 1] = dense_grads(
                    grad_z, a_in[l], params[2 * l], (below[l], *needs[4 + 2 * l:6 + 2 * l]))
        return grad_a, grad_target, None, None, *grads


class _DenseNetworkEager(Function):
    """The same Function for plain eager code (no torch.func transform, no Dynamo, no
    forward-AD level): J alone as its output, the activations saved from ``forward``'s ctx.

    NOTE: an old-style Function can save what its forward computed without returning it, so the
    usual training step pays for one output instead of L (~4 µs a step on the CPU); torch.func
    transforms need ``setup_context``, so everything else takes ``DenseNetworkFunction``. The
    backward is the same function.
    """

    @staticmethod
    def forward(ctx, a0, target, activation, negative_slope, *params):
        acts = _hidden_forward(a0, params, activation, negative_slope)
        a_last = acts[-1] if acts else a0
        _keep(ctx, a0, target, activation, negative_slope, params, acts)
        return cross_entropy_value(dense_forward(a_last, params[-2], params[-1]), target)

    backward = DenseNetworkFunction.backward


class _DenseNetworkFwd(DenseNetworkFunction):
    @staticmethod
    def setup_context(ctx, inputs, output):
        DenseNetworkFunction.setup_context(ctx, inputs, output)
        a0, target, _activation, _slope, *params = inputs
        ctx.save_for_forward(a0, target, *params, *output[1:])

    @staticmethod
    def jvp(ctx, a0_t, target_t, _activation_t, _slope_t, *params_t):
        # layer by layer, dA^[l] = g'(Z^[l]) dZ^[l] (a diagonal Jacobian), then dJ as the output
        # layer's rule; the activations are non-differentiable outputs, so no tangent for them
        a0, target, *rest = ctx.saved_tensors
        n_layers, name, slope = ctx.layers, ctx.activation, ctx.negative_slope
        params, acts = rest[:2 * n_layers], rest[2 * n_layers:]
        a_prev, a_t = a0, a0_t
        for l, a in enumerate(acts):
            z_t = dense_tangent(a_prev, params[2 * l], a_t, params_t[2 * l], params_t[2 * l + 1])
            a_t = None if z_t is None else BACKWARD_RULES[name](z_t, a, slope)
            a_prev = a
        j_t = output_tangent(a_prev, params[-2], params[-1], target, a_t, params_t[-2],
                             params_t[-1], target_t)
        return j_t, *(None for _ in acts)


def dense_network_cross_entropy(
    input: Tensor,
    target: Tensor,
    *params: Tensor | None,
    activation: str = "relu",
    negative_slope: float = 0.01,
) -> Tensor:
    """J of the seed's L-layer classifier, as one autograd Function.

    ``params``: W^[1], b^[1], ..., W^[L], b^[L] (a bias may be None), W^[l] of shape
    ``(n[l], n[l-1])``; the hidden layers use ``activation`` (``"sigmoid"``, ``"tanh"``,
    ``"relu"`` or ``"leaky_relu"`` with ``negative_slope >= 0``), the output layer σ with the
    mean cross-entropy against ``target`` ``(m, n[L])``. The same value and gradients as
    ``dense_activation`` for each hidden layer followed by ``dense_cross_entropy`` (and as
    ``torch.nn``'s ``Linear`` / activation / ``BCEWithLogitsLoss``). Under autocast it runs as
    those per-layer Functions (the cost in float32, as PyTorch's autocast does).
    """
    check_fused_activation("dense_network_cross_entropy", activation, negative_slope)
    if not params or len(params) % 2:
        raise ValueError("dense_network_cross_entropy: expected params W1, b1, ..., WL, bL (a "
                         f"weight and a bias or None per layer), got {len(params)} values")
    a = input  # a stand-in of each layer's input shape, dtype and device, for the checks
    for l in range(0, len(params), 2):
        check_dense_args(a, params[l], params[l + 1], f"dense_network_cross_entropy (layer "
                                                      f"{l // 2 + 1})")
        a = torch.empty((1, params[l].shape[0]), dtype=input.dtype, device=input.device)
    check_cost_args("dense_network_cross_entropy", input, target, "mean", check_shape=False)
    out_shape = (*input.shape[:-1], params[-2].shape[0])
    if tuple(target.shape) != out_shape:
        raise ValueError(
            f"dense_network_cross_entropy: target shape {tuple(target.shape)} must equal the "
            f"network's output shape {out_shape} (e.g. labels of shape (m, 1) for one output unit)"
        )
    slope = float(negative_slope)
    if torch.is_autocast_enabled(input.device.type):
        a = input
        for l in range(0, len(params) - 2, 2):
            a = dense_activation(a, params[l], params[l + 1], activation, slope)
        return dense_cross_entropy(a, params[-2], params[-1], target)
    return apply_dense_network(input, target.to(input.dtype), activation, slope, params)


def apply_dense_network(
    a0: Tensor, target: Tensor, activation: str, negative_slope: float, params: tuple | list
) -> Tensor:
    """``dense_network_cross_entropy`` without the argument checks (``DeepNetwork`` made them;
    ``target`` already in the dtype). Returns J."""
    out = apply(_DenseNetworkFwd, DenseNetworkFunction, a0, target, activation, negative_slope,
                *params, plain=_DenseNetworkEager)
    return out if isinstance(out, Tensor) else out[0]  # (J, A^[1], ...) from the new-style class
