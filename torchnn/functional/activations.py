"""Activation functions g(z) of the seed's §2.2 and their derivatives from §2.3.

The derivative rules below are the library's one source of truth: the per-layer autograd
Functions, the whole-network ``backprop`` and anything else that needs g'(z) call them. Each is
written from the saved *output* a = g(z) wherever the output determines g'(z), so the input z
never has to be kept for backward.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch.autograd import Function

from torchnn._validate import check_floating
from torchnn.functional._dispatch import apply

__all__ = [
    "FORWARD",
    "FORWARD_INPLACE",
    "ACTIVATE_INPLACE",
    "DERIVATIVE_FROM_OUTPUT",
    "BACKWARD_RULES",
    "NP_ACTIVATE_INPLACE",
    "np_sigmoid_",
    "np_log1p_exp_neg_abs",
    "np_sigmoid_from_",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "identity",
    "sigmoid_backward",
    "tanh_backward",
    "relu_backward",
    "sigmoid_derivative",
    "tanh_derivative",
    "relu_derivative",
    "leaky_relu_backward",
    "identity_backward",
]


# ----------------------------------------------------------------------------------------------
# derivative rules: dz = da * g'(z), written from the saved tensor (the one source of truth)
# ----------------------------------------------------------------------------------------------


# NOTE: a 0-dim tensor acts as a scalar for every device and dtype (it never promotes), so one
# constant serves float16 to float64, CPU and CUDA alike.
_ONE = torch.ones(())


def sigmoid_derivative(a: Tensor, out: Tensor | None = None) -> Tensor:
    """σ'(z) = σ(z)(1 - σ(z)) = a - a·a from the output a = σ(z) (§2.3, Sigmoid).

    ``out=a`` overwrites a with g'(z) in place (the explicit backprop, once a is spent). Like
    every rule in this table, it also takes a numpy array (the numpy engine, ``nn.explicit_numpy``).
    """
    if isinstance(a, np.ndarray):
        return np.subtract(a, np.multiply(a, a), out=out)
    return torch.addcmul(a, a, a, value=-1, out=out)


def sigmoid_backward(grad_a: Tensor, a: Tensor, out: Tensor | None = None) -> Tensor:
    """dz = da * a(1 - a) (§2.3, Sigmoid; eq. 2.8). ``out`` receives dz (e.g. ``out=grad_a``;
    autograd Functions never pass it: they must not modify their grad_output)."""
    return torch.mul(grad_a, sigmoid_derivative(a), out=out)


def tanh_derivative(a: Tensor, out: Tensor | None = None) -> Tensor:
    """tanh'(z) = 1 - tanh(z)² = 1 - a² from the output a (§2.3, Tanh); ``out=a`` in place."""
    if isinstance(a, np.ndarray):
        return np.subtract(1, np.multiply(a, a, out=out), out=out)
    return torch.addcmul(_ONE, a, a, value=-1, out=out)


def tanh_backward(grad_a: Tensor, a: Tensor, out: Tensor | None = None) -> Tensor:
    """dz = da * (1 - a²) (§2.3, Tanh; eq. 2.8); ``out`` receives dz."""
    return torch.mul(grad_a, tanh_derivative(a), out=out)


def relu_derivative(a: Tensor, out: Tensor | None = None) -> Tensor:
    """ReLU'(z) = 1[a > 0] (§2.3, ReLU): a boolean mask, or 0/1 in ``out``'s dtype (``out=a``).

    NOTE: the seed leaves g'(0) undefined; like PyTorch we use 0 at z = 0 (a = 0 there).
    """
    if isinstance(a, np.ndarray):
        return np.greater(a, 0, out=out)
    return torch.gt(a, 0, out=out)


def relu_backward(grad_a: Tensor, a: Tensor, out: Tensor | None = None) -> Tensor:
    """dz = da * 1[a > 0] (§2.3, ReLU; eq. 2.8); ``out`` receives dz."""
    if out is None and not torch.compiler.is_compiling() and (
            not torch._C._are_functorch_transforms_active()):
        # NOTE: the mask as 0/1 in a's dtype: on the CPU writing a bool mask and multiplying
        # float by bool is ~4x slower (47 µs vs 14 µs on 256 x 256); out= is kept away from
        # torch.func transforms and Dynamo, which get the plain form below, and from autograd
        # (forward AD refuses out= ops; the mask's own derivative is zero, so a is detached)
        return torch.mul(grad_a, relu_derivative(a.detach(), out=torch.empty_like(a)))
    return torch.mul(grad_a, relu_derivative(a), out=out)


