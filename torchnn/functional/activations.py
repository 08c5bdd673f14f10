"""Activations g(z) (the seed's §2.2) and their derivatives (§2.3): one record each.

Each :class:`Activation` holds the forward a = g(z) and the backward rule dz = da * g'(z), with
g'(z) written from the tensor the activation saves: the output a wherever a determines g'(z),
so z never has to be kept. These records are the library's one source of truth for the
activations: the autograd Functions below, the layer and network Functions and the explicit
engine (``torchnn.nn.backprop``) all read them, and nothing else names an activation's math.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.autograd import Function

from torchnn._validate import check_floating, check_inplace
from torchnn.functional._autograd import call, save, transforms_active, twin, view_base

__all__ = ["Activation", "ACTIVATIONS", "get_activation", "sigmoid", "tanh", "relu",
           "leaky_relu", "identity", "SigmoidFunction", "TanhFunction", "ReLUFunction",
           "LeakyReLUFunction", "InplaceActivationFunction", "sigmoid_backward", "tanh_backward",
           "relu_backward", "leaky_relu_backward", "identity_backward"]


@dataclass(frozen=True)
class Activation:
    """One activation g: forward, backward rule and what the backward reads.

    ``forward(z, slope)``: a = g(z); ``forward_(z, slope)``: the same values written over z.
    ``grad(da, saved, slope)``: dz = da * g'(z) (eq. 2.12's ``* g'(Z)``), from ``saved``.
    Because g acts elementwise its Jacobian is diagonal, so the same rule is the jvp too.
    ``saves_input(slope)``: whether ``saved`` is z rather than a. ``slope`` is leaky ReLU's.
    """

    name: str
    forward: Callable[[Tensor, float], Tensor]
    forward_: Callable[[Tensor, float], Tensor]
    grad: Callable[[Tensor, Tensor, float], Tensor]
    saves_input: Callable[[float], bool] = lambda slope: False


# NOTE: g' as one fused multiply-add, addcmul(c, a, a, value=-1) = c - a·a: one pass over a
# instead of two (a(1 - a) = a - a·a for σ, 1 - a² for tanh). A 0-d tensor acts as a scalar
# for every dtype and device (it never promotes), so one constant 1 serves them all.
_ONE = torch.ones(())


def _relu_grad(da: Tensor, a: Tensor, slope: float) -> Tensor:
    """dz = da * g'(z), g'(z) = 0 where a <= 0, else 1 (§2.3, ReLU).

    a = max(0, z) is never negative, so g'(z) is sign(a): 1 where a > 0, 0 where a = 0. NOTE: the
    seed leaves g'(0) open; like PyTorch we take 0. A NaN counts as positive (nan_to_num), so it
    passes da through, as PyTorch's rule does. Written on floats: a boolean mask is the slower
    kernel on the CPU.
    """
    return da * torch.nan_to_num(a, nan=1.0).sign_()


def _leaky_relu_grad(da: Tensor, saved: Tensor, slope: float) -> Tensor:
    """dz = da * (1 if z > 0 else slope) (§2.3, Leaky ReLU); NOTE: slope at z = 0, as PyTorch.

    ``saved`` is a when slope >= 0 (then a > 0 exactly when z > 0) and z for a negative slope
    (a > 0 for z < 0 too, so a no longer tells the sign).
    """
    return torch.where(saved > 0, da, da * slope)


ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (
    Activation("sigmoid", lambda z, s: torch.sigmoid(z), lambda z, s: z.sigmoid_(),
               lambda da, a, s: da * torch.addcmul(a, a, a, value=-1)),  # σ'(z) = a - a·a
    Activation("tanh", lambda z, s: torch.tanh(z), lambda z, s: z.tanh_(),
               lambda da, a, s: da * torch.addcmul(_ONE, a, a, value=-1)),  # tanh'(z) = 1 - a·a
    Activation("relu", lambda z, s: torch.relu(z), lambda z, s: z.relu_(), _relu_grad),
    Activation("leaky_relu", lambda z, s: torch.nn.functional.leaky_relu(z, s),
               lambda z, s: torch.nn.functional.leaky_relu_(z, s), _leaky_relu_grad,
               saves_input=lambda slope: slope < 0),
    Activation("identity", lambda z, s: z, lambda z, s: z,
               lambda da, a, s: da),  # g(z) = z, g'(z) = 1 (§2.2, "Why activation functions")
)}


def sigmoid_backward(grad_a: Tensor, a: Tensor) -> Tensor:
    """dz = da * a(1 - a) (§2.3): the sigmoid record's rule."""
    return ACTIVATIONS["sigmoid"].grad(grad_a, a, 0.0)


