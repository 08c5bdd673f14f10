"""Checks of the derivatives themselves: raw backward shapes, gradcheck, forward AD, batched
gradients, double backward, and second derivatives through torch.func.

Every check takes a ``Subject`` and returns a ``CheckResult``; gradcheck-type checks run in
float64.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.graph import Node

from torchnn.testing._report import FAIL, NA, PASS, CheckResult
from torchnn.testing._subject import Subject, as_tuple, defines_jvp, first_line

__all__ = [
    "check_raw_shapes",
    "check_grad_output_untouched",
    "check_gradcheck",
    "check_forward_ad",
    "check_batched_grad",
    "check_gradgradcheck",
    "check_second_order",
]


def _custom_nodes(outs: tuple[Tensor, ...]) -> list:
    """Every custom-Function node (``BackwardCFunction``) reachable from the outputs."""
    seen, found = set(), []
    stack: list[Node | None] = [o.grad_fn for o in outs if o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if hasattr(node, "_forward_cls"):
            found.append(node)
        stack.extend(fn for fn, _ in node.next_functions)
    return found


def _expected_shape(next_fn, index: int) -> tuple[int, ...]:
    if hasattr(next_fn, "variable"):  # AccumulateGrad: a leaf
        return tuple(next_fn.variable.shape)
    return tuple(next_fn._input_metadata[index].shape)


def _edges(node) -> list[tuple[int, tuple]]:
    """(forward input index, (next node, its input index)) for every input with a gradient.

    NOTE: ``next_functions`` lists tensor inputs only (not a string, a slope or a None bias),
    while ``backward`` returns one value per forward input: the inputs that need a gradient
    (``needs_input_grad``) and the edges to a node, each in order, are the same inputs.
    """
    needed = [i for i, need in enumerate(node.needs_input_grad) if need]
    edges = [edge for edge in node.next_functions if edge[0] is not None]
    return list(zip(needed, edges))


def check_raw_shapes(s: Subject) -> CheckResult:
    """Call each custom Function's backward directly and compare the raw gradient shapes.

    NOTE: the autograd engine silently sums a gradient whose shape merely broadcasts to its
    input's (a bias gradient of shape (1, n) for a bias (n,)), so gradcheck cannot see it; only
    the raw return value of ``backward`` shows it.
    """
    name = "backward: raw grad shapes"
    outs = as_tuple(s.call(*s.args()))
    nodes = _custom_nodes(outs)
    if not nodes:
        return CheckResult(name, NA, "no custom autograd.Function in the graph")
    for node in nodes:
        grads_out = [torch.ones(tuple(m.shape), dtype=m.dtype, device=m.device)
                     for m in node._input_metadata]
        raw = node.apply(*grads_out)
        raw = raw if isinstance(raw, tuple) else (raw,)
        cls = node._forward_cls.__name__
        for i, (next_fn, idx) in _edges(node):
            g = raw[i] if i < len(raw) else None
            if g is None:
                continue
            want = _expected_shape(next_fn, idx)
            if not isinstance(g, Tensor) or tuple(g.shape) != want:
                got = tuple(g.shape) if isinstance(g, Tensor) else type(g).__name__
                return CheckResult(
                    name, FAIL,
                    f"{cls}.backward returned a gradient of shape {got} for input {i}, "
                    f"expected {want} (the engine would silently reduce or reject it)",
                )
    return CheckResult(name, PASS, f"{len(nodes)} Function node(s), every gradient shape exact")


def check_grad_output_untouched(s: Subject) -> CheckResult:
    """backward must not modify its grad_output in place: the tensor belongs to the caller
    (another branch of the graph, a hook, a DDP bucket). gradcheck cannot see this."""
    name = "grad_output untouched"
    args = s.args()
    outs = as_tuple(s.call(*args))
    cots = s.cotangents(outs)
    kept = [c.clone() for c in cots]
    try:
        torch.autograd.grad(outs, s.diff_args(args), grad_outputs=cots, allow_unused=True)
    except Exception as err:
        return CheckResult(name, FAIL, first_line(err), str(err))
    changed = [i for i, (c, k) in enumerate(zip(cots, kept)) if not torch.equal(c, k)]
    if changed:
        return CheckResult(name, FAIL, f"backward modified grad_output {changed} in place")
    return CheckResult(name, PASS, "the caller's gradient tensors are unchanged")


def _gradcheck(s: Subject, name: str, ok_reason: str, **kw) -> CheckResult:
    args = s.args()
    f = s.over_diff(s.call, args)
    try:
        torch.autograd.gradcheck(f, s.diff_args(args), raise_exception=True, **kw)
    except Exception as err:  # gradcheck raises GradcheckError or the Function's own error
        return CheckResult(name, FAIL, _gradcheck_reason(err), str(err))
    return CheckResult(name, PASS, ok_reason)


def _gradcheck_reason(err: Exception) -> str:
    reason = first_line(err)
    if "Jacobian mismatch" in reason:
        reason = reason.rstrip(",") + " (analytical != numerical)"
    return reason


def check_gradcheck(s: Subject) -> CheckResult:
    """Backward against finite differences (torch.autograd.gradcheck, float64)."""
    return _gradcheck(s, "gradcheck (backward)", "backward = finite differences (float64)")


def forward_ad_supported(s: Subject) -> bool:
    return s.fn_cls is None or defines_jvp(s.fn_cls)


def check_forward_ad(s: Subject) -> CheckResult:
    """Forward-mode AD (jvp) against finite differences (gradcheck check_forward_ad)."""
    name = "forward AD (jvp)"
    if not forward_ad_supported(s):  # so s.fn_cls is a Function class, not None
        fn_name = getattr(s.fn_cls, "__name__", "")
        return CheckResult(name, NA, f"{fn_name} defines no jvp staticmethod")
    return _gradcheck(s, name, "jvp = finite differences (gradcheck check_forward_ad)",
                      check_forward_ad=True, check_backward_ad=False,
                      check_undefined_grad=False, check_batched_grad=False)


def check_batched_grad(s: Subject) -> CheckResult:
    """vmap over the backward (gradcheck check_batched_grad)."""
    return _gradcheck(s, "batched grad", "vmap over backward = loop (check_batched_grad)",
                      check_batched_grad=True)


def check_gradgradcheck(s: Subject, fwd_over_rev: bool) -> CheckResult:
    """Double backward against finite differences, and forward-over-reverse when possible."""
    name = "gradgradcheck"
    args = s.args()
    f = s.over_diff(s.call, args)
    try:
        torch.autograd.gradgradcheck(f, s.diff_args(args), check_fwd_over_rev=fwd_over_rev,
                                     raise_exception=True)
    except Exception as err:
        return CheckResult(name, FAIL, _gradcheck_reason(err), str(err))
    extra = " and forward-over-reverse" if fwd_over_rev else ""
    return CheckResult(name, PASS, f"double backward{extra} = finite differences")


def hvp_func(s: Subject, call, args) -> tuple[Tensor, ...]:
    """H v through torch.func: grad of <grad(Σ w·f), v> (reverse over reverse)."""
    xs = s.diff_args(args)
    vs = _directions(xs)
    argnums = tuple(range(len(xs)))
    g = torch.func.grad(s.scalar(call, args), argnums=argnums)

    def gv(*xs):
        return sum((gi * vi).sum() for gi, vi in zip(g(*xs), vs))

    return torch.func.grad(gv, argnums=argnums)(*(x.detach() for x in xs))


def _directions(xs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    gen = torch.Generator().manual_seed(1)
    return tuple(torch.randn(x.shape, generator=gen, dtype=x.dtype).to(x.device) for x in xs)


def check_second_order(s: Subject, eps: float = 1e-6) -> CheckResult:
    """grad(grad(f)) through torch.func against central differences of the eager gradient.

    NOTE: under torch.func a backward marked ``@once_differentiable`` gives silent zero
    second derivatives instead of an error; differencing the first derivative exposes that.
    """
    name = "grad(grad) vs finite diff"
    args = s.args(grad=False)
    try:
        hv = hvp_func(s, s.call, args)
    except Exception as err:
        return CheckResult(name, FAIL, first_line(err), str(err))
    xs = s.diff_args(args)
    vs = _directions(xs)

    def grad_at(sign: float) -> tuple[Tensor, ...]:
        moved = list(s.args())
        for i, x, v in zip(s.diff, xs, vs):
            moved[i] = (x + sign * eps * v).requires_grad_()
        return s.grads(s.call, moved)

    plus, minus = grad_at(1.0), grad_at(-1.0)
    fd = tuple((p - m) / (2 * eps) for p, m in zip(plus, minus))
    diff = s.max_diff(hv, fd)
    if not all(s.close(a, b, scale=10.0) for a, b in zip(hv, fd)):
        zeros = all(not h.any() for h in hv) and any(f.abs().max() > 1e-6 for f in fd)
        hint = " (all zeros from torch.func: is backward @once_differentiable?)" if zeros else ""
        return CheckResult(name, FAIL, f"max |Hv - finite diff| = {diff:.3g}{hint}")
    return CheckResult(name, PASS, f"torch.func Hv = finite diff of grad (max err {diff:.1e})")
