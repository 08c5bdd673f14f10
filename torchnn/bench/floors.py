"""Two floors, timed in the same run as the variants: the best each torchnn path could reach.

``kernels``: the explicit step's PyTorch calls with nothing around them: eqs. 2.3-2.4, J,
2.9-2.12, each dW^[l] and db^[l] computed whole into a buffer (``out=``) and then added to the
parameters, as ``gd_step`` does, with g and g' from the ``ACTIVATIONS`` records and J and
dZ^[L] from the ``OUTPUTS`` record (sigmoid or softmax), on buffers bound once, with no checks
and no J read. ``explicit`` over ``kernels`` is what ``gd_step``'s
checks and its engine's bookkeeping cost.

``bare-fn``: the autograd path's structure with the least Python possible: one old-style
custom ``torch.autograd.Function`` per layer with the records' rules (g'(Z) from A, Z^[L]
recomputed in the output layer's backward) and the same SGD, but no checks and no autocast,
vmap or forward-mode support. ``bare-fn`` against ``torch.nn`` is what one Python Function
per layer costs by itself; ``autograd`` over ``bare-fn`` is what torchnn adds to it.

Neither is a library path: both skip what makes the library's paths safe to call.
tests/bench checks that both end at ``torch.nn``'s parameters.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn.functional.activations import ACTIVATIONS
from torchnn.functional.costs import OUTPUTS
from torchnn.nn.backprop import SERIAL_MACS

__all__ = ["kernels_step", "bare_function_forward"]


def kernels_step(p, net0):
    """(step, params) of the ``kernels`` floor of problem ``p`` (a leaky slope >= 0)."""
    net = copy.deepcopy(net0)
    params = [t.detach() for lay in net.layers for t in (lay.weight, lay.bias)]
    weights, biases = params[0::2], params[1::2]
    g, slope, out = ACTIVATIONS[p.activation], float(net.negative_slope), OUTPUTS[p.output]
    if g.saves_input(slope):
        raise ValueError("kernels: g' is read from A, which needs a leaky slope >= 0")
    x, y, m, last = p.x, p.y, p.m, len(weights) - 1
    opts = {"dtype": p.dtype, "device": p.device}
    outs = [torch.empty(m, n, **opts) for n in p.dims[1:]]  # A^[1..L-1], Z^[L]
    das = [None, *(torch.empty(m, n, **opts) for n in p.dims[1:-1])]  # dA^[l-1] for layer l
    grads = [torch.empty_like(t) for t in params]  # dW^[1], db^[1], ...
    serial = p.device == "cpu" and m * sum(w.numel() for w in weights) < SERIAL_MACS

    @torch.no_grad()
    def body() -> Tensor:
        a, acts = x, [x]
        for l in range(last):
            a = g.forward_(torch.addmm(biases[l], a, weights[l].t(), out=outs[l]), slope)
            acts.append(a)  # A^[l+1] = g(A^[l] W^[l+1]ᵀ + b^[l+1])  (2.3-2.4)
        z = torch.addmm(biases[last], a, weights[last].t(), out=outs[last])  # Z^[L]
        cost = out.cost(z, y)  # J
        dz = out.delta(z, y).div_(out.count(z))  # (A - Y) / m  (2.9)
        for l in range(last, -1, -1):
            torch.mm(dz.t(), acts[l], out=grads[2 * l])  # dW = dZᵀ A_prev  (2.10)
            torch.sum(dz, 0, out=grads[2 * l + 1])  # db = Σ dZ  (2.11)
            if l:
                da = torch.mm(dz, weights[l], out=das[l])  # dA_prev = dZ W  (2.12)
                dz = g.grad(da, acts[l], slope)  # dZ = dA * g'(Z)  (2.12)
        torch._foreach_add_(params, grads, alpha=-p.lr)  # w := w - α dw, dW added whole
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

    return step, lambda: params


class _BareHidden(Function):
    """A = g(A_prev Wᵀ + b); dZ = g.grad(dA, A), dA_prev = dZ W, dW = dZᵀ A_prev, db = Σ dZ."""

    @staticmethod
    def forward(ctx, a_prev, weight, bias, name, slope):
        a = ACTIVATIONS[name].forward_(torch.addmm(bias, a_prev, weight.t()), slope)
        ctx.name, ctx.slope = name, slope
        ctx.save_for_backward(a_prev, weight, a)
        return a

    @staticmethod
    def backward(ctx, grad_a):
        a_prev, weight, a = ctx.saved_tensors
        grad_z = ACTIVATIONS[ctx.name].grad(grad_a, a, ctx.slope)
        grad_a_prev = grad_z.mm(weight) if ctx.needs_input_grad[0] else None
        return grad_a_prev, grad_z.t().mm(a_prev), grad_z.sum(0), None, None


class _BareOutput(Function):
    """J = cost(A_prev Wᵀ + b, Y) by an ``OUTPUTS`` record; dZ = (A - Y) / m, Z recomputed in
    backward."""

    @staticmethod
    def forward(ctx, a_prev, weight, bias, target, output):
        ctx.save_for_backward(a_prev, weight, bias, target)
        ctx.out = OUTPUTS[output]
        return ctx.out.cost(torch.addmm(bias, a_prev, weight.t()), target)

    @staticmethod
    def backward(ctx, grad_j):
        a_prev, weight, bias, target = ctx.saved_tensors
        z = torch.addmm(bias, a_prev, weight.t())
        grad_z = ctx.out.delta(z, target) * (grad_j / ctx.out.count(z))
        grad_a_prev = grad_z.mm(weight) if ctx.needs_input_grad[0] else None
        return grad_a_prev, grad_z.t().mm(a_prev), grad_z.sum(0), None, None


def bare_function_forward(p, net0):
    """(forward, params, exclude) of the ``bare-fn`` floor of problem ``p``: ``forward()``
    returns J through one minimal Function per layer (the variant adds ``torch.optim.SGD``)."""
    params = list(copy.deepcopy(net0).parameters())
    weights, biases = params[0::2], params[1::2]
    x, y, name, slope = p.x, p.y, p.activation, float(net0.negative_slope)
    if ACTIVATIONS[name].saves_input(slope):
        raise ValueError("bare-fn: g' is read from A, which needs a leaky slope >= 0")

    def forward() -> Tensor:
        a = x
        for w, b in zip(weights[:-1], biases[:-1]):
            a = _BareHidden.apply(a, w, b, name, slope)
        return _BareOutput.apply(a, weights[-1], biases[-1], y, p.output)

    return forward, params, [*params, x, y]
