"""What lets torchnn's modules stand in for ``torch.nn`` ones in other people's code.

- ``DeepNetwork``'s layers may be parametrized (``torch.nn.utils.parametrizations.weight_norm``,
  ``spectral_norm``), pruned (``torch.nn.utils.prune``) or hooked: then ``W^[l]`` is not the
  parameter the optimiser holds, or a hook changes what a layer computes. ``forward`` and
  ``cost`` then run the modules one by one, and ``backprop`` / ``gd_step`` take the same route
  through autograd (:func:`autograd_backprop`, :func:`autograd_gd_step`): the gradients are
  those of the actual parameters, and every hook fires.
- TorchScript (deprecated in PyTorch 2.13) cannot compile custom autograd Functions:
  :func:`refuse_torchscript` makes ``torch.jit.script`` say so at once, with the alternatives.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["layer_params", "autograd_backprop", "autograd_gd_step", "refuse_torchscript"]


def layer_params(layers: nn.ModuleList) -> list[Tensor | None]:
    """[W^[1], b^[1], ..., W^[L], b^[L]] where a layer's weight is no plain parameter.

    NOTE: a parametrized or pruned layer keeps its weight's parameters under other names
    (``parametrizations.weight.original``, ``weight_orig``); its first parameter stands in for W,
    for the checks of dtype and device only: such a layer never takes the Functions' fast path.
    """
    params: list[Tensor | None] = []
    for layer in layers:
        weight = layer._parameters.get("weight")
        params += [weight if weight is not None else next(layer.parameters()),
                   layer._parameters.get("bias")]
    return params


def autograd_backprop(net, x: Tensor, y: Tensor, check_values: bool) -> Tensor:
    """``net.backprop`` through the modules: J, and dJ/dθ added into every parameter's .grad by
    autograd over ``net.cost`` (the same Functions; hooks and parametrizations honoured)."""
    with torch.enable_grad():
        cost = net.cost(x, y, check_values)
        cost.backward()
    return cost.detach()


def autograd_gd_step(net, x: Tensor, y: Tensor, lr: float, check_values: bool) -> Tensor:
    """``net.gd_step`` through the modules: θ := θ - lr dJ/dθ for every parameter that requires
    grad (Algorithm 1.1), no .grad read or written; returns J before the update."""
    params = [p for p in net.parameters() if p.requires_grad]
    with torch.enable_grad():
        cost = net.cost(x, y, check_values)
        grads = torch.autograd.grad(cost, params, allow_unused=True)
    with torch.no_grad():
        for p, g in zip(params, grads):
            if g is not None:
                p.sub_(g, alpha=lr)
    return cost.detach()


def refuse_torchscript(self: nn.Module) -> nn.Module:
    """``__prepare_scriptable__``: ``torch.jit.script`` calls it on every module it compiles."""
    raise RuntimeError(
        f"torch.jit.script: {type(self).__name__} is a torchnn module, built on custom autograd "
        "Functions, which TorchScript (deprecated in PyTorch 2.13) cannot compile; expected "
        "torch.export.export("
        "model, (x,)) or torch.compile(model), or torch.jit.script(net.to_torch()) for a plain "
        "torch.nn copy")
