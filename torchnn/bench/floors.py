"""Two floors, timed in the same run as the variants: the best each torchnn path could reach.

``kernels``: the explicit step's PyTorch calls with nothing around them. The same kernels as
``DeepNetwork.gd_step`` on its direct path (eqs. 2.3-2.4, J, 2.9-2.12 with the update fused
into each dW GEMM), on buffers bound once, with no argument or value checks, no workspace
lookup, no grad-mode switch and no J read. ``explicit`` over ``kernels`` is what torchnn's
checks and dispatch cost; ``kernels`` against ``numpy`` shows whether any eager-PyTorch step
could match numpy at that size.

``bare-fn``: the autograd path's structure with the least Python possible. One old-style
custom ``torch.autograd.Function`` per layer with the same formulas (g'(Z) from A, eqs. 2.9-2.12,
Z^[L] recomputed in the output layer's backward) and the same SGD, but no checks and no
autocast, vmap or forward-mode support. ``bare-fn`` against ``torch.nn`` is what one Python
Function per layer costs by itself; ``autograd`` over ``bare-fn`` is what torchnn adds to it.

Neither is a library path: both skip what makes the library's paths safe to call. The
formulas are written inline on purpose: they are torchnn.functional's (and the activations'
forward and derivative rules are its very tables), but any wrapper call around them is what a
floor leaves out. tests/bench checks that both end at ``torch.nn``'s parameters.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn.functional.activations import (
    BACKWARD_RULES,
    DERIVATIVE_FROM_OUTPUT,
    FORWARD_INPLACE,
)
from torchnn.nn.explicit import SERIAL_MACS

__all__ = ["kernels_step", "bare_function_step"]


def _params(net) -> tuple[list[Tensor], list[Tensor]]:
    # detached views: the kernels write into the parameters with out= and in place, no graph
    return ([lay.weight.detach() for lay in net.layers],
            [lay.bias.detach() for lay in net.layers])


def kernels_step(p, net0):
    """(step, params) for the ``kernels`` floor of problem ``p``, or None where the direct
    ``gd_step`` path does not apply (leaky ReLU, half precision)."""
    name = p.activation
    if name not in DERIVATIVE_FROM_OUTPUT or p.dtype in (torch.float16, torch.bfloat16):
        return None
    net = copy.deepcopy(net0)
    weights, biases = _params(net)
    x, y, m, last = p.x, p.y, p.m, len(weights) - 1
    opts = {"dtype": p.dtype, "device": p.device}
    outs = [torch.empty(m, n, **opts) for n in p.dims[1:]]
    das = [None, *(torch.empty(m, n, **opts) for n in p.dims[1:-1])]  # dA^[l-1] for layer l
    ones = torch.ones(m, **opts)
    act_, derivative = FORWARD_INPLACE[name], DERIVATIVE_FROM_OUTPUT[name]
    alpha = -p.lr / (m * p.dims[-1])  # α with the mean's 1/m
    serial = p.device == "cpu" and sum(m * a * b for a, b in zip(p.dims, p.dims[1:])) < SERIAL_MACS
    linear, mm, mul, sub = torch._C._nn.linear, torch.mm, torch.mul, torch.sub
    bce = torch.binary_cross_entropy_with_logits

    def body() -> Tensor:
        a, saved = x, [x]
        for l in range(last):
            a = act_(linear(a, weights[l], biases[l], out=outs[l]), 0.0)  # A = g(A W^T + b)
            saved.append(a)
        z = linear(a, weights[last], biases[last], out=outs[last])  # Z^[L]
        cost = bce(z, y, None, None, 1)  # J
        dz = sub(z.sigmoid_(), y, out=z)  # A - Y  (2.9)
        for l in range(last, -1, -1):
            w = weights[l]
            if l:
                da = (mul if w.shape[0] == 1 else mm)(dz, w, out=das[l])  # dZ W  (2.12)
            dz_t = dz.t()
            w.addmm_(dz_t, saved[l], alpha=alpha)  # W -= lr dW  (2.10)
            biases[l].addmv_(dz_t, ones, alpha=alpha)  # b -= lr db  (2.11)
            if l:
                dz = derivative(saved[l], out=saved[l]).mul_(da)  # dA * g'(Z)  (2.12)
        return cost

    def step() -> Tensor:
        if not serial:
            return body()
        threads = torch.get_num_threads()  # as gd_step does at this size: one thread
        torch.set_num_threads(1)
        try:
            return body()
        finally:
            torch.set_num_threads(threads)

    return step, lambda: [t for pair in zip(weights, biases) for t in pair]


class _BareHidden(Function):
    """A = g(A_prev Wᵀ + b); dZ = dA g'(Z) from A, dA_prev = dZ W, dW = dZᵀ A_prev, db = Σ dZ."""

    @staticmethod
    def forward(ctx, a_prev, weight, bias, name, slope):
        a = FORWARD_INPLACE[name](torch.addmm(bias, a_prev, weight.t()), slope)
        ctx.name, ctx.slope = name, slope
        ctx.save_for_backward(a_prev, weight, a)
        return a

    @staticmethod
    def backward(ctx, grad_a):
        a_prev, weight, a = ctx.saved_tensors
        grad_z = BACKWARD_RULES[ctx.name](grad_a, a, ctx.slope)
        grad_a_prev = grad_z.mm(weight) if ctx.needs_input_grad[0] else None
        return grad_a_prev, grad_z.t().mm(a_prev), grad_z.sum(0), None, None


class _BareOutput(Function):
    """J = mean L(σ(A_prev Wᵀ + b), Y); dZ = (A - Y) / m, Z recomputed in backward."""

    @staticmethod
    def forward(ctx, a_prev, weight, bias, target):
        ctx.save_for_backward(a_prev, weight, bias, target)
        z = torch.addmm(bias, a_prev, weight.t())
        return torch.binary_cross_entropy_with_logits(z, target, None, None, 1)

    @staticmethod
    def backward(ctx, grad_j):
        a_prev, weight, bias, target = ctx.saved_tensors
        z = torch.addmm(bias, a_prev, weight.t())
        grad_z = (torch.sigmoid(z) - target) * (grad_j / z.numel())
        grad_a_prev = grad_z.mm(weight) if ctx.needs_input_grad[0] else None
        return grad_a_prev, grad_z.t().mm(a_prev), grad_z.sum(0), None


def bare_function_step(p, net0):
    """(step, params, forward, exclude) for the ``bare-fn`` floor of problem ``p``."""
    net = copy.deepcopy(net0)
    params = list(net.parameters())
    weights, biases = params[0::2], params[1::2]
    opt = torch.optim.SGD(params, lr=p.lr)
    x, y, name, slope = p.x, p.y, p.activation, float(net0.negative_slope)
    if name == "leaky_relu" and slope < 0:
        raise ValueError("bare-fn: g' is read from A, which needs a leaky slope >= 0")

    def forward() -> Tensor:
        a = x
        for w, b in zip(weights[:-1], biases[:-1]):
            a = _BareHidden.apply(a, w, b, name, slope)
        return _BareOutput.apply(a, weights[-1], biases[-1], y)

    def step() -> Tensor:
        opt.zero_grad()
        cost = forward()
        cost.backward()
        opt.step()
        return cost

    return step, lambda: params, forward, [*params, x, y]
