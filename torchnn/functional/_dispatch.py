"""Which autograd Function class a call gets: eager (with forward-mode AD) or compiled."""

from __future__ import annotations

import contextlib

import torch
import torch.autograd.forward_ad as _forward_ad
from torch import Tensor
from torch.autograd import Function

try:  # NOTE: a PyTorch internal (torch 2.6-2.13); without it every call takes Function.apply
    from torch._C._functorch import unwrap_if_dead
except ImportError:  # pragma: no cover
    unwrap_if_dead = None

# NOTE: a PyTorch internal too (torch 2.6-2.13: -1 outside ``forward_ad.dual_level``); without it
# eager calls always take the class with ``jvp``
_HAS_DUAL_LEVEL = isinstance(getattr(_forward_ad, "_current_level", None), int)

__all__ = ["pick", "apply", "autocast_state", "maybe_autocast"]


def pick(eager: type[Function], compiled: type[Function]) -> type[Function]:
    """Return ``compiled`` while Dynamo traces, ``eager`` otherwise.

    NOTE: Dynamo cannot trace a Function that defines ``jvp`` (a graph break on torch 2.13), and
    forward-mode AD needs one. The two classes share forward, setup_context and backward; only
    the eager one adds ``jvp``, so eager code has forward-mode AD and compiled code whole graphs.
    """
    return compiled if torch.compiler.is_compiling() else eager


def apply(eager: type[Function], compiled: type[Function], *args,
          plain: type[Function] | None = None):
    """``pick(eager, compiled).apply(*args)``, in eager code without ``Function.apply``'s binding.

    NOTE: for a Function with ``setup_context``, ``Function.apply`` runs ``inspect.signature``
    on ``forward`` every call to fill in default arguments: ~20 µs of a dense layer's ~30 µs
    overhead, more than a small layer's arithmetic. Our forwards have no defaults and every
    caller passes all arguments positionally, so in eager code with no torch.func transform
    active we go straight to the C++ ``_FunctionBase.apply``, doing the rest of what
    ``Function.apply`` does there (unwrapping dead functorch wrappers). Under Dynamo and under
    torch.func transforms the public ``apply`` runs, as before.

    Outside a ``forward_ad.dual_level`` (where no dual tensor can exist) eager code takes the
    class without ``jvp`` too: its ``setup_context`` skips ``save_for_forward``; or ``plain``
    where given, an old-style class for that case alone (it may save what its forward computed
    without returning it).
    """
    if torch.compiler.is_compiling():
        return compiled.apply(*args)
    if unwrap_if_dead is None or torch._C._are_functorch_transforms_active():
        return eager.apply(*args)
    # NOTE: ``unwrap_dead_wrappers``'s loop without its generator (~1.0 -> ~0.5 µs a call)
    cls = eager
    if _HAS_DUAL_LEVEL and _forward_ad._current_level < 0:
        cls = compiled if plain is None else plain
    return super(Function, cls).apply(
        *[unwrap_if_dead(a) if isinstance(a, Tensor) else a for a in args])


_AUTOCAST_DEVICES = ("cpu", "cuda", "xpu", "mps", "hpu", "xla", "mtia")
_NO_AUTOCAST = contextlib.nullcontext()  # stateless, so one instance serves every call


def autocast_state(tensor: Tensor) -> tuple[str, bool, torch.dtype] | None:
    """The autocast state of ``tensor``'s device now, to be replayed in backward: (device type,
    enabled, dtype), or None when no autocast is enabled at all (the usual case: one query).

    NOTE: ``torch.amp.custom_fwd`` does not work with the setup_context style (pytorch#132388),
    so the Functions record the state on ctx themselves.
    """
    if not torch._C._is_any_autocast_enabled():
        return None
    device_type = tensor.device.type
    if device_type not in _AUTOCAST_DEVICES:
        return None
    enabled = torch.is_autocast_enabled(device_type)
    return device_type, enabled, torch.get_autocast_dtype(device_type)


def maybe_autocast(state: tuple[str, bool, torch.dtype] | None, grad: Tensor):
    """A context manager that restores the forward's autocast ``state`` (``autocast_state``)
    during backward: off if it was off, whatever autocast region the backward runs in."""
    if state is None:
        if not torch._C._is_any_autocast_enabled():
            return _NO_AUTOCAST  # NOTE: torch.autocast(...) costs ~3 µs to enter
        state = (grad.device.type, False, None)
    device_type, enabled, dtype = state
    if not enabled and (device_type not in _AUTOCAST_DEVICES
                        or not torch.is_autocast_enabled(device_type)):
        return _NO_AUTOCAST
    return torch.autocast(device_type, dtype=dtype, enabled=enabled)
