"""Deliberately broken autograd Functions, each with one classic mistake, for the checker tests.

Each is the seed's sigmoid (a = σ(z), dz = da * a(1 - a)) or dense layer (Z = A Wᵀ + b) with a
single defect; the docstring says which check must catch it.
"""

from __future__ import annotations

import torch
from torch.autograd import Function
from torch.autograd.function import once_differentiable


class GoodSigmoid(Function):
    """Correct: a = σ(z); dz = da * a(1 - a); jvp the same rule; vmap generated."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z):
        return torch.sigmoid(z)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx, grad_a):
        (a,) = ctx.saved_tensors
        return grad_a * a * (1 - a)

    @staticmethod
    def jvp(ctx, z_t):
        (a,) = ctx.saved_tensors
        return z_t * a * (1 - a)


class GoodSigmoidNoJvp(Function):
    """Correct, without jvp: compiles as one graph, forward AD is n/a."""

    generate_vmap_rule = True
    forward = GoodSigmoid.forward
    backward = GoodSigmoid.backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)


class ForgetfulSigmoid(GoodSigmoidNoJvp):
    """Wrong derivative: dz = da * a, the factor (1 - a) forgotten -> gradcheck fails."""

    @staticmethod
    def backward(ctx, grad_a):
        (a,) = ctx.saved_tensors
        return grad_a * a


class NoVmapSigmoid(Function):
    """No generate_vmap_rule and no vmap staticmethod -> the vmap checks fail."""

    forward = GoodSigmoid.forward
    setup_context = GoodSigmoidNoJvp.setup_context
    backward = GoodSigmoid.backward


class OnceSigmoid(GoodSigmoidNoJvp):
    """``@once_differentiable`` backward -> second derivatives are silently 0 under torch.func."""

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_a):
        (a,) = ctx.saved_tensors
        return grad_a * a * (1 - a)


class BackwardMutatesSigmoid(GoodSigmoidNoJvp):
    """Backward changes its saved output in place -> a second backward sees a different a."""

    @staticmethod
    def backward(ctx, grad_a):
        (a,) = ctx.saved_tensors
        return grad_a * a.mul_(1 - a)  # a <- a(1 - a): the saved tensor itself is overwritten


class GradOutputMutatesSigmoid(GoodSigmoidNoJvp):
    """Backward writes dz over its grad_output (da *= a(1 - a)) -> the caller's tensor changes;
    the values are right, so gradcheck passes."""

    @staticmethod
    def backward(ctx, grad_a):
        (a,) = ctx.saved_tensors
        return grad_a.mul_(a * (1 - a))


class ForwardMutatesSigmoid(Function):
    """tanh(z / 2) = 2σ(z) - 1, computed by overwriting the saved σ(z) in place (old ctx
    style): backward then reads 2σ - 1 instead of σ -> the gradient is wrong."""

    @staticmethod
    def forward(ctx, z):
        s = torch.sigmoid(z)
        ctx.save_for_backward(s)
        return s.mul_(2).sub_(1)  # reuses the saved buffer for the output

    @staticmethod
    def backward(ctx, grad_out):
        (s,) = ctx.saved_tensors
        return grad_out * 2 * s * (1 - s)


def half_tanh(z):
    """The reference for ForwardMutatesSigmoid: 2σ(z) - 1 = tanh(z / 2)."""
    return 2 * torch.sigmoid(z) - 1


class _DenseBase(Function):
    """Z = A Wᵀ + b; dA = dZ W, dW = dZᵀ A, db = Σ dZ (eqs. 2.10-2.12)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a, w, b):
        return a @ w.t() + b

    @staticmethod
    def setup_context(ctx, inputs, output):
        a, w, _ = inputs
        ctx.save_for_backward(a, w)

    @staticmethod
    def backward(ctx, grad_z):
        a, w = ctx.saved_tensors
        return grad_z @ w, grad_z.t() @ a, grad_z.sum(0)


class KeepdimBiasDense(_DenseBase):
    """db returned with shape (1, n) (sum with keepdim) -> the engine silently sums it to (n,)."""

    @staticmethod
    def backward(ctx, grad_z):
        a, w = ctx.saved_tensors
        return grad_z @ w, grad_z.t() @ a, grad_z.sum(0, keepdim=True)


class ScalarBiasDense(_DenseBase):
    """db returned as a scalar Σ dZ over everything -> wrong shape (and wrong values)."""

    @staticmethod
    def backward(ctx, grad_z):
        a, w = ctx.saved_tensors
        return grad_z @ w, grad_z.t() @ a, grad_z.sum()


GoodDense = _DenseBase


class ScaledDense(Function):
    """Z = s (A Wᵀ + b) with the float s between the tensors: ``next_functions`` lists the
    tensor inputs only, so backward's i-th value is not the i-th edge."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a, scale, w, b):
        return (a @ w.t() + b) * scale

    @staticmethod
    def setup_context(ctx, inputs, output):
        a, scale, w, _ = inputs
        ctx.scale = scale
        ctx.save_for_backward(a, w)

    @staticmethod
    def backward(ctx, grad_out):
        a, w = ctx.saved_tensors
        grad_z = grad_out * ctx.scale
        return grad_z @ w, None, grad_z.t() @ a, grad_z.sum(0)


class KeepdimScaledDense(ScaledDense):
    """ScaledDense with db of shape (1, n): caught only if the check maps values to edges."""

    @staticmethod
    def backward(ctx, grad_out):
        grad_a, _, grad_w, grad_b = ScaledDense.backward(ctx, grad_out)
        return grad_a, None, grad_w, grad_b.unsqueeze(0)
