"""Which autograd Function class a call gets: eager (with forward-mode AD) or compiled."""

from __future__ import annotations

import torch
from torch.autograd import Function

__all__ = ["pick", "autocast_state", "maybe_autocast"]


def pick(eager: type[Function], compiled: type[Function]) -> type[Function]:
    """Return ``compiled`` while Dynamo traces, ``eager`` otherwise.

    NOTE: Dynamo cannot trace a Function that defines ``jvp`` (a graph break on torch 2.13), and
    forward-mode AD needs one. The two classes share forward, setup_context and backward; only
    the eager one adds ``jvp``, so eager code has forward-mode AD and compiled code whole graphs.
    """
    return compiled if torch.compiler.is_compiling() else eager


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
    return torch.autocast(device_type, dtype=dtype, enabled=enabled)
