"""The PyTorch internals torchnn uses, each behind a function with a public fallback.

This is the one file of the library (outside ``bench/`` and ``testing/``) that reaches into
``torch._C``, ``torch._C._functorch`` or ``torch.autograd.forward_ad``'s private state. Every
use is an optimisation or a query with no public API; without the internal each function below
falls back to the public route, which is slower or more conservative but gives the same results.

It also holds the one helper that writes each autograd Function's twin (see :func:`twin`).
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
import torch.autograd.forward_ad as _forward_ad
from torch import Tensor
from torch.autograd import Function

__all__ = ["twin", "save", "call", "transforms_active", "is_wrapped", "any_autocast",
           "autocast_state", "autocast_replay", "add_all_", "view_base"]

try:  # torch 2.6-2.13
    from torch._C._functorch import is_legacy_batchedtensor as _is_legacy_batched
    from torch._C._functorch import maybe_get_level as _functorch_level
    from torch._C._functorch import peek_interpreter_stack as _interpreter_stack
    from torch._C._functorch import unwrap_if_dead as _unwrap_if_dead
except ImportError:  # pragma: no cover - a torch without them takes the public routes
    _interpreter_stack = _functorch_level = _is_legacy_batched = _unwrap_if_dead = None  # type: ignore[assignment]

_HAS_DUAL_LEVEL = isinstance(getattr(_forward_ad, "_current_level", None), int)
_AUTOCAST_DEVICES = ("cpu", "cuda", "xpu", "mps", "hpu", "xla", "mtia")


# ----------------------------------------------------------------------------------------------
# queries
# ----------------------------------------------------------------------------------------------


def transforms_active() -> bool:
    """Whether a torch.func transform (vmap, grad, jacrev, ...) is running now.

    Fallback: True, so callers take the path that is correct under a transform.
    """
    return True if _interpreter_stack is None else _interpreter_stack() is not None


def is_wrapped(t: Tensor) -> bool:
    """Whether ``t`` is a torch.func wrapper or a legacy batched tensor (gradcheck's batched
    grad check vmaps backward with those; they report no transform as running)."""
    if _functorch_level is None:
        return True
    return _functorch_level(t) != -1 or _is_legacy_batched(t)


def any_autocast() -> bool:
    """Whether autocast is enabled for any device type (one query in the usual case)."""
    is_any = getattr(torch._C, "_is_any_autocast_enabled", None)
    if is_any is not None:
        return is_any()
    return any(torch.is_autocast_enabled(d) for d in ("cpu", "cuda"))  # pragma: no cover


def _in_dual_level() -> bool:
    """Whether a ``forward_ad.dual_level`` is open (only then can a dual tensor exist).

    Fallback: True, so eager calls always take the class with ``jvp``.
    """
    return not _HAS_DUAL_LEVEL or _forward_ad._current_level >= 0


def view_base(t: Tensor) -> Tensor | None:
    """The tensor ``t`` is a view of (``Tensor._base``), or None: an in-place op on a view of a
    leaf that requires grad is refused before it writes, as PyTorch refuses it.

    Fallback: None, so only a leaf itself is refused up front (Function.apply still refuses a
    view of one, after the forward has run).
    """
    return getattr(t, "_base", None)


def add_all_(tensors: list[Tensor], others: list[Tensor], alpha: float) -> None:
    """``t.add_(o, alpha=alpha)`` for each pair, as one multi-tensor call where torch has it
    (``torch.optim``'s ``_foreach`` ops: one dispatch instead of one per parameter)."""
    foreach = getattr(torch, "_foreach_add_", None)
    if foreach is not None:  # (mixed dtypes take its per-tensor path, with type promotion)
        foreach(tensors, others, alpha=alpha)
        return
    for t, o in zip(tensors, others):
        t.add_(o, alpha=alpha)


# ----------------------------------------------------------------------------------------------
# a Function's twin: with jvp for eager code, without it for torch.compile
# ----------------------------------------------------------------------------------------------


def twin(cls: type[Function]) -> type[Function]:
    """Give the Function ``cls`` an eager twin, ``cls.eager``, that adds forward-mode AD.

    ``cls`` defines ``forward``, ``setup_context``, ``backward`` and ``tangent`` (the jvp
    rule, under another name) and saves its tensors with :func:`save`.

    NOTE: Dynamo cannot trace a Function that defines ``jvp`` (a graph break on torch 2.13) and
    forward-mode AD needs one, so each Function exists twice: ``cls`` itself (no ``jvp``) is
    what compiled code and plain eager calls run; ``cls.eager`` (``jvp = tangent``, tensors
    saved for forward too) runs under torch.func transforms and inside a dual level.
    """

    def setup_context(ctx, inputs, output):
        ctx.for_forward = True  # read by save(): save_for_forward as well
        return cls.setup_context(ctx, inputs, output)

    eager = type(f"{cls.__name__}WithJvp", (cls,), {
        "__module__": cls.__module__, "__doc__": cls.__doc__,
        "setup_context": staticmethod(setup_context), "jvp": cls.__dict__["tangent"]})
    cls.eager = eager  # type: ignore[attr-defined]
    return cls


def save(ctx, *tensors: Tensor | None) -> None:
    """``ctx.save_for_backward(*tensors)``, and ``save_for_forward`` in an eager twin."""
    ctx.save_for_backward(*tensors)
    if getattr(ctx, "for_forward", False):
        ctx.save_for_forward(*tensors)


def call(cls: type[Function], *args):
    """Run the twin Function ``cls`` (see :func:`twin`) on positional ``args``.

    NOTE: for a Function with ``setup_context``, the public ``Function.apply`` runs
    ``inspect.signature`` on ``forward`` every call to bind default arguments, most of a small
    layer's Python cost. Our forwards take every argument positionally, so in eager code with no
    transform running we call the C++ ``_FunctionBase.apply`` that ``Function.apply`` ends in,
    doing the rest of what it does there (unwrapping dead functorch wrappers). Fallback: the
    public ``apply``.
    """
    if torch.compiler.is_compiling():
        return cls.apply(*args)
    if _unwrap_if_dead is None or transforms_active():
        return cls.eager.apply(*args)  # type: ignore[attr-defined]
    fn: Any = cls.eager if _in_dual_level() else cls  # type: ignore[attr-defined]
    return super(Function, fn).apply(
        *[_unwrap_if_dead(a) if isinstance(a, Tensor) else a for a in args])


# ----------------------------------------------------------------------------------------------
# autocast: the forward's state replayed in backward
# ----------------------------------------------------------------------------------------------


def autocast_state(t: Tensor) -> tuple[str, bool, torch.dtype] | None:
    """The autocast state of ``t``'s device now (device type, enabled, dtype), or None when no
    autocast is enabled anywhere (the usual case).

    NOTE: ``torch.amp.custom_fwd`` does not work with the setup_context style (pytorch#132388),
    so the Functions record the state on ctx themselves and replay it with ``autocast_replay``.
    """
    if not any_autocast() or t.device.type not in _AUTOCAST_DEVICES:
        return None
    device = t.device.type
    return device, torch.is_autocast_enabled(device), torch.get_autocast_dtype(device)


def autocast_replay(state: tuple[str, bool, torch.dtype | None] | None, grad: Tensor):
    """A context manager that restores the forward's autocast ``state`` in backward: off if it
    was off, whatever autocast region the backward itself runs in."""
    if state is None:
        if not any_autocast():
            return contextlib.nullcontext()
        state = (grad.device.type, False, None)
    device, enabled, dtype = state
    if not enabled and (device not in _AUTOCAST_DEVICES or not torch.is_autocast_enabled(device)):
        return contextlib.nullcontext()
    return torch.autocast(device, dtype=dtype, enabled=enabled)
