"""Which route a ``DeepNetwork`` call may take, decided from its modules.

The fast routes bypass the layer modules: the Functions of whole layers in ``cost`` and the
explicit engine in ``backprop`` / ``gd_step``. They compute what the modules would only when
nothing observes or replaces those modules, so each is taken only when these checks hold;
otherwise the network goes module by module (hooks see every call; see ``nn/dropin.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from torchnn.functional.layer import FUSED_ACTIVATIONS
from torchnn.nn.activation import MODULES, module_class
from torchnn.nn.dense import Dense

if TYPE_CHECKING:
    from torchnn.nn.network import DeepNetwork

__all__ = ["hooked", "plain", "explicit", "fused"]

_hooks = nn.modules.module  # the global module hooks live here
_MODULES = {cls.name: cls for cls in MODULES}  # activation name -> its module class


def hooked(module: nn.Module) -> bool:
    """Whether ``module`` has a forward or backward hook of its own."""
    return bool(module._forward_hooks or module._forward_pre_hooks or module._backward_hooks
                or module._backward_pre_hooks)


def plain(net: DeepNetwork) -> bool:
    """Whether the layers may be bypassed for the Functions: every layer an unhooked ``Dense``
    and no global module hook."""
    if (_hooks._global_forward_hooks or _hooks._global_forward_pre_hooks
            or _hooks._global_backward_hooks or _hooks._global_backward_pre_hooks):
        return False
    # NOTE: the dict itself: ModuleList's __iter__ costs more than the rest of the check
    return all(type(m) is Dense and not hooked(m)
               for m in net._modules["layers"]._modules.values())  # type: ignore[union-attr]


def explicit(net: DeepNetwork) -> bool:
    """Whether the explicit engine computes what ``cost`` does: plain layers, and each
    activation module ``cost`` calls unhooked and of its own type (a classifier's J comes from
    Z^[L], without the output module)."""
    hidden, output = net._modules["hidden"], net._modules["output"]
    return (plain(net) and type(hidden) is _MODULES[net.hidden_activation]
            and not hooked(hidden) and (net.is_classifier or (
                type(output) is _MODULES[net.output_activation] and not hooked(output))))


def fused(net: DeepNetwork) -> bool:
    """Whether hidden layers run as one Function each: g' read from A, and the hidden module
    unhooked and of its own type."""
    hidden = net._modules["hidden"]
    return (net.hidden_activation in FUSED_ACTIVATIONS and net.negative_slope >= 0
            and type(hidden) is module_class(net.hidden_activation) and not hooked(hidden))
