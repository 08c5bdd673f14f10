"""Checks of how a Function composes with PyTorch's transforms: vmap, per-sample gradients,
torch.compile, autocast, saved-tensor accounting, and agreement with a reference."""

from __future__ import annotations

import itertools
import types
import warnings
from typing import cast

import torch
from torch import Tensor

from torchnn.testing._autograd_checks import hvp_func
from torchnn.testing._report import FAIL, NA, PASS, CheckResult
from torchnn.testing._subject import Subject, as_tuple, first_line

__all__ = [
    "check_vmap",
    "check_per_sample_grad",
    "check_compile",
    "check_autocast",
    "check_saved_tensors",
    "check_reference_values",
    "check_reference_grads",
]

_BATCH = 3  # examples in the vmap checks
_fresh_ids = itertools.count()


def _noise(x: Tensor, gen: torch.Generator) -> Tensor:
    return torch.randn(x.shape, generator=gen, dtype=x.dtype).to(x.device)  # CPU generator


def _batched(s: Subject, args: list) -> tuple[Tensor, ...]:
    """Each differentiable input, stacked _BATCH times with a different perturbation each."""
    gen = torch.Generator().manual_seed(2)
    return tuple(
        torch.stack([x.detach() + 0.1 * k * _noise(x, gen) for k in range(_BATCH)])
        for x in s.diff_args(args)
    )


def check_vmap(s: Subject) -> CheckResult:
    """torch.func.vmap over a batch of inputs against a Python loop."""
    name = "vmap vs loop"
    args = s.args(grad=False)
    xb = _batched(s, args)
    f = s.over_diff(s.call, args)
    try:
        got = as_tuple(torch.func.vmap(f)(*xb))
    except Exception as err:
        return CheckResult(name, FAIL, first_line(err), str(err))
    loop = [as_tuple(f(*(x[k] for x in xb))) for k in range(_BATCH)]
    want = tuple(torch.stack(o) for o in zip(*loop))
    if not all(s.close(a, b) for a, b in zip(got, want)):
        return CheckResult(name, FAIL, f"max |vmap - loop| = {s.max_diff(got, want):.3g}")
    return CheckResult(name, PASS, f"vmap over {_BATCH} examples = loop")


def check_per_sample_grad(s: Subject) -> CheckResult:
    """vmap(grad(Σ w·f)) (per-sample gradients) against a loop of autograd gradients."""
    name = "vmap(grad) per-sample"
    args = s.args(grad=False)
    xb = _batched(s, args)
    argnums = tuple(range(len(xb)))
    try:
        got = torch.func.vmap(torch.func.grad(s.scalar(s.call, args), argnums=argnums))(*xb)
    except Exception as err:
        return CheckResult(name, FAIL, first_line(err), str(err))
    loop = []
    for k in range(_BATCH):
        a = list(s.args())
        for i, x in zip(s.diff, xb):
            a[i] = x[k].clone().requires_grad_()
        loop.append(s.grads(s.call, a))
    want = tuple(torch.stack(g) for g in zip(*loop))
    if not all(s.close(a, b) for a, b in zip(got, want)):
        return CheckResult(name, FAIL, f"max |vmap(grad) - loop| = {s.max_diff(got, want):.3g}")
    return CheckResult(name, PASS, "per-sample gradients = loop of autograd.grad")


def _fresh(fn):
    """A wrapper with its own code object, so Dynamo's cache never mixes two checks."""

    def call(*args):
        return fn(*args)

    code = call.__code__.replace(co_name=f"check_function_{next(_fresh_ids)}")
    return types.FunctionType(code, call.__globals__, code.co_name, None, call.__closure__)


def check_compile(s: Subject, backend: str = "aot_eager") -> CheckResult:
    """torch.compile(fullgraph=True): one graph, no break; values and gradients = eager.

    The backward is compiled too (AOT autograd traces the Function's backward into the joint
    graph); ``loss.backward()`` runs outside the compiled region.
    """
    from torch._dynamo.testing import CompileCounterWithBackend

    name = "torch.compile fullgraph"
    counter = CompileCounterWithBackend(backend)
    compiled = torch.compile(_fresh(s.call), backend=counter, fullgraph=True)
    args = s.args()
    try:
        with warnings.catch_warnings():  # anomaly-mode echoes of an error reported below
            warnings.simplefilter("ignore")
            outs = as_tuple(compiled(*args))
            grads = s.grads(compiled, args)
    except Exception as err:
        reason = first_line(err)
        if "custom jvp" in str(err):
            reason += " (Dynamo cannot trace a Function with jvp: under torch.compile, apply a "
            reason += "jvp-less class, see torchnn.functional._autograd.twin)"
        try:
            ex = torch._dynamo.explain(_fresh(s.call))(*s.args())
            if ex.graph_break_count:
                reason += f" [{ex.graph_count} graphs, {ex.graph_break_count} breaks]"
        except Exception:  # explain itself may fail on the same construct
            pass
        return CheckResult(name, FAIL, reason, str(err))
    eager = s.args()
    want_outs, want_grads = as_tuple(s.call(*eager)), s.grads(s.call, eager)
    if counter.frame_count != 1:
        return CheckResult(name, FAIL, f"{counter.frame_count} graphs compiled, expected 1")
    got, want = outs + grads, want_outs + want_grads
    if not all(s.close(a, b) for a, b in zip(got, want)):
        return CheckResult(name, FAIL, f"max |compiled - eager| = {s.max_diff(got, want):.3g}")
    return CheckResult(
        name, PASS, f"1 graph, 0 breaks, {counter.op_count} ops; values and grads = eager"
    )