def leaky_relu_backward(
    grad_a: Tensor, saved: Tensor, negative_slope: float, out: Tensor | None = None
) -> Tensor:
    """dz = da * (1 if z > 0 else slope) (§2.3, Leaky ReLU).

    ``saved`` is the output a when ``negative_slope >= 0`` (then a > 0 exactly when z > 0) and the
    input z otherwise (a negative slope makes a > 0 for z < 0 too, so a no longer tells the sign).
    NOTE: at z = 0 the derivative is ``negative_slope``, PyTorch's choice.
    ``out=grad_a`` writes dz over da.
    """
    return torch.where(saved > 0, grad_a, grad_a * negative_slope, out=out)


def identity_backward(grad_a: Tensor, a: Tensor) -> Tensor:
    """dz = da (g(z) = z, the linear activation of §2.2's "Why activation functions")."""
    return grad_a


# ----------------------------------------------------------------------------------------------
# tanh's forward on the CPU
# ----------------------------------------------------------------------------------------------
# NOTE: torch.tanh on the CPU (SLEEF's 1-ULP tanh) costs ~2.6 ns a float32 element on this
# AVX-512 machine, numpy's (Intel SVML's algorithm, vectorised for FMA3 / AVX-512 / NEON / VSX)
# ~0.37 ns, within 1.4 ULP of the exact value (torch's: 0.51); pytorch#143800 reports the same
# gap for exp and log. On [784, 256, 256, 1] that was ~170 µs of a 2 ms step. numpy runs on one
# thread, so torch keeps tanh when it has more than 6 threads for a tensor big enough to split,
# and for small tensors (see _NUMPY_MIN_NUMEL).


def _numpy_has_simd_tanh() -> bool:
    """Whether numpy's tanh runs vectorised on this CPU (its loops need FMA3 or NEON / VSX)."""
    try:
        umath = np._core._multiarray_umath if hasattr(np, "_core") else np.core._multiarray_umath
        feats = umath.__cpu_features__
    except AttributeError:  # pragma: no cover - an unknown numpy layout: keep torch's
        return False
    return any(feats.get(f) for f in ("FMA3", "AVX512_SKX", "ASIMD", "VSX2"))


_NUMPY_TANH = _numpy_has_simd_tanh()
_NUMPY_DTYPES = (torch.float32, torch.float64)
_SERIAL_NUMEL = 32768  # ATen's grain size: below it torch runs an elementwise op on one thread
# NOTE: below a few thousand elements the saving (~2 ns an element) is less than the checks and
# the numpy round trip cost inside a step (the seed's 2-4-1 network: 1,600 elements, ~1 µs slower)
_NUMPY_MIN_NUMEL = 4096


def _numpy_tanh_applies(z: Tensor) -> bool:
    """A plain contiguous float32 / float64 CPU tensor in eager code with no transform active."""
    # NOTE: the Dynamo test first: under torch.compile nothing below may be traced; z.is_cpu,
    # not z.device.type (which builds a device object: ~2 µs inside a step)
    if not _NUMPY_TANH or torch.compiler.is_compiling():
        return False
    n = z.numel()
    return (_NUMPY_MIN_NUMEL <= n and (n <= _SERIAL_NUMEL or torch.get_num_threads() <= 6)
            and not torch._C._are_functorch_transforms_active() and type(z) is Tensor
            and z.is_cpu and z.dtype in _NUMPY_DTYPES and z.is_contiguous() and not z.is_neg())


def tanh_value(z: Tensor) -> Tensor:
    """tanh(z) into a new tensor: numpy's vectorised tanh where it applies, torch.tanh elsewhere."""
    if _numpy_tanh_applies(z):
        out = torch.empty_like(z, memory_format=torch.contiguous_format)
        np.tanh(z.detach().numpy(), out=out.numpy())
        return out
    return torch.tanh(z)


def tanh_(z: Tensor) -> Tensor:
    """tanh written over z (A = g(Z), eq. 2.4, in place), numpy's where it applies."""
    if not z.requires_grad and _numpy_tanh_applies(z):
        arr = z.numpy()
        np.tanh(arr, out=arr)
        torch.autograd.graph.increment_version(z)  # NOTE: numpy's write is invisible to autograd
        return z
    return torch.tanh_(z)


def _leaky_relu_inplace(z: Tensor, slope: float) -> Tensor:
    return torch.nn.functional.leaky_relu_(z, slope)


