"""The seed's forward and backward passes over a whole network (§2.5, eqs. 2.3-2.4 and 2.9-2.12),
and the classifier with its cost as one autograd Function.

``forward_pass`` and ``backward_pass`` are the layer loops, written once: the one-node network
Function, the checkpointed pair of layers and the explicit engine (``torchnn.nn.backprop``) all
run them. ``params`` is always the flat list W^[1], b^[1], ..., W^[L], b^[L] (a bias may be None);
``acts[l]`` is A^[l], the input of layer l + 1, so ``acts[0]`` is the input X.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn.functional._autograd import autocast_replay, autocast_state, call, save, twin
from torchnn.functional.activations import ACTIVATIONS, Activation
from torchnn.functional.costs import OUTPUTS, Output
from torchnn.functional.costs import check_cost_args as _check_cost
from torchnn.functional.dense import check_dense_args, dense_forward, dense_grads, dense_tangent
from torchnn.functional.layer import (
    DenseActivationFunction,
    activate_owned,
    check_fused_activation,
    dense_activation,
    dense_cross_entropy,
    output_grads,
    output_tangent,
)
from torchnn.functional.softmax_layer import check_output_target, dense_softmax_cross_entropy

__all__ = ["forward_pass", "backward_pass", "tangent_pass", "DenseNetworkFunction",
           "DenseNetworkSoftmaxFunction", "dense_network_cross_entropy"]


def forward_pass(acts: list, params, g: Activation, slope: float, layers: int) -> list:
    """Eqs. 2.3-2.4 for ``layers`` hidden layers: append A^[l] = g(A^[l-1] W^[l]ᵀ + b^[l]) to
    ``acts`` (which holds A^[0]) and return it. Differentiable where a graph is being built
    (each layer our Function), else plain kernels."""
    for l in range(len(acts) - 1, len(acts) - 1 + layers):
        if torch.is_grad_enabled():
            acts.append(call(DenseActivationFunction, acts[l], *params[2 * l:2 * l + 2], g.name,
                             slope))
        else:
            z = dense_forward(acts[l], *params[2 * l:2 * l + 2])
            acts.append(activate_owned(g, z, slope))
    return acts


def backward_pass(
    grad_z: Tensor, acts: list, params, g: Activation, slope: float, needs: tuple[bool, ...],
    saved: list | None = None, out: list | None = None,
) -> tuple[Tensor | None, list[Tensor | None]]:
    """Eqs. 2.10-2.12 from the top layer down, given its dZ: returns dA^[0] and [dW^[1], db^[1],
    ..., dW^[n], db^[n]] for the n = ``len(acts)`` layers whose inputs ``acts`` holds.

    ``needs``: (A^[0], W^[1], b^[1], ...) as a Function's ``needs_input_grad``; a gradient not
    needed is None, and the loop stops where nothing below needs one. ``acts[l] = None`` (a
    layer dropped by activation checkpointing) is rebuilt from A^[l-1] (eqs. 2.3-2.4 again).
    ``saved[l]``: what g'(Z^[l]) is read from when that is not A^[l] (a negative leaky slope).
    ``out[l]``: buffers (dA^[l], dW^[l+1], db^[l+1]) layer l + 1 writes into, or None.
    """
    n = len(acts)
    below = [needs[0]]  # whether anything at or below layer l + 1 needs a gradient
    for l in range(1, n):
        below.append(below[-1] or needs[2 * l - 1] or needs[2 * l])  # layer l's W, b
    grads: list[Tensor | None] = [None] * (2 * n)
    grad_a = None
    for l in range(n - 1, -1, -1):  # layer l + 1, whose input is A^[l]
        if acts[l] is None:  # dropped by checkpointing: A^[l] once more  (2.3-2.4)
            acts[l] = forward_pass([acts[l - 1]], params[2 * l - 2:2 * l], g, slope, 1)[1]
            if saved is not None:  # g' reads Z^[l]: rebuild it too
                saved[l] = dense_forward(acts[l - 1], *params[2 * l - 2:2 * l])
        grad_a, grads[2 * l], grads[2 * l + 1] = dense_grads(
            grad_z, acts[l], params[2 * l], (below[l], *needs[2 * l + 1:2 * l + 3]),
            out[l] if out else None)  # (2.10-2.12)
        if grad_a is None or l == 0:
            break
        grad_z = g.grad(grad_a, acts[l] if saved is None else saved[l], slope)  # dZ^[l]  (2.12)
        acts[l] = None  # spent: dW^[l+1] and g'(Z^[l]) have read it
    return grad_a, grads


def tangent_pass(a_t: Tensor | None, acts: list, params, params_t, g: Activation,
                 slope: float) -> Tensor | None:
    """Forward mode through the hidden layers: dA^[l] = g'(Z^[l]) dZ^[l] (a diagonal Jacobian,
    the backward rule), dZ^[l] by the product rule on eq. 2.3; returns dA^[n], n = len(acts) - 1.
    """
    for l in range(len(acts) - 1):
        z_t = dense_tangent(acts[l], params[2 * l], a_t, *params_t[2 * l:2 * l + 2])
        a_t = None if z_t is None else g.grad(z_t, acts[l + 1], slope)
    return a_t


def _network_forward(out: Output, a0: Tensor, target: Tensor, activation: str, slope: float,
                     params) -> tuple[Tensor, ...]:
    """(J, A^[1], ..., A^[L-1]): eqs. 2.3-2.4 for the hidden layers, then the output's cost."""
    acts = forward_pass([a0], params, ACTIVATIONS[activation], slope, len(params) // 2 - 1)
    return out.cost(dense_forward(acts[-1], *params[-2:]), target), *acts[1:]


def _network_setup(ctx, inputs, output):
    a0, target, activation, ctx.slope, *params = inputs
    ctx.g, ctx.layers = ACTIVATIONS[activation], len(params) // 2
    ctx.mark_non_differentiable(*output[1:])
    ctx.set_materialize_grads(False)  # no zero gradients for the activations
    save(ctx, a0, target, *params, *output[1:])
    ctx.autocast = autocast_state(a0)


def _network_backward(out: Output, ctx, grad_j: Tensor | None) -> tuple[Tensor | None, ...]:
    """Eqs. 2.9-2.12 for every layer, from the saved activations (rebuilt under a graph-building
    backward)."""
    a0, target, *rest = ctx.saved_tensors
    params, acts = rest[:2 * ctx.layers], [a0, *rest[2 * ctx.layers:]]
    needs = ctx.needs_input_grad  # (A^[0], Y, g, slope, W^[1], b^[1], ...)
    if grad_j is None:
        return None, None, None, None, *(None for _ in params)
    with autocast_replay(ctx.autocast, grad_j):
        if torch.is_grad_enabled():  # a graph to build: the activations as its functions
            acts = forward_pass([a0], params, ctx.g, ctx.slope, ctx.layers - 1)
        # the output layer: dZ^[L] = (A^[L] - Y) / m (2.9) and its dW, db, dA (2.10-2.12)
        below = needs[0] or any(needs[4:-2])  # a gradient needed under the output layer
        grad_a, grad_w, grad_b, grad_y = output_grads(
            out, acts[-1], params[-2], params[-1], target, grad_j, (below, *needs[-2:], needs[1]))
        grads: list[Tensor | None] = [None] * (len(params) - 2)
        if grad_a is not None and ctx.layers > 1:  # layers L-1 .. 1  (2.10-2.12)
            grad_z = ctx.g.grad(grad_a, acts[-1], ctx.slope)  # dZ^[L-1]  (2.12)
            grad_a, grads = backward_pass(grad_z, acts[:-1], params[:-2], ctx.g, ctx.slope,
                                          (needs[0], *needs[4:-2]))
    return grad_a, grad_y, None, None, *grads, grad_w, grad_b


def _network_tangent(out: Output, ctx, a0_t, target_t, params_t) -> tuple[Tensor | None, ...]:
    a0, target, *rest = ctx.saved_tensors
    params, acts = rest[:2 * ctx.layers], [a0, *rest[2 * ctx.layers:]]
    a_t = tangent_pass(a0_t, acts, params, params_t, ctx.g, ctx.slope)
    j_t = output_tangent(out, acts[-1], params[-2], params[-1], target, a_t, params_t[-2],
                         params_t[-1], target_t)
    return j_t, *(None for _ in acts[1:])


@twin
class DenseNetworkFunction(Function):
    """J = mean L(σ(Z^[L]), Y) of the seed's L-layer classifier (eqs. 2.3-2.4, §1.2), backward
    eqs. 2.9-2.12 for every layer in one node.

    Outputs (J, A^[1], ..., A^[L-1]), the activations non-differentiable: returning them is how a
    ``setup_context`` Function keeps what its forward computed. Saves A^[0], Y, the parameters
    and the activations (g' is read from A). NOTE: under a graph-building backward
    (``create_graph``, ``torch.func.grad`` and the transforms on it) the saved activations would
    be constants of that graph, so backward rebuilds them from A^[0] through the layer Functions.
    """

    generate_vmap_rule = True
    setup_context = staticmethod(_network_setup)

    @staticmethod
    def forward(a0: Tensor, target: Tensor, activation: str, negative_slope: float,
                *params: Tensor | None) -> tuple[Tensor, ...]:
        return _network_forward(OUTPUTS["sigmoid"], a0, target, activation, negative_slope, params)

    @staticmethod
    def backward(ctx, grad_j, *_grad_acts):
        return _network_backward(OUTPUTS["sigmoid"], ctx, grad_j)

    @staticmethod
    def tangent(ctx, a0_t, target_t, _activation_t, _slope_t, *params_t):
        return _network_tangent(OUTPUTS["sigmoid"], ctx, a0_t, target_t, params_t)


@twin
class DenseNetworkSoftmaxFunction(Function):
    """J = (1/m) Σ_i L(softmax(Z^[L]_i), Y_i) of an L-layer network with C output classes
    (eqs. 2.3-2.4, §1.2 summed over the classes), backward dZ^[L] = (A^[L] - Y) / m (eq. 2.9),
    then eqs. 2.10-2.12 for every layer in one node. Y: class indices (m,) or probabilities
    (m, C). Outputs and saves what ``DenseNetworkFunction`` does."""

    generate_vmap_rule = True
    setup_context = staticmethod(_network_setup)

    @staticmethod
    def forward(a0: Tensor, target: Tensor, activation: str, negative_slope: float,
                *params: Tensor | None) -> tuple[Tensor, ...]:
        return _network_forward(OUTPUTS["softmax"], a0, target, activation, negative_slope, params)

    @staticmethod
    def backward(ctx, grad_j, *_grad_acts):
        return _network_backward(OUTPUTS["softmax"], ctx, grad_j)

    @staticmethod
    def tangent(ctx, a0_t, target_t, _activation_t, _slope_t, *params_t):
        return _network_tangent(OUTPUTS["softmax"], ctx, a0_t, target_t, params_t)


def dense_network_cross_entropy(
    input: Tensor, target: Tensor, *params: Tensor | None, activation: str = "relu",
    negative_slope: float = 0.01, output: str = "sigmoid",
) -> Tensor:
    """J of the seed's L-layer classifier, as one autograd Function.

    ``params``: W^[1], b^[1], ..., W^[L], b^[L] (a bias may be None), W^[l] of shape
    ``(n[l], n[l-1])``; the hidden layers use ``activation`` (``"sigmoid"``, ``"tanh"``,
    ``"relu"`` or ``"leaky_relu"`` with ``negative_slope >= 0``), the output layer σ with the
    mean cross-entropy against ``target`` ``(m, n[L])``. The same value and gradients as
    ``dense_activation`` for each hidden layer followed by ``dense_cross_entropy`` (and as
    ``torch.nn``'s ``Linear`` / activation / ``BCEWithLogitsLoss``). Under autocast it runs as
    those per-layer Functions (the cost in float32, as PyTorch's autocast does).

    ``output="softmax"``: a C-class output layer with the categorical cross-entropy
    (``DenseNetworkSoftmaxFunction``; as ``dense_softmax_cross_entropy`` and
    ``CrossEntropyLoss``), ``target`` class indices (m,) or probabilities (m, C).
    """
    where = "dense_network_cross_entropy"
    if output not in ("sigmoid", "softmax"):
        raise ValueError(f"{where}: output must be 'sigmoid' or 'softmax', got {output!r}")
    check_fused_activation(where, activation, negative_slope)
    if not params or len(params) % 2:
        raise ValueError(f"{where}: expected params W1, b1, ..., WL, bL (a weight and a bias or "
                         f"None per layer), got {len(params)} values")
    a = input  # a stand-in of each layer's input shape, dtype and device, for the checks
    weights = cast("list[Tensor]", params[::2])  # W^[l]; check_dense_args refuses a None
    for l in range(0, len(params), 2):
        check_dense_args(a, weights[l // 2], params[l + 1], f"{where} (layer {l // 2 + 1})")
        a = torch.empty((1, weights[l // 2].shape[0]), dtype=input.dtype, device=input.device)
    if output == "softmax":
        return _softmax_network(input, check_output_target(input, weights[-1].shape[0], target,
                                                           where), params, activation,
                                float(negative_slope))
    _check_cost(where, input, target, "mean", check_shape=False)
    out_shape = (*input.shape[:-1], weights[-1].shape[0])
    if tuple(target.shape) != out_shape:
        raise ValueError(f"{where}: target shape {tuple(target.shape)} must equal the network's "
                         f"output shape {out_shape} (e.g. labels of shape (m, 1) for one unit)")
    slope = float(negative_slope)
    if torch.is_autocast_enabled(input.device.type):
        a = input
        for l in range(0, len(params) - 2, 2):
            a = dense_activation(a, weights[l // 2], params[l + 1], activation, slope)
        return dense_cross_entropy(a, weights[-1], params[-1], target)
    return call(DenseNetworkFunction, input, target.to(input.dtype), activation, slope,
                *params)[0]


def _softmax_network(input: Tensor, target: Tensor, params, activation: str, slope: float):
    """``dense_network_cross_entropy(..., output="softmax")`` once its arguments are checked."""
    if torch.is_autocast_enabled(input.device.type):  # per-layer Functions, the cost in float32
        a = input
        for l in range(0, len(params) - 2, 2):
            a = dense_activation(a, params[l], params[l + 1], activation, slope)
        return dense_softmax_cross_entropy(a, params[-2], params[-1], target)
    return call(DenseNetworkSoftmaxFunction, input, target, activation, slope, *params)[0]
