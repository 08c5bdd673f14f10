"""What ``check_function`` checks: a callable, its example inputs and optional reference."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import Tensor
from torch.autograd import Function

__all__ = ["Subject", "is_function_class", "defines_jvp", "as_tuple", "first_line"]


def is_function_class(fn: Any) -> bool:
    """True for a ``torch.autograd.Function`` subclass (called through ``.apply``)."""
    return isinstance(fn, type) and issubclass(fn, Function)


def defines_jvp(cls: type[Function]) -> bool:
    """Does this Function class define forward-mode AD (a ``jvp`` staticmethod of its own)?"""
    return getattr(cls, "jvp", Function.jvp) is not Function.jvp


def as_tuple(out: Any) -> tuple[Tensor, ...]:
    """A Function's output(s) as a tuple of tensors (non-tensor outputs dropped)."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return tuple(o for o in outs if isinstance(o, Tensor))


def first_line(err: BaseException, limit: int = 160) -> str:
    """A one-line reason from an exception (its first non-empty line, shortened)."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    head = lines[0] if lines else ""
    if head.endswith(":") and len(lines) > 1:  # "backend=... raised:" then the real error
        head = lines[1]
    text = f"{type(err).__name__}: {head}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Subject:
    """A callable under test with its example inputs.

    Attributes:
        name: printed in the report.
        call: what is called: ``fn.apply`` for a Function class, ``fn`` otherwise.
        fn_cls: the Function class, or ``None`` for a plain callable.
        inputs: the example inputs as given (tensors and any other arguments).
        diff: positions of the differentiable inputs (floating-point tensors by default).
        reference: the reference callable (``.apply`` already taken), or ``None``.
    """

    name: str
    call: Callable[..., Any]
    fn_cls: type[Function] | None
    inputs: tuple[Any, ...]
    diff: tuple[int, ...]
    reference: Callable[..., Any] | None
    atol: float
    rtol: float

    @classmethod
    def make(
        cls,
        fn: Any,
        inputs: Sequence[Any],
        reference: Any,
        grad_inputs: Sequence[int] | None,
        atol: float,
        rtol: float,
    ) -> Subject:
        if not callable(fn):
            raise TypeError(f"check_function: fn must be callable, got {type(fn).__name__}")
        fn_cls = fn if is_function_class(fn) else None
        call = fn.apply if fn_cls is not None else fn
        ref = reference.apply if is_function_class(reference) else reference
        floats = tuple(
            i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.is_floating_point()
        )
        diff = tuple(grad_inputs) if grad_inputs is not None else floats
        bad = [i for i in diff if i not in floats]
        if bad or not diff:
            raise ValueError(
                f"check_function: grad_inputs must name floating-point tensor inputs among "
                f"positions {list(floats)}, got {list(diff)}"
            )
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
        return cls(name, call, fn_cls, tuple(inputs), diff, ref, atol, rtol)

    # ------------------------------------------------------------------------------------------
    # inputs and calls
    # ------------------------------------------------------------------------------------------

    def args(self, dtype: torch.dtype | None = torch.float64, grad: bool = True) -> list[Any]:
        """The inputs, floating tensors cast to ``dtype`` (kept if None), fresh leaves."""
        args = list(self.inputs)
        for i, t in enumerate(args):
            if isinstance(t, Tensor) and t.is_floating_point():
                t = t.detach().to(dtype or t.dtype).clone()
                args[i] = t.requires_grad_(grad and i in self.diff)
        return args

    def diff_args(self, args: Sequence[Any]) -> tuple[Tensor, ...]:
        return tuple(args[i] for i in self.diff)

    def over_diff(self, call: Callable[..., Any], base: Sequence[Any]) -> Callable[..., Any]:
        """``call`` as a function of the differentiable inputs only (the rest from ``base``)."""

        def f(*xs: Tensor) -> Any:
            args = list(base)
            for i, x in zip(self.diff, xs):
                args[i] = x
            return call(*args)

        return f

    def cotangents(self, outs: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """Fixed random weights, one per output, so that Σ w·out is a generic scalar."""
        gen = torch.Generator().manual_seed(0)
        return tuple(
            torch.randn(o.shape, generator=gen, dtype=torch.float64).to(o.device, o.dtype)
            for o in outs
        )

    def scalar(self, call: Callable[..., Any], base: Sequence[Any]) -> Callable[..., Tensor]:
        """Σ w·call(...) over the outputs, as a function of the differentiable inputs."""
        f = self.over_diff(call, base)
        cots = self.cotangents(as_tuple(call(*base)))

        def s(*xs: Tensor) -> Tensor:
            outs = as_tuple(f(*xs))
            return cast(Tensor, sum((o * c.to(o.dtype)).sum() for o, c in zip(outs, cots)))

        return s

    def grads(self, call: Callable[..., Any], args: Sequence[Any]) -> tuple[Tensor, ...]:
        """First derivatives of ``scalar`` by eager autograd (None filled with zeros)."""
        xs = self.diff_args(args)
        g = torch.autograd.grad(self.scalar(call, args)(*xs), xs, allow_unused=True)
        return tuple(torch.zeros_like(x) if gi is None else gi for gi, x in zip(g, xs))

    def close(self, a: Tensor, b: Tensor, scale: float = 1.0) -> bool:
        return a.shape == b.shape and torch.allclose(
            a.double(), b.double(), atol=self.atol * scale, rtol=self.rtol * scale
        )

    @staticmethod
    def max_diff(xs: Sequence[Tensor], ys: Sequence[Tensor]) -> float:
        diffs = [
            (x.double() - y.double()).abs().max().item() if x.shape == y.shape else float("inf")
            for x, y in zip(xs, ys)
            if x.numel()
        ]
        return max(diffs, default=0.0)