# A = g(Z) in a new tensor, as (z, slope) -> a: forward values only (the fused layer Function
# while Dynamo traces it); the slope is only read by leaky ReLU
FORWARD = {
    "sigmoid": lambda z, s: torch.sigmoid(z),
    "tanh": lambda z, s: torch.tanh(z),
    "relu": lambda z, s: torch.relu(z),
    "leaky_relu": lambda z, s: torch.nn.functional.leaky_relu(z, s),
    "identity": lambda z, s: z,
}
# A = g(Z) written over Z, the same values: for code that owns Z (the fused layer Function, the
# explicit engine)
FORWARD_INPLACE = {
    "sigmoid": lambda z, s: torch.sigmoid_(z),
    "tanh": lambda z, s: tanh_(z),
    "relu": lambda z, s: torch.relu_(z),
    "leaky_relu": _leaky_relu_inplace,
    "identity": lambda z, s: z,
}
# The same bodies with one argument, for the activations whose g'(z) is read from A alone: hot
# loops call them without the (z, slope) wrapper (one Python frame fewer a layer)
ACTIVATE_INPLACE = {"sigmoid": torch.sigmoid_, "tanh": tanh_, "relu": torch.relu_}
# g'(Z) read from A = g(Z) (§2.3) as (a, out=None) -> g'; ``out=a`` writes it over A once A is
# spent, ``out=torch.empty_like(a)`` into a new tensor (relu's default is a boolean mask). A numpy
# array in, a numpy array out: the numpy engine (``nn.explicit_numpy``) reads the same rules
DERIVATIVE_FROM_OUTPUT = {
    "sigmoid": sigmoid_derivative, "tanh": tanh_derivative, "relu": relu_derivative,
}
# dZ = dA * g'(Z) as (dA, saved, slope) -> dZ, for every activation by name (differentiable)
BACKWARD_RULES = {
    "sigmoid": lambda g, a, s: sigmoid_backward(g, a),
    "tanh": lambda g, a, s: tanh_backward(g, a),
    "relu": lambda g, a, s: relu_backward(g, a),
    "leaky_relu": leaky_relu_backward,
    "identity": lambda g, a, s: identity_backward(g, a),
}


# g on numpy arrays, for the explicit engine's numpy path (``nn.explicit_numpy``: networks so
# small that PyTorch's per-call cost is most of a step); g' is the table above. Each takes
# scratch arrays of z's shape from the caller, so nothing is allocated inside a step.


# NOTE: 0-d zeros for np.maximum / np.minimum: a Python 0 costs numpy ~0.35 µs of scalar
# conversion a call, a visible share of the seed's 2-4-1 step (~35 µs)
NP_ZERO = {np.dtype(np.float32): np.zeros((), np.float32),
           np.dtype(np.float64): np.zeros((), np.float64)}


def np_log1p_exp_neg_abs(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """log(1 + e^{-|z|}) into ``out``: the part of softplus(z) = max(z, 0) + log(1 + e^{-|z|})
    (and of -log σ(z)) that never overflows; log1p keeps it exact where e^{-|z|} is tiny."""
    return np.log1p(np.exp(np.negative(np.absolute(z, out=out), out=out), out=out), out=out)


def np_sigmoid_(z: np.ndarray, lg: np.ndarray, _t: np.ndarray | None = None) -> np.ndarray:
    """σ(z) = exp(min(z, 0) - log(1 + e^{-|z|})) written over z: no overflow, no cancellation.

    Leaves log(1 + e^{-|z|}) in the scratch ``lg`` (z's shape).
    """
    return np_sigmoid_from_(z, np_log1p_exp_neg_abs(z, lg))


def np_sigmoid_from_(z: np.ndarray, lg: np.ndarray) -> np.ndarray:
    """σ(z) over z given lg = log(1 + e^{-|z|}) (the cost computes lg anyway)."""
    return np.exp(np.subtract(np.minimum(z, NP_ZERO[z.dtype], out=z), lg, out=z), out=z)


# A = g(Z) written over Z, as (z, s, t) -> a (s, t: scratch of z's shape)
NP_ACTIVATE_INPLACE = {
    "sigmoid": np_sigmoid_,
    "tanh": lambda z, s, t: np.tanh(z, out=z),
    "relu": lambda z, s, t: np.maximum(z, NP_ZERO[z.dtype], out=z),
}


# ----------------------------------------------------------------------------------------------
# autograd Functions (forward + setup_context style, so torch.func transforms apply)
# ----------------------------------------------------------------------------------------------
# NOTE: each Function comes in two classes. The base class has no ``jvp`` and is what compiled
# code gets: Dynamo refuses a Function that defines ``jvp`` (a graph break). Eager code gets the
# ``_Fwd`` subclass, which adds forward-mode AD. Because every activation's Jacobian is diagonal,
# the JVP is the same rule as the VJP: dz_tangent -> rule(tangent, saved).


class SigmoidFunction(Function):
    """a = σ(z) = 1 / (1 + e^{-z}) (eq. 2.2); dz = da * a(1 - a) (§2.3); saves a."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor) -> Tensor:
        return torch.sigmoid(z)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, grad_a):
        (a,) = ctx.saved_tensors
        return sigmoid_backward(grad_a, a)


class TanhFunction(Function):
    """a = tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z}) (§2.2); dz = da * (1 - a²); saves a."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor) -> Tensor:
        return tanh_value(z)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, grad_a):
        (a,) = ctx.saved_tensors
        return tanh_backward(grad_a, a)


