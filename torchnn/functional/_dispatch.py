"""Which autograd Function class a call gets: eager (with forward-mode AD) or compiled."""

from __future__ import annotations

import contextlib

import torch
from torch.autograd import Function

try:  # NOTE: a PyTorch internal (torch 2.4-2.13); without it every call takes Function.apply
    from torch._functorch.utils import unwrap_dead_wrappers
except ImportError:  # pragma: no cover
    unwrap_dead_wrappers = None

__all__ = ["pick", "apply", "autocast_state", "maybe_autocast"]


def pick(eager: type[Function], compiled: type[Function]) -> type[Function]:
    """Return ``compiled`` while Dynamo traces, ``eager`` otherwise.

    NOTE: Dynamo cannot trace a Function that defines ``jvp`` (a graph break on torch 2.13), and
    forward-mode AD needs one. The two classes share forward, setup_context and backward; only
    the eager one adds ``jvp``, so eager code has forward-mode AD and compiled code whole graphs.
    """
    return compiled if torch.compiler.is_compiling() else eager


def apply(eager: type[Function], compiled: type[Function], *args):
    """``pick(eager, compiled).apply(*args)``, in eager code without ``Function.apply``'s binding.

    NOTE: for a Function with ``setup_context``, ``Function.apply`` runs ``inspect.signature``
    on ``forward`` every call to fill in default arguments: ~20 µs of a dense layer's ~30 µs
    overhead, more than a small layer's arithmetic. Our forwards have no defaults and every
    caller passes all arguments positionally, so in eager code with no torch.func transform
    active we go straight to the C++ ``_FunctionBase.apply``, doing the rest of what
    ``Function.apply`` does there (unwrapping dead functorch wrappers). Under Dynamo and under
    torch.func transforms the public ``apply`` runs, as before.
    """
    if torch.compiler.is_compiling():
        return compiled.apply(*args)
    if unwrap_dead_wrappers is None or torch._C._are_functorch_transforms_active():
        return eager.apply(*args)
    return super(Function, eager).apply(*unwrap_dead_wrappers(args))


def autocast_state(device_type: str) -> tuple[bool, torch.dtype]:
    """The autocast state of ``device_type`` now, to be replayed in backward.

    NOTE: ``torch.amp.custom_fwd`` does not work with the setup_context style (pytorch#132388),
    so the Functions record the state on ctx themselves.
    """
    if device_type not in ("cpu", "cuda", "xpu", "mps", "hpu", "xla", "mtia"):
        return False, torch.get_autocast_dtype("cpu")
    return torch.is_autocast_enabled(device_type), torch.get_autocast_dtype(device_type)


def maybe_autocast(device_type: str, state: tuple[bool, torch.dtype]):
    """A context manager that restores the forward's autocast ``state`` during backward."""
    enabled, dtype = state
    if not enabled and not torch.is_autocast_enabled(device_type):
        return contextlib.nullcontext()  # NOTE: torch.autocast(...) costs ~3 µs to enter
    return torch.autocast(device_type, dtype=dtype, enabled=enabled)
