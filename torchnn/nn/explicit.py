"""The explicit path: eqs. 2.3-2.4 forward and 2.9-2.12 backward with no autograd graph.

``DeepNetwork.backprop`` (gradients into ``.grad``, as ``.backward()`` would) and
``DeepNetwork.gd_step`` (Algorithm 1.1's ``w := w - α dw`` applied straight into the weights)
both run :func:`explicit_step`. The derivative rules come from ``torchnn.functional`` (one source
of truth); this file only decides *where* each result is written, so that a step does no work
the equations do not ask for:

* each activation is applied in place, ``A^[l] = g(Z^[l])`` overwriting ``Z^[l]``, and only
  ``A^[l]`` is kept: the rules read g'(z) from the output a (except a negative leaky slope);
* the cost's 1/m (eqs. 2.10-2.11) is folded into the GEMM's ``alpha``, not a pass over dZ;
* ``dW`` is never materialised by ``gd_step``: ``W.addmm_(dZᵀ, A_prev, alpha=-α/m)`` computes
  eq. 2.10 and the update in one GEMM (``backprop`` accumulates into ``W.grad`` the same way);
* dZ^[l] = dA^[l] * g'(Z^[l]) (eq. 2.12) overwrites dA^[l] in place, and layer 1 computes no
  dA^[0] (the input needs no gradient).

``recompute=True`` is activation checkpointing: the forward keeps A^[l] only for even l and the
backward recomputes each dropped A^[l] from the kept A^[l-1] (one extra forward GEMM per dropped
layer) just before eq. 2.12 needs it. It halves the activations kept for backward.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from torchnn import functional as F

__all__ = ["explicit_step", "forward_tape", "recomputed_layers"]


def _leaky_(z: Tensor, slope: float) -> Tensor:
    return torch.nn.functional.leaky_relu_(z, slope)


# A^[l] = g(Z^[l]) in place (forward values only; the derivatives live in torchnn.functional)
_FORWARD_INPLACE: dict[str, Callable[[Tensor, float], Tensor]] = {
    "sigmoid": lambda z, s: torch.sigmoid_(z),
    "tanh": lambda z, s: torch.tanh_(z),
    "relu": lambda z, s: torch.relu_(z),
    "leaky_relu": _leaky_,
    "identity": lambda z, s: z,
}

# dZ = dA * g'(Z) written over dA (eq. 2.12), with the shared rules' ``out=`` form
_RULE_INPLACE: dict[str, Callable[[Tensor, Tensor, float], Tensor]] = {
    "sigmoid": lambda g, a, s: F.sigmoid_backward(g, a, out=g),
    "tanh": lambda g, a, s: F.tanh_backward(g, a, out=g),
    "relu": lambda g, a, s: F.relu_backward(g, a, out=g),
    "leaky_relu": lambda g, a, s: F.leaky_relu_backward(g, a, s, out=g),
    "identity": lambda g, a, s: g,
}


def recomputed_layers(num_layers: int, recompute: bool) -> frozenset[int]:
    """The hidden layers l whose A^[l] the forward drops and the backward recomputes.

    NOTE: odd l = 1, 3, ... < L: each dropped A^[l] is rebuilt from A^[l-1], which is always kept
    (l - 1 is even; A^[0] = X is the input), so a recomputation never cascades.
    """
    return frozenset(range(1, num_layers, 2)) if recompute else frozenset()


def _params(net) -> tuple[list[Tensor], list[Tensor | None]]:
    layers = list(net.layers)
    return [lay.weight for lay in layers], [lay.bias for lay in layers]


def forward_tape(
    net, x: Tensor, recompute: bool = False
) -> tuple[Tensor, list[Tensor | None], list[Tensor | None]]:
    """Eqs. 2.3-2.4 with no graph: return Z^[L] and what the backward needs.

    Returns ``(z_out, a_prev, saved)``: ``a_prev[l-1]`` is A^[l-1] for layer l's dW (eq. 2.10),
    ``saved[l]`` the tensor g'(Z^[l]) is read from (A^[l], or Z^[l] for a negative leaky slope),
    ``None`` where ``recompute`` dropped it. ``a_prev[0]`` is the input itself.
    """
    weights, biases = _params(net)
    name, slope = net.hidden_activation, net.negative_slope
    act_ = _FORWARD_INPLACE[name]
    keep_z = name == "leaky_relu" and slope < 0
    dropped = recomputed_layers(len(weights), recompute)
    a_prev: list[Tensor | None] = [x]
    saved: list[Tensor | None] = [None]
    a = x
    for l in range(1, len(weights)):
        z = F.dense_forward(a, weights[l - 1], biases[l - 1])  # Z = A W^T + b  (2.3)
        a = act_(z.clone() if keep_z else z, slope)  # A = g(Z), over Z  (2.4)
        keep = l not in dropped
        a_prev.append(a if keep else None)
        saved.append((z if keep_z else a) if keep else None)
    z_out = F.dense_forward(a, weights[-1], biases[-1])  # Z^[L]
    return z_out, a_prev, saved


def _recompute(net, l: int, a_prev: list, saved: list) -> None:
    """Rebuild A^[l] (and what g' reads) from the kept A^[l-1]: eqs. 2.3-2.4 once more."""
    lay = net.layers[l - 1]
    name, slope = net.hidden_activation, net.negative_slope
    keep_z = name == "leaky_relu" and slope < 0
    z = F.dense_forward(a_prev[l - 1], lay.weight, lay.bias)
    a = _FORWARD_INPLACE[name](z.clone() if keep_z else z, slope)
    a_prev[l], saved[l] = a, (z if keep_z else a)


@torch.no_grad()
def explicit_step(
    net,
    x: Tensor,
    y: Tensor,
    lr: float | None = None,
    recompute: bool = False,
    on_cost: Callable[[Tensor], None] | None = None,
) -> Tensor:
    """One pass of eqs. 2.3-2.4 and 2.9-2.12; returns J (before any update).

    With ``lr=None`` adds dJ/dW, dJ/db into ``.grad`` (``backprop``); with a float ``lr`` applies
    ``W := W - lr dW``, ``b := b - lr db`` in place (``gd_step``) and leaves ``.grad`` alone.
    ``on_cost(J)`` runs before anything is written (a check may raise there).
    """
    z_out, a_prev, saved = forward_tape(net, x, recompute)
    y = net._check_target(z_out.shape, y)
    scale = 1.0 / z_out.numel()  # the cost's 1/m (mean over all m n[L] entries)
    if net.is_classifier:
        cost = F.cross_entropy_loss_from_logits(z_out, y).mean()
        if on_cost is not None:
            on_cost(cost)
        # dZ^[L] = A^[L] - Y (eq. 2.9), σ applied over Z^[L]; the 1/m waits for the GEMMs
        dz = F.cross_entropy_delta(torch.sigmoid_(z_out), y, out=z_out)
    else:
        spec_name, slope = net.output_activation, net.negative_slope
        a_out = _FORWARD_INPLACE[spec_name](z_out.clone(), slope) if spec_name != "identity" \
            else z_out
        cost = (a_out - y).square().mean()
        if on_cost is not None:
            on_cost(cost)
        dz = _RULE_INPLACE[spec_name](F.squared_error_delta(a_out, y), a_out, slope)
    weights, biases = _params(net)
    rule_ = _RULE_INPLACE[net.hidden_activation]
    slope = net.negative_slope
    alpha = scale if lr is None else -lr * scale
    for l in range(len(weights), 0, -1):
        w, b = weights[l - 1], biases[l - 1]
        if a_prev[l - 1] is None:
            _recompute(net, l - 1, a_prev, saved)
        da = F.dense_grad_input(dz, w) if l > 1 else None  # W^T dZ, before W moves  (2.12)
        if lr is None:
            _accumulate_grad(w, F.dense_grad_weight, dz, a_prev[l - 1], alpha)  # dW  (2.10)
            if b is not None:
                _accumulate_grad(b, F.dense_grad_bias, dz, None, alpha)  # db  (2.11)
        else:
            F.dense_grad_weight(dz, a_prev[l - 1], alpha=alpha, add_to=w)  # W -= lr dW
            if b is not None:
                F.dense_grad_bias(dz, alpha=alpha, add_to=b)  # b -= lr db
        a_prev[l - 1] = None  # A^[l-1] is no longer needed once dW^[l] is done
        if da is not None:
            dz = rule_(da, saved[l - 1], slope)  # dZ = dA * g'(Z), over dA  (2.12)
            saved[l - 1] = None
    return cost


def _accumulate_grad(param: Tensor, rule, dz: Tensor, a_prev: Tensor | None, alpha: float) -> None:
    """param.grad += alpha * rule(dz[, a_prev]), as the autograd engine accumulates."""
    args = (dz,) if a_prev is None else (dz, a_prev)
    if param.grad is None:
        param.grad = rule(*args, alpha=alpha)
    else:
        rule(*args, alpha=alpha, add_to=param.grad)
