"""``DeepNetwork.gradient_descent``: Algorithm 1.1 with its loop, on one engine or the other.

The torch engine runs ``backprop.gd_step`` ``iterations`` times, exactly what calling
``net.gd_step`` in a loop does (the checks once, not per call). The compiled engine
(``torchnn.nn.compiled``) runs the same equations as one C loop for small networks on the CPU.
This function is the seam between them: ``engine="auto"`` takes the compiled loop wherever it
can run and the torch engine silently otherwise; ``"torch"`` and ``"compiled"`` force one.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

import torch
from torch import Tensor

from torchnn import _validate as V
from torchnn.nn import backprop as engine
from torchnn.nn import compiled

if TYPE_CHECKING:
    from torchnn.nn.network import DeepNetwork

__all__ = ["ENGINES", "check_engine", "gradient_descent", "compiled_step"]

ENGINES = ("auto", "torch", "compiled")


def _check_iterations(iterations: object, where: str) -> int:
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"{where}: iterations must be an int >= 0, got {iterations!r}")
    return iterations


def check_engine(engine: object, net: DeepNetwork, where: str) -> str:
    """``engine`` if it is one of ``ENGINES``; ``"compiled"`` only where the layers are the
    engine's (hooks, parametrized layers and replaced modules run through autograd)."""
    if engine not in ENGINES:
        raise ValueError(f"{where}: unknown engine {engine!r}; expected one of {list(ENGINES)}")
    if engine == "compiled" and not net._explicit():  # see nn/dropin.py
        raise RuntimeError(f"{where}: engine='compiled' cannot run: the network has hooks, "
                           "parametrized layers or replaced modules; use engine='torch'")
    return cast(str, engine)


def gradient_descent(net: DeepNetwork, x: Tensor, y: Tensor, lr: float, iterations: int,
                     engine_name: str = "auto") -> Tensor:
    """``iterations`` of Algorithm 1.1 on ``net`` in place; J of every iteration, float64."""
    where = f"{type(net).__name__}.gradient_descent"
    lr = V.check_learning_rate(lr, where)
    iterations = _check_iterations(iterations, where)
    engine_name = check_engine(engine_name, net, where)
    if not net._explicit():  # hooks, parametrized layers, replaced modules: see nn/dropin.py
        return torch.tensor([net.gd_step(x, y, lr).item() for _ in range(iterations)],
                            dtype=torch.float64)
    args = net._engine_args(x, y, True, None, "gradient_descent")  # all checks, once
    reason = "engine='torch'" if engine_name == "torch" else _unsupported(net, args)
    if reason is None:
        return _compiled(net, args, lr, iterations, where)
    if engine_name == "compiled":
        raise RuntimeError(f"{where}: engine='compiled' cannot run: {reason}")
    values: list[float] = []

    def record(cost: Tensor) -> None:  # J kept, and checked as gd_step checks it
        values.append(cost.item())
        if not math.isfinite(values[-1]):
            V.check_cost_finite(cost, x, where)

    args["on_cost"] = record
    for _ in range(iterations):
        engine.gd_step(lr=lr, workspace=net._workspace, **args)
    return torch.tensor(values, dtype=torch.float64)


def compiled_step(net: DeepNetwork, args: dict, lr: float, engine_name: str) -> Tensor | None:
    """``gd_step``'s one iteration on the compiled kernel where it runs, else ``None`` (an
    error for ``engine_name="compiled"``).

    Only with the value checks on (``args["on_cost"]``: J is checked, and a non-finite J stops
    before its update, as the torch engine raises before it).
    """
    where = f"{type(net).__name__}.gd_step"
    reason = ("check_values=False: the kernel always checks J" if args["on_cost"] is None
              else _unsupported(net, args))
    if reason is not None:
        if engine_name == "compiled":
            raise RuntimeError(f"{where}: engine='compiled' cannot run: {reason}")
        return None
    cost = _compiled(net, args, lr, 1, where)[0]
    return cost.to(args["x"].dtype)  # J before the update, as the torch engine returns it


def _unsupported(net: DeepNetwork, args: dict) -> str | None:
    """Why the compiled kernel cannot run the engine call ``args``, or None where it can."""
    if args["recompute"]:
        return "recompute=True: the kernel keeps every activation"
    return compiled.unsupported(args["params"], args["x"], args["y"], net.hidden_activation,
                                net.negative_slope, net.output_activation)


def _compiled(net: DeepNetwork, args: dict, lr: float, iterations: int, where: str) -> Tensor:
    """``iterations`` on the compiled kernel: J of each, float64; a J that is not finite raises
    the torch engine's error (that iteration stopped before its update)."""
    x = args["x"]
    costs, done = compiled.gradient_descent(
        cast("list[Tensor]", args["params"]), x, cast(Tensor, args["y"]), net.hidden_activation,
        net.negative_slope, net.output_activation, lr, iterations)
    if done < iterations:
        V.check_cost_finite(costs[done], x, where)
    return costs