class ReLUFunction(Function):
    """a = max(0, z) (§1, §2.2); dz = da * 1[a > 0] (§2.3); saves a."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor) -> Tensor:
        return torch.relu(z)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, grad_a):
        (a,) = ctx.saved_tensors
        return relu_backward(grad_a, a)


class LeakyReLUFunction(Function):
    """a = max(slope z, z) (§2.2); dz = da * (1 if z > 0 else slope) (§2.3).

    Saves a when slope >= 0, z when slope < 0 (see ``leaky_relu_backward``).
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor, negative_slope: float) -> Tensor:
        return torch.where(z > 0, z, z * negative_slope)

    @staticmethod
    def setup_context(ctx, inputs, output):
        z, negative_slope = inputs
        ctx.negative_slope = negative_slope
        ctx.save_for_backward(output if negative_slope >= 0 else z)

    @staticmethod
    def backward(ctx, grad_a):
        (saved,) = ctx.saved_tensors
        return leaky_relu_backward(grad_a, saved, ctx.negative_slope), None


class _SigmoidFwd(SigmoidFunction):
    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def jvp(ctx, z_t):
        (a,) = ctx.saved_tensors
        return sigmoid_backward(z_t, a)


class _TanhFwd(TanhFunction):
    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def jvp(ctx, z_t):
        (a,) = ctx.saved_tensors
        return tanh_backward(z_t, a)


class _ReLUFwd(ReLUFunction):
    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def jvp(ctx, z_t):
        (a,) = ctx.saved_tensors
        return relu_backward(z_t, a)


class _LeakyReLUFwd(LeakyReLUFunction):
    @staticmethod
    def setup_context(ctx, inputs, output):
        z, negative_slope = inputs
        ctx.negative_slope = negative_slope
        saved = output if negative_slope >= 0 else z
        ctx.save_for_backward(saved)
        ctx.save_for_forward(saved)

    @staticmethod
    def jvp(ctx, z_t, _slope_t):
        (saved,) = ctx.saved_tensors
        return leaky_relu_backward(z_t, saved, ctx.negative_slope)


# ----------------------------------------------------------------------------------------------
# functional API (same names and arguments as torch.nn.functional)
# ----------------------------------------------------------------------------------------------


def sigmoid(input: Tensor) -> Tensor:
    """σ(z) = 1 / (1 + e^{-z}) elementwise, with the hand-written derivative a(1 - a)."""
    check_floating(input, "input", "sigmoid")
    return apply(_SigmoidFwd, SigmoidFunction, input)


def tanh(input: Tensor) -> Tensor:
    """tanh(z) elementwise, with the hand-written derivative 1 - a²."""
    check_floating(input, "input", "tanh")
    return apply(_TanhFwd, TanhFunction, input)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, z) elementwise, with the hand-written derivative 1[a > 0].

    ``inplace`` is accepted for drop-in compatibility with ``torch.nn.functional.relu``; the
    result is always a new tensor, because the output is what backward needs.
    """
    check_floating(input, "input", "relu")
    return apply(_ReLUFwd, ReLUFunction, input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """max(slope z, z) elementwise, with the hand-written derivative (1 or slope).

    Any real ``negative_slope`` gives correct gradients (a negative slope saves z instead of a).
    ``inplace`` is accepted for compatibility and ignored (see ``relu``).
    """
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
        raise TypeError(
            f"leaky_relu: negative_slope must be a real number, got {negative_slope!r} "
            f"of type {type(negative_slope).__name__}"
        )
    check_floating(input, "input", "leaky_relu")
    return apply(_LeakyReLUFwd, LeakyReLUFunction, input, float(negative_slope))


def identity(input: Tensor) -> Tensor:
    """g(z) = z: the linear activation; returns the input unchanged."""
    return input