def _autocast_dtype(device: str) -> torch.dtype:
    return torch.bfloat16 if device == "cpu" else torch.float16


def check_autocast(s: Subject, dtype: torch.dtype | None = None) -> CheckResult:
    """Under autocast: output dtypes as the reference's, input-dtype gradients, no crash."""
    name = "autocast"
    args = s.args(torch.float32)
    device = s.diff_args(args)[0].device.type
    dtype = dtype or _autocast_dtype(device)
    try:
        with torch.autocast(device, dtype=dtype):
            outs = as_tuple(s.call(*args))
            ref = as_tuple(s.reference(*s.args(torch.float32))) if s.reference else None
        loss = cast(Tensor, sum(o.float().sum() for o in outs))
        grads = torch.autograd.grad(loss, s.diff_args(args), allow_unused=True)
    except Exception as err:
        return CheckResult(name, FAIL, first_line(err), str(err))
    dtypes = [str(o.dtype).replace("torch.", "") for o in outs]
    for x, g in zip(s.diff_args(args), grads):
        if g is not None and (g.dtype != x.dtype or g.shape != x.shape):
            return CheckResult(name, FAIL, f"gradient {g.dtype} {tuple(g.shape)} for an input "
                                           f"{x.dtype} {tuple(x.shape)}")
    if ref is not None:
        want = [str(o.dtype).replace("torch.", "") for o in ref]
        if dtypes != want:
            return CheckResult(name, FAIL, f"{device} {dtype}: outputs {dtypes}, reference {want}")
        return CheckResult(name, PASS, f"{device} {str(dtype)[6:]}: outputs {dtypes} as reference")
    return CheckResult(name, PASS, f"{device} {str(dtype)[6:]}: outputs {dtypes}, grads float32")


def _saved(call, args) -> tuple[list[tuple[Tensor, int]], tuple[Tensor, ...]]:
    saved: list[tuple[Tensor, int]] = []

    def pack(t: Tensor) -> Tensor:
        saved.append((t, t._version))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        outs = as_tuple(call(*args))
    return saved, outs


def _describe(saved) -> str:
    n, nbytes = len(saved), sum(t.numel() * t.element_size() for t, _ in saved)
    return f"{n} tensor{'' if n == 1 else 's'}, {nbytes} B"


def check_saved_tensors(s: Subject) -> CheckResult:
    """Count and bytes of the tensors saved for backward; no in-place change of any of them
    (version counters), and backward gives the same result when run twice."""
    name = "saved tensors"
    args = s.args(torch.float32)
    try:
        saved, outs = _saved(s.call, args)
        for i, (t, version) in enumerate(saved):
            if t._version != version:
                return CheckResult(name, FAIL, f"saved tensor #{i} was modified in place after "
                                               f"it was saved (version {version} -> {t._version})")
        cots = s.cotangents(outs)
        loss = cast(Tensor, sum((o * c).sum() for o, c in zip(outs, cots)))
        xs = s.diff_args(args)
        first = torch.autograd.grad(loss, xs, retain_graph=True, allow_unused=True)
        second = torch.autograd.grad(loss, xs, allow_unused=True)
    except Exception as err:
        return CheckResult(name, FAIL, first_line(err), str(err))
    if any((a is None) != (b is None) or (a is not None and not torch.equal(a, b))
           for a, b in zip(first, second)):
        return CheckResult(name, FAIL, "backward gave a different result the second time "
                                       "(does it modify a saved tensor in place?)")
    reason = f"{_describe(saved)} (float32)"
    if s.reference is not None:
        ref, _ = _saved(s.reference, s.args(torch.float32))
        reason += f"; reference {_describe(ref)}"
    return CheckResult(name, PASS, reason)


def check_reference_values(s: Subject) -> CheckResult:
    name = "values vs reference"
    if s.reference is None:
        return CheckResult(name, NA, "no reference given")
    got, want = as_tuple(s.call(*s.args())), as_tuple(s.reference(*s.args()))
    if len(got) != len(want) or not all(s.close(a, b) for a, b in zip(got, want)):
        shapes = [tuple(t.shape) for t in got], [tuple(t.shape) for t in want]
        return CheckResult(name, FAIL, f"max |f - reference| = {s.max_diff(got, want):.3g}, "
                                       f"shapes {shapes[0]} vs {shapes[1]}")
    return CheckResult(name, PASS, f"float64, max err {s.max_diff(got, want):.1e}")


def check_reference_grads(s: Subject) -> CheckResult:
    """First derivatives (autograd) and H v (torch.func) against the reference's."""
    name = "grads vs reference"
    if s.reference is None:
        return CheckResult(name, NA, "no reference given")
    try:
        got, want = s.grads(s.call, s.args()), s.grads(s.reference, s.args())
        if not all(s.close(a, b) for a, b in zip(got, want)):
            return CheckResult(name, FAIL, f"first derivatives: max err "
                                           f"{s.max_diff(got, want):.3g}")
        args = s.args(grad=False)
        got2, want2 = hvp_func(s, s.call, args), hvp_func(s, s.reference, args)
    except Exception as err:
        return CheckResult(name, FAIL, first_line(err), str(err))
    if not all(s.close(a, b) for a, b in zip(got2, want2)):
        return CheckResult(name, FAIL, f"second derivatives (Hv): max err "
                                       f"{s.max_diff(got2, want2):.3g}")
    return CheckResult(name, PASS, "1st (autograd) and 2nd (torch.func Hv) derivatives equal")