def tanh_backward(grad_a: Tensor, a: Tensor) -> Tensor:
    """dz = da * (1 - a²) (§2.3): the tanh record's rule."""
    return ACTIVATIONS["tanh"].grad(grad_a, a, 0.0)


def relu_backward(grad_a: Tensor, a: Tensor) -> Tensor:
    """dz = da, 0 where a <= 0 (§2.3; a NaN passes da, as in PyTorch): the ReLU record's rule."""
    return ACTIVATIONS["relu"].grad(grad_a, a, 0.0)


def leaky_relu_backward(grad_a: Tensor, saved: Tensor, negative_slope: float) -> Tensor:
    """dz = da * (1 if z > 0 else slope) (§2.3), ``saved`` a (z for a negative slope)."""
    return ACTIVATIONS["leaky_relu"].grad(grad_a, saved, negative_slope)


def identity_backward(grad_a: Tensor, a: Tensor) -> Tensor:
    """dz = da: the linear activation's rule."""
    return grad_a


def get_activation(name: str, where: str = "activation") -> Activation:
    """The record named ``name``, or a ValueError listing the names there are."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown {where} {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


# ----------------------------------------------------------------------------------------------
# the autograd Functions: forward g, backward the record's rule
# ----------------------------------------------------------------------------------------------


def _elementwise(name: str, doc: str) -> type[Function]:
    """The autograd Function of an activation whose g'(z) is read from its output a."""

    def forward(z: Tensor) -> Tensor:
        return ACTIVATIONS[name].forward(z, 0.0)  # a = g(z)  (eq. 2.4)

    def setup_context(ctx, inputs, output):
        save(ctx, output)

    def backward(ctx, grad_a):
        (a,) = ctx.saved_tensors
        return ACTIVATIONS[name].grad(grad_a, a, 0.0)  # dz = da * g'(z)  (§2.3)

    def tangent(ctx, z_t):
        (a,) = ctx.saved_tensors
        return ACTIVATIONS[name].grad(z_t, a, 0.0)  # a diagonal Jacobian: the same rule

    body: dict[str, Callable[..., Any]] = {"forward": forward, "setup_context": setup_context,
                                           "backward": backward, "tangent": tangent}
    return twin(type(doc.split(":")[0], (Function,), {
        **{k: staticmethod(f) for k, f in body.items()}, "__doc__": doc,
        "__module__": __name__, "generate_vmap_rule": True}))


SigmoidFunction = _elementwise("sigmoid", "SigmoidFunction: a = σ(z); dz = da * a(1 - a); saves a")
TanhFunction = _elementwise("tanh", "TanhFunction: a = tanh(z); dz = da * (1 - a²); saves a")
ReLUFunction = _elementwise("relu", "ReLUFunction: a = max(0, z); dz = da * 1[a > 0]; saves a")


