"""One parity helper for every op test: a torchnn callable against its PyTorch reference.

``assert_parity(fn, ref, *args)`` runs both callables on the same inputs (cast to ``dtype``),
compares the forward values, then back-propagates the same upstream gradient through both and
compares the gradient with respect to every floating-point tensor argument (targets included).
Tolerances are per dtype (``TOLERANCES``): float64 is tight, float32 / bfloat16 / float16 are
what their machine epsilons allow when the two sides compute the same formula in a different
order.

Stable API (other test folders import it)::

    assert_parity(fn, ref, *args, dtype=torch.float64, device="cpu", wrt=None,
                  noncontiguous=False, grad_output=None, rtol=None, atol=None,
                  equal_nan=False, check_grad=True, seed=0) -> Parity
    tolerances(dtype) -> dict(rtol=..., atol=...)
    noncontiguous(t) -> a non-contiguous copy of t with the same values
    DEVICES, FLOAT_DTYPES, LOW_PRECISION   (pytest parameter lists; "cuda" is marked)

Example::

    from tests.parity import assert_parity
    assert_parity(torchnn.functional.sigmoid, torch.sigmoid, torch.randn(5, 3))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from torch import Tensor

__all__ = [
    "DEVICES",
    "FLOAT_DTYPES",
    "LOW_PRECISION",
    "TOLERANCES",
    "Parity",
    "assert_parity",
    "noncontiguous",
    "tolerances",
]

# NOTE: both sides compute the same formula, so the float64 bound is a few ulps of summation
# order; the lower precisions allow a few ulps of their own epsilon (bf16: 2^-8, fp16: 2^-11).
TOLERANCES: dict[torch.dtype, dict[str, float]] = {
    torch.float64: {"rtol": 1e-10, "atol": 1e-12},
    torch.float32: {"rtol": 1e-5, "atol": 1e-6},
    torch.bfloat16: {"rtol": 2e-2, "atol": 2e-2},
    torch.float16: {"rtol": 2e-3, "atol": 2e-3},
}

FLOAT_DTYPES = [torch.float64, torch.float32, torch.bfloat16, torch.float16]
LOW_PRECISION = [torch.bfloat16, torch.float16]
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


def tolerances(dtype: torch.dtype) -> dict[str, float]:
    """The ``rtol`` / ``atol`` used for ``dtype`` (a copy, safe to modify)."""
    if dtype not in TOLERANCES:
        raise ValueError(f"no tolerance for dtype {dtype}; expected one of {list(TOLERANCES)}")
    return dict(TOLERANCES[dtype])


def noncontiguous(t: Tensor) -> Tensor:
    """A copy of ``t`` with the same values whose memory is strided (every other element).

    NOTE: as ``torch.testing.make_tensor(noncontiguous=True)``: the values sit in the first slot
    of a trailing dimension of size 2, so even a 0-d or 1-element tensor is non-contiguous.
    """
    base = torch.empty(*t.shape, 2, dtype=t.dtype, device=t.device)
    base[..., 0] = t.detach()
    # poison: a kernel that ignores the strides reads NaN (or -1, an invalid class index)
    base[..., 1] = float("nan") if t.is_floating_point() else -1
    view = base[..., 0]
    assert t.numel() <= 1 or not view.is_contiguous()
    return view


@dataclass
class Parity:
    """What ``assert_parity`` computed, for further checks by the caller."""

    inputs: list[Any]  # the arguments as passed to both callables
    out: Tensor  # fn(*inputs)
    ref_out: Tensor  # ref(*inputs)
    grads: list[Tensor | None]  # d(out . grad_output)/d(input) for each index in ``wrt``
    ref_grads: list[Tensor | None]
    wrt: list[int]


def _prepare(arg: Any, dtype: torch.dtype | None, device: str, noncontig: bool) -> Any:
    if not isinstance(arg, Tensor):
        return arg
    t = arg.detach().to(device)
    if t.is_floating_point() and dtype is not None:
        t = t.to(dtype)
    if noncontig and t.numel() > 0:
        t = noncontiguous(t)
    return t


def assert_parity(
    fn: Callable[..., Tensor],
    ref: Callable[..., Tensor],
    *args: Any,
    dtype: torch.dtype | None = torch.float64,
    device: str = "cpu",
    wrt: Sequence[int] | None = None,
    noncontiguous: bool = False,
    grad_output: Tensor | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_grad: bool = True,
    seed: int = 0,
) -> Parity:
    """Assert that ``fn(*args)`` equals ``ref(*args)`` in value and in every input gradient.

    Args:
        fn: the torchnn callable.
        ref: the PyTorch reference with the same signature.
        *args: the arguments; floating-point tensors are cast to ``dtype`` (``None`` keeps each
            tensor's own dtype) and moved to ``device``; anything else is passed as is.
        wrt: indices of the arguments to differentiate; default every floating-point tensor.
        noncontiguous: give both callables non-contiguous inputs *and* a non-contiguous
            upstream gradient.
        grad_output: the upstream gradient; default a seeded N(0, 1) tensor of the output's
            shape (a non-zero one, so that every term of backward is exercised).
        rtol, atol: override the per-dtype ``TOLERANCES``.
        equal_nan: treat NaN as equal to NaN (for inputs where PyTorch itself gives NaN).
        check_grad: compare gradients too (``False``: forward only).
        seed: seeds the default ``grad_output``.

    Returns:
        A ``Parity`` record of inputs, outputs and gradients.
    """
    inputs = [_prepare(a, dtype, device, noncontiguous) for a in args]
    if wrt is None:
        wrt = [i for i, a in enumerate(inputs) if isinstance(a, Tensor) and a.is_floating_point()]
    wrt = list(wrt)
    if check_grad:
        for i in wrt:
            inputs[i].requires_grad_(True)
    out, ref_out = fn(*inputs), ref(*inputs)
    out_dtype = ref_out.dtype
    tol = tolerances(out_dtype) if out_dtype in TOLERANCES else {"rtol": 0.0, "atol": 0.0}
    tol.update({k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None})
    torch.testing.assert_close(out, ref_out, equal_nan=equal_nan, msg=_msg("forward"), **tol)
    grads: list[Tensor | None] = []
    ref_grads: list[Tensor | None] = []
    if check_grad and wrt:
        if grad_output is None:
            gen = torch.Generator().manual_seed(seed)
            grad_output = torch.randn(ref_out.shape, generator=gen, dtype=torch.float64)
        grad_output = _prepare(grad_output, out_dtype, device, noncontiguous)
        targets = [inputs[i] for i in wrt]
        grads = list(torch.autograd.grad(out, targets, grad_output, allow_unused=True))
        ref_grads = list(torch.autograd.grad(ref_out, targets, grad_output, allow_unused=True))
        for i, g, r in zip(wrt, grads, ref_grads):
            if r is None:
                assert g is None or not g.any(), f"input {i}: torch has no gradient, torchnn {g}"
                continue
            assert g is not None, f"input {i}: torchnn gives no gradient, torch gives {r}"
            torch.testing.assert_close(
                g, r, equal_nan=equal_nan, msg=_msg(f"gradient w.r.t. argument {i}"), **tol
            )
    return Parity(inputs, out, ref_out, grads, ref_grads, wrt)


def _msg(what: str) -> Callable[[str], str]:
    return lambda m: f"torchnn vs PyTorch, {what}:\n{m}"
