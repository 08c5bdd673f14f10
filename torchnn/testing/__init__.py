"""torchnn.testing: one call that checks a custom autograd Function against every PyTorch
transform it should work with.

``check_function(fn, *example_inputs, reference=None, strict=False)`` runs, on a
``torch.autograd.Function`` subclass (called through ``.apply``) or any callable:

=========================== ===============================================================
check                       what it does
=========================== ===============================================================
values vs reference         forward values against ``reference`` (float64)
backward: raw grad shapes   calls each Function's ``backward`` itself and compares shapes
                            (the engine silently sums a (1, n) bias gradient into (n,))
grad_output untouched       backward leaves the caller's gradient tensor unchanged
gradcheck (backward)        ``torch.autograd.gradcheck`` in float64
forward AD (jvp)            gradcheck ``check_forward_ad`` (n/a for a class without ``jvp``)
batched grad                gradcheck ``check_batched_grad`` (vmap over the backward)
gradgradcheck               double backward, plus forward-over-reverse when jvp works
grad(grad) vs finite diff   torch.func H v against differences of the gradient (catches the
                            silent zeros of ``@once_differentiable`` under torch.func)
grads vs reference          first derivatives and H v against ``reference``
vmap vs loop                ``torch.func.vmap`` against a Python loop
vmap(grad) per-sample       per-sample gradients against a loop of ``autograd.grad``
torch.compile fullgraph     one graph, no break (CompileCounter), values and grads = eager
autocast                    output dtypes as the reference's, gradients in the input dtype
saved tensors               count and bytes (saved_tensors_hooks), version counters,
                            backward repeatable
=========================== ===============================================================

It returns a ``CheckReport`` (print it for a table; ``.passed``, ``.failures``) and raises
``CheckFailed`` (an ``AssertionError``) carrying the report when ``strict=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from torchnn.testing._autograd_checks import (
    check_batched_grad,
    check_forward_ad,
    check_grad_output_untouched,
    check_gradcheck,
    check_gradgradcheck,
    check_raw_shapes,
    check_second_order,
    forward_ad_supported,
)
from torchnn.testing._report import FAIL, NA, PASS, CheckFailed, CheckReport, CheckResult
from torchnn.testing._subject import Subject, first_line
from torchnn.testing._transform_checks import (
    check_autocast,
    check_compile,
    check_per_sample_grad,
    check_reference_grads,
    check_reference_values,
    check_saved_tensors,
    check_vmap,
)

__all__ = ["check_function", "CheckReport", "CheckResult", "CheckFailed", "CHECKS",
           "PASS", "FAIL", "NA"]

CHECKS = (
    "values vs reference",
    "backward: raw grad shapes",
    "grad_output untouched",
    "gradcheck (backward)",
    "forward AD (jvp)",
    "batched grad",
    "gradgradcheck",
    "grad(grad) vs finite diff",
    "grads vs reference",
    "vmap vs loop",
    "vmap(grad) per-sample",
    "torch.compile fullgraph",
    "autocast",
    "saved tensors",
)


def check_function(
    fn: Callable[..., Any],
    *example_inputs: Any,
    reference: Callable[..., Any] | None = None,
    strict: bool = False,
    grad_inputs: Sequence[int] | None = None,
    skip: Sequence[str] = (),
    compile_backend: str = "aot_eager",
    autocast_dtype: torch.dtype | None = None,
    atol: float = 1e-7,
    rtol: float = 1e-5,
    name: str | None = None,
) -> CheckReport:
    """Run every applicable check on ``fn`` and return the report.

    Args:
        fn: a ``torch.autograd.Function`` subclass (called as ``fn.apply``) or a callable.
        *example_inputs: the arguments for one call. Floating-point tensors are the
            differentiable inputs (cast to float64 for the gradcheck-type checks, float32 for
            autocast); anything else (a slope, a reduction string) is passed unchanged.
        reference: a callable (or Function class) with the same signature and the intended
            semantics, e.g. the ``torch.nn.functional`` op; enables the reference rows.
        strict: raise ``CheckFailed`` (an ``AssertionError``) with the report if any check fails.
        grad_inputs: positions of the inputs to differentiate (default: every floating tensor).
        skip: names of checks not to run (listed as n/a), from ``CHECKS``.
        compile_backend: the backend behind the compile check's CompileCounter; the default
            ``"aot_eager"`` traces forward and backward through AOT autograd without inductor.
        autocast_dtype: the autocast dtype (default bfloat16 on CPU, float16 on CUDA).
        atol, rtol: float64 tolerances of value comparisons (second-order ones get 10x).
        name: the name printed in the report (default: the qualified name of ``fn``).

    Returns:
        A ``CheckReport`` with one row per check in ``CHECKS``.

    Examples:
        >>> report = check_function(MySigmoid, torch.randn(4, 3), reference=torch.sigmoid)
        >>> print(report)          # a table: check, status, reason
        >>> assert report.passed, report
    """
    skip = (skip,) if isinstance(skip, str) else tuple(skip)
    unknown = sorted(set(skip) - set(CHECKS))
    if unknown:
        raise ValueError(f"check_function: unknown checks in skip: {unknown}; known: {CHECKS}")
    s = Subject.make(fn, example_inputs, reference, grad_inputs, atol, rtol)
    report = CheckReport(name or s.name)
    fwd_ok = forward_ad_supported(s)  # updated by the forward AD row
    runners: dict[str, Callable[[], CheckResult]] = {
        "values vs reference": lambda: check_reference_values(s),
        "backward: raw grad shapes": lambda: check_raw_shapes(s),
        "grad_output untouched": lambda: check_grad_output_untouched(s),
        "gradcheck (backward)": lambda: check_gradcheck(s),
        "forward AD (jvp)": lambda: check_forward_ad(s),
        "batched grad": lambda: check_batched_grad(s),
        "gradgradcheck": lambda: check_gradgradcheck(s, fwd_over_rev=fwd_ok),
        "grad(grad) vs finite diff": lambda: check_second_order(s),
        "grads vs reference": lambda: check_reference_grads(s),
        "vmap vs loop": lambda: check_vmap(s),
        "vmap(grad) per-sample": lambda: check_per_sample_grad(s),
        "torch.compile fullgraph": lambda: check_compile(s, compile_backend),
        "autocast": lambda: check_autocast(s, autocast_dtype),
        "saved tensors": lambda: check_saved_tensors(s),
    }
    for check in CHECKS:
        if check in skip:
            report.rows.append(CheckResult(check, NA, "skipped"))
            continue
        try:
            row = runners[check]()
        except Exception as err:  # a check that crashed outside its own guard
            row = CheckResult(check, FAIL, first_line(err), repr(err))
        if check == "forward AD (jvp)":
            fwd_ok = row.status == PASS
        report.rows.append(row)
    if strict and not report.passed:
        raise CheckFailed(report)
    return report