@twin
class LeakyReLUFunction(Function):
    """a = max(slope z, z) (§2.2); dz = da * (1 if z > 0 else slope) (§2.3); saves a, or z for a
    negative slope."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor, negative_slope: float) -> Tensor:
        return ACTIVATIONS["leaky_relu"].forward(z, negative_slope)

    @staticmethod
    def setup_context(ctx, inputs, output):
        z, ctx.slope = inputs
        save(ctx, z if ctx.slope < 0 else output)

    @staticmethod
    def backward(ctx, grad_a):
        (saved,) = ctx.saved_tensors
        return ACTIVATIONS["leaky_relu"].grad(grad_a, saved, ctx.slope), None

    @staticmethod
    def tangent(ctx, z_t, _slope_t):
        (saved,) = ctx.saved_tensors
        return ACTIVATIONS["leaky_relu"].grad(z_t, saved, ctx.slope)


@twin
class InplaceActivationFunction(Function):
    """z := g(z) in place (relu_, leaky_relu_); dz = da * g'(z) from a (§2.3); saves a, which is
    z's storage now. A negative slope is refused in backward, as PyTorch does: a no longer tells
    the sign of z, and z is gone."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor, name: str, negative_slope: float) -> Tensor:
        return ACTIVATIONS[name].forward_(z, negative_slope)

    @staticmethod
    def setup_context(ctx, inputs, output):
        z, ctx.name, ctx.slope = inputs
        ctx.mark_dirty(z)
        save(ctx, output)

    @staticmethod
    def backward(ctx, grad_a):
        if ctx.slope < 0:
            raise RuntimeError(f"leaky_relu(inplace=True) with negative_slope={ctx.slope}: "
                               "backward needs the sign of z, which the overwritten output no "
                               "longer tells (PyTorch refuses this too); expected a slope >= 0 "
                               "or inplace=False")
        (a,) = ctx.saved_tensors
        return ACTIVATIONS[ctx.name].grad(grad_a, a, ctx.slope), None, None

    @staticmethod
    def tangent(ctx, z_t, _name_t, _slope_t):
        (a,) = ctx.saved_tensors  # NOTE: an in-place forward's jvp updates z's tangent in place
        return z_t.copy_(ACTIVATIONS[ctx.name].grad(z_t, a, ctx.slope))


# ----------------------------------------------------------------------------------------------
# functional API (same names and arguments as torch.nn.functional)
# ----------------------------------------------------------------------------------------------


def sigmoid(input: Tensor) -> Tensor:
    """σ(z) = 1 / (1 + e^{-z}) elementwise (eq. 2.2), with the hand-written derivative a(1 - a)."""
    check_floating(input, "input", "sigmoid")
    return call(SigmoidFunction, input)


def tanh(input: Tensor) -> Tensor:
    """tanh(z) elementwise (§2.2), with the hand-written derivative 1 - a²."""
    check_floating(input, "input", "tanh")
    return call(TanhFunction, input)


def _activate_inplace(z: Tensor, name: str, slope: float) -> Tensor:
    """g written over z and z returned, as torch's ``relu_`` / ``leaky_relu_``."""
    check_inplace(z, view_base(z), name)
    if z.requires_grad and not torch.is_grad_enabled():  # no graph: just g, and z returned
        return ACTIVATIONS[name].forward_(z, slope)  # (Function.apply would return a new alias)
    if torch.compiler.is_compiling() or transforms_active():
        # NOTE: Dynamo and torch.func refuse a Function that returns its own dirty input: there
        # the out-of-place Function's output is copied over z (same values and gradients)
        out = call(ReLUFunction, z) if name == "relu" else call(LeakyReLUFunction, z, slope)
        return z.copy_(out)
    return call(InplaceActivationFunction, z, name, slope)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, z) elementwise (§2.2), with the hand-written derivative 1[a > 0].

    ``inplace=True`` writes the result over ``input`` and returns it, as
    ``torch.nn.functional.relu`` does; backward reads g' from that result.
    """
    check_floating(input, "input", "relu")
    return _activate_inplace(input, "relu", 0.0) if inplace else call(ReLUFunction, input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """max(slope z, z) elementwise (§2.2), with the hand-written derivative (1 or slope).

    Any real ``negative_slope`` gives correct gradients (a negative slope saves z instead of a).
    ``inplace=True`` writes over ``input`` as ``relu`` does; with a negative slope its backward
    raises, as PyTorch's does (z, which g' then needs, is overwritten).
    """
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
        raise TypeError(f"leaky_relu: negative_slope must be a real number, got "
                        f"{negative_slope!r} of type {type(negative_slope).__name__}")
    check_floating(input, "input", "leaky_relu")
    if inplace:
        return _activate_inplace(input, "leaky_relu", float(negative_slope))
    return call(LeakyReLUFunction, input, float(negative_slope))


def identity(input: Tensor) -> Tensor:
    """g(z) = z: the linear activation; returns the input unchanged."""
    return input
