"""The seed's L-layer network (§2.5); chapter 1's logistic regression is in ``logistic.py``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import torch
from torch import Tensor, nn

from torchnn import _validate as V
from torchnn import functional as F
from torchnn.functional._autograd import any_autocast, call, transforms_active
from torchnn.functional.activations import ACTIVATIONS, get_activation
from torchnn.functional.checkpoint import DenseActivationPairFunction
from torchnn.functional.costs import OUTPUTS
from torchnn.functional.layer import DenseActivationFunction, DenseCrossEntropyFunction
from torchnn.functional.network import DenseNetworkFunction, DenseNetworkSoftmaxFunction
from torchnn.functional.softmax_layer import DenseSoftmaxCrossEntropyFunction, check_output_target
from torchnn.nn import backprop, descent_loop, dropin, interchange, routes
from torchnn.nn.activation import activation_module
from torchnn.nn.dense import Dense
from torchnn.nn.softmax import Softmax

__all__ = ["DeepNetwork"]

GRAPHS = ("network", "layers")  # what ``DeepNetwork.cost`` records: one node, or one per layer
# a classifier output's Functions: (the output layer with J, the whole network, J from Z^[L])
_REGRESSION: tuple[Any, Any, Any] = (None, None, None)  # no cost Function: mean squared error
_CLASSIFIERS: dict[str, tuple[Any, Any, Any]] = {
    "sigmoid": (DenseCrossEntropyFunction, DenseNetworkFunction,
                F.binary_cross_entropy_with_logits),
    "softmax": (DenseSoftmaxCrossEntropyFunction, DenseNetworkSoftmaxFunction, F.cross_entropy),
}


class DeepNetwork(nn.Module):
    r"""The seed's L-layer network: :math:`Z^{[l]} = A^{[l-1]} W^{[l]T} + b^{[l]}`,
    :math:`A^{[l]} = g^{[l]}(Z^{[l]})` (eqs. 2.3-2.4 on row batches), with hand-derived backward.

    Args:
        layer_dims: ``[n_x, n[1], ..., n[L]]``, the input size then each layer's units.
        hidden_activation: g for layers 1..L-1: ``"relu"``, ``"leaky_relu"``, ``"tanh"``,
            ``"sigmoid"`` or ``"identity"``.
        output_activation: g for layer L: ``"sigmoid"`` (binary classification, cross-entropy
            cost) or ``"identity"`` / ``"relu"`` (regression, squared-error cost; ReLU as the
            seed's house-price network, whose price is never negative), or ``"softmax"``
            (one class out of C = n[L] >= 2, categorical cross-entropy, dZ = A - Y; targets
            class indices (m,) int64 or class probabilities / one-hot rows (m, C)).
        negative_slope: the leaky ReLU slope (the seed's 0.01).
        init: weight initialisation: ``"small"`` (N(0, 1) * ``init_scale``), ``"he"``,
            ``"xavier"`` or ``"zeros"``, biases at zero (seed §2.4); or ``"linear"``, each
            layer drawn as ``nn.Linear`` draws it (W and b uniform, bit for bit).
        init_scale: the scale of ``"small"`` initialisation.
        generator: a ``torch.Generator`` for reproducible initialisation.
        recompute: activation checkpointing: keep A^[l] for even l only and rebuild the others
            in the backward (about half the activations kept, one more forward GEMM per dropped
            layer), in ``backprop`` / ``gd_step`` and in ``cost``'s graph (two hidden layers per
            ``DenseActivationPairFunction``).
        graph: the autograd graph ``cost`` records for a classifier: ``"network"``, the whole
            network and J as one ``DenseNetworkFunction`` node (its backward is eqs. 2.9-2.12
            for every layer, the explicit engine's loop), or ``"layers"``, one node per layer
            (``dense_activation`` for each hidden layer, ``dense_cross_entropy`` for the output
            layer with J). The same values, gradients and saved tensors; one node has one
            Function's Python bookkeeping a step instead of L. Module hooks, replaced modules,
            ``recompute``, autocast and regression take the per-layer graph either way.

    Shape:
        Input ``(m, n_x)``; output ``(m, n[L])``.

    Examples:
        >>> net = torchnn.DeepNetwork([2, 4, 1], hidden_activation="tanh")
        >>> x, y = torch.randn(400, 2), torch.randint(0, 2, (400, 1)).float()
        >>> cost = net.backprop(x, y)  # J, and every parameter's .grad filled
    """

    def __init__(
        self, layer_dims: Sequence[int], hidden_activation: str = "relu",
        output_activation: str = "sigmoid", negative_slope: float = 0.01, init: str = "small",
        init_scale: float = 0.01, generator: torch.Generator | None = None,
        device: torch.device | str | None = None, dtype: torch.dtype | None = None,
        recompute: bool = False, graph: str = "network",
    ) -> None:
        super().__init__()
        self.layer_dims = V.check_layer_dims(layer_dims)
        get_activation(hidden_activation, "hidden_activation")
        if output_activation not in OUTPUTS:
            raise ValueError(f"unknown output_activation {output_activation!r}; expected one of "
                             f"{list(OUTPUTS)}")
        if output_activation == "softmax" and self.layer_dims[-1] < 2:
            raise ValueError(f"a softmax output needs C >= 2 classes, got layer_dims[-1] = "
                             f"{self.layer_dims[-1]}; for one binary label use "
                             "output_activation='sigmoid'")
        self.hidden_activation = hidden_activation
        self.output_activation = output_activation
        self.negative_slope = float(negative_slope)
        self.layers = nn.ModuleList(
            Dense(n_in, n_out, init=init, init_scale=init_scale, generator=generator,
                  device=device, dtype=dtype)
            for n_in, n_out in zip(self.layer_dims[:-1], self.layer_dims[1:]))
        self.hidden = activation_module(hidden_activation, self.negative_slope)
        self.output = (Softmax() if output_activation == "softmax"
                       else activation_module(output_activation, self.negative_slope))
        self._seen = V.SeenData()  # the last (x, y) whose values passed the checks
        self._workspace = backprop.Workspace()  # gd_step's gradient buffers
        self.recompute = bool(recompute)
        self.graph = graph

    @property
    def graph(self) -> str:
        """The autograd graph ``cost`` records: ``"network"`` or ``"layers"`` (settable)."""
        return self._graph

    @graph.setter
    def graph(self, value: str) -> None:
        if value not in GRAPHS:
            raise ValueError(f"unknown graph {value!r}; expected one of {list(GRAPHS)}")
        self._graph = value

    @property
    def num_layers(self) -> int:
        """L, the number of layers (the input layer is layer 0 and is not counted)."""
        return len(self.layers)

    @property
    def is_classifier(self) -> bool:
        return OUTPUTS[self.output_activation].classifier

    # ------------------------------------------------------------------------------------------
    # checks: metadata every call, values once per data set
    # ------------------------------------------------------------------------------------------

    def _params(self) -> list[Tensor | None]:
        """[W^[1], b^[1], ..., W^[L], b^[L]] as the layers hold them now.

        NOTE: straight from each layer's ``_parameters`` dict: ``Module.__getattr__`` and
        ``ModuleList`` indexing cost more than a small network's step is worth.
        """
        try:
            return [p for layer in self._modules["layers"]._modules.values()  # type: ignore[union-attr]
                    for p in (layer._parameters["weight"], layer._parameters["bias"])]  # type: ignore[union-attr]
        except KeyError:  # a parametrized or pruned weight (see nn/dropin.py)
            return dropin.layer_params(self.layers)

    def _check(self, x: Tensor, y: Tensor | None, params: list) -> Tensor | None:
        """Metadata checks of x and y (every call); y back as a float (m, n[L]) tensor."""
        where = type(self).__name__
        V.check_parameters(params, where)
        V.check_input(x, self.layer_dims[0], params[0], where)
        if y is not None and self.output_activation == "softmax":  # indices, or probabilities
            return check_output_target(x, self.layer_dims[-1], y, where)
        if y is not None:
            return V.check_target(y, (x.shape[0], self.layer_dims[-1]), params[-2], where)
        return None

    def _check_values(self, x: Tensor, y: Tensor) -> bool:
        """Value checks of (x, y), once per data set; False where values can't be read now."""
        if torch.compiler.is_compiling() or transforms_active():
            return False  # reading values would break the graph / the transform
        if self._seen.hit(x, y):  # the usual case in a training loop: the same (x, y) again
            return True
        if not (isinstance(x, Tensor) and isinstance(y, Tensor)) or x.device.type == "meta":
            return False  # a wrong type is reported by the metadata checks
        self.validate_batch(x, y)
        self._seen.store(x, y)
        return True

    def validate_batch(self, x: Tensor, y: Tensor) -> None:
        """Every check on a batch, including those that read values (NaN / Inf, labels).

        ``cost``, ``backprop`` and ``gd_step`` call it once per data set (it reads values, so it
        is a sync on an accelerator and a graph break under ``torch.compile``); call it yourself
        to validate data up front. Raises TypeError / ValueError naming what was found and what
        was expected.
        """
        y = cast(Tensor, self._check(x, y, self._params()))
        task = ("multiclass" if self.output_activation == "softmax" else "binary"
                if self.is_classifier else "regression")
        V.validate_data(x, y, task, where=type(self).__name__, num_classes=self.layer_dims[-1])

    def _cost_check(self, x: Tensor, method: str):
        def check(cost: Tensor) -> None:  # one scalar read; the message only on failure
            if not math.isfinite(cost.item()):
                V.check_cost_finite(cost, x, f"{type(self).__name__}.{method}")

        return check

    # ------------------------------------------------------------------------------------------
    # forward and cost through the autograd Functions
    # ------------------------------------------------------------------------------------------

    # which route a call may take (see nn/routes.py)
    _plain = routes.plain
    _explicit = routes.explicit
    _fused = routes.fused

    def _hidden_layers(self, x: Tensor, params: list, plain: bool) -> Tensor:
        """A^[L-1] (eqs. 2.3-2.4 for layers 1..L-1) through the autograd Functions."""
        last, name, slope = len(self.layers) - 1, self.hidden_activation, self.negative_slope
        if not (plain and self._fused()):  # the modules one by one (hooks see every call)
            for layer in list(self.layers)[:last]:
                x = self.hidden(layer(x))
            return x
        l = 0
        while l < last:
            if self.recompute and l + 1 < last:  # two layers, the middle A^[l+1] rebuilt
                x = call(DenseActivationPairFunction, x, *params[2 * l:2 * l + 4], name, slope)
                l += 2
            else:  # A^[l+1] = g(A^[l] W^[l+1]ᵀ + b^[l+1]), one Function
                x = call(DenseActivationFunction, x, *params[2 * l:2 * l + 2], name, slope)
                l += 1
        return x

    def logits(self, x: Tensor) -> Tensor:
        """Z^[L], the last layer's linear output, computed through the autograd Functions."""
        params, plain = self._params(), self._plain()
        self._check(x, None, params)
        return self.layers[-1](self._hidden_layers(x, params, plain))

    def forward(self, x: Tensor) -> Tensor:
        """A^[L] = g^[L](Z^[L]) (eq. 2.4): probabilities for a classifier, values otherwise."""
        return self.output(self.logits(x))

    def cost(self, x: Tensor, y: Tensor, check_values: bool = True) -> Tensor:
        """J through the Functions: cross-entropy from Z^[L] (backward dZ = A - Y, eq. 2.9) for a
        sigmoid or softmax output, mean squared error otherwise.

        ``check_values``: validate the values of (x, y) once per data set (``validate_batch``)
        and raise FloatingPointError if J is not finite; skipped under ``torch.compile`` and
        ``torch.func``. On an accelerator the J check synchronises: pass ``False`` there.
        """
        params, plain = self._params(), self._plain()
        check_values = check_values and self._check_values(x, y)
        y = cast(Tensor, self._check(x, y, params))
        layer_fn, network_fn, cost_fn = _CLASSIFIERS.get(self.output_activation, _REGRESSION)
        target = y.to(x.dtype) if y.is_floating_point() else y  # class indices stay int64
        if not self.is_classifier or any_autocast():
            z = self.logits(x)
            cost = cost_fn(z, y) if self.is_classifier else F.mse_loss(self.output(z), y)
        elif (self.graph == "network" and plain and not self.recompute
              and (self.num_layers == 1 or self._fused())):  # eqs. 2.3-2.4, §1.2: one node
            cost = call(network_fn, x, target, self.hidden_activation, self.negative_slope,
                        *params)[0]
        else:  # a node per layer, the output layer with J (eqs. 2.3, §1.2; backward 2.9-2.12)
            a = self._hidden_layers(x, params, plain)
            if plain:
                cost = call(layer_fn, a, *params[-2:], target)
            else:
                cost = cost_fn(self.layers[-1](a), y)
        if check_values:
            V.check_cost_finite(cost, x, f"{type(self).__name__}.cost")
        return cost

    @torch.no_grad()
    def predict(self, x: Tensor, threshold: float = 0.5) -> Tensor:
        """Class labels 1[A^[L] > threshold] for a sigmoid output, the class arg max_c A^[L]_c
        (int64, shape (m,)) for a softmax output, A^[L] for regression."""
        a = self(x)
        if self.output_activation == "softmax":
            return a.argmax(-1)
        return (a > threshold).to(a.dtype) if self.is_classifier else a

    # ------------------------------------------------------------------------------------------
    # explicit backprop: eqs. 2.3-2.4 forward, 2.9-2.12 backward, no autograd graph
    # ------------------------------------------------------------------------------------------

    def _engine_args(self, x: Tensor, y: Tensor, check_values: bool, recompute: bool | None,
                     method: str) -> dict:
        """The explicit engine's arguments, checked (x, y) and all."""
        params = self._params()
        check = self._cost_check(x, method) if check_values and self._check_values(x, y) else None
        return {"params": params, "x": x, "y": self._check(x, y, params),
                "hidden": ACTIVATIONS[self.hidden_activation], "slope": self.negative_slope,
                "output": OUTPUTS[self.output_activation], "on_cost": check,
                "recompute": self.recompute if recompute is None else recompute}

    def backprop(
        self, x: Tensor, y: Tensor, check_values: bool = True, recompute: bool | None = None
    ) -> Tensor:
        """Return J and add dJ/dW^[l], dJ/db^[l] (eqs. 2.9-2.12) into every parameter's ``.grad``.

        Runs the seed's equations directly with no autograd graph (``torchnn.nn.backprop``);
        like ``.backward()`` it accumulates into existing gradients. Same values as
        ``cost(x, y).backward()``. ``check_values`` as in ``cost``: (x, y) once per data set,
        then one scalar read of J before any gradient is written. ``recompute`` overrides the
        network's setting for this call. With hooks, parametrized or pruned layers or replaced
        modules it runs ``cost(x, y).backward()`` instead (``recompute`` then has no effect).
        """
        if not self._explicit():  # the engine would bypass them: see nn/dropin.py
            return dropin.autograd_backprop(self, x, y, check_values)
        args = self._engine_args(x, y, check_values, recompute, "backprop")
        cost, grads = backprop.backprop(**args)
        backprop.accumulate(args["params"], grads)
        return cost

    def gd_step(self, x: Tensor, y: Tensor, lr: float, check_values: bool = True,
                recompute: bool | None = None, engine: str = "auto") -> Tensor:
        """One iteration of gradient descent (Algorithm 1.1) on J; returns J before the update.

        ``W^[l] := W^[l] - lr dW^[l]``, ``b^[l] := b^[l] - lr db^[l]`` (eqs. 2.9-2.12) in place;
        ``.grad`` is neither read nor written: ``backprop`` then ``torch.optim.SGD`` without
        momentum (to float rounding on the compiled engine). ``check_values``, ``recompute`` as in
        ``backprop``. ``engine``: ``"auto"`` the compiled kernel for a small CPU network (one
        iteration of ``gradient_descent``), ``"torch"`` the explicit engine, ``"compiled"`` the
        kernel or an error saying why it cannot run.

        Examples:
            >>> for _ in range(10_000):
            ...     J = net.gd_step(x, y, lr=1.2)
        """
        lr = V.check_learning_rate(lr, "gd_step")
        engine = descent_loop.check_engine(engine, self, f"{type(self).__name__}.gd_step")
        if not self._explicit():  # as backprop: autograd through the modules
            return dropin.autograd_gd_step(self, x, y, lr, check_values)
        args = self._engine_args(x, y, check_values, recompute, "gd_step")
        if engine != "torch":
            cost = descent_loop.compiled_step(self, args, lr, engine)
            if cost is not None:
                return cost
        return backprop.gd_step(lr=lr, workspace=self._workspace, **args)

    def gradient_descent(self, x: Tensor, y: Tensor, lr: float, iterations: int,
                         engine: str = "auto") -> Tensor:
        """Algorithm 1.1 with its loop: ``iterations`` calls' worth of ``gd_step``, in place;
        returns J of every iteration, float64 ``(iterations,)``. ``engine``: ``"torch"`` (the
        explicit engine, ``gd_step``'s), ``"compiled"`` (the loop in C for small CPU networks,
        ``torchnn/nn/compiled.py``; an error where it cannot run) or ``"auto"`` (compiled where
        it can run). See ``torchnn/nn/descent_loop.py``."""
        return descent_loop.gradient_descent(self, x, y, lr, iterations, engine)

    # ------------------------------------------------------------------------------------------
    # interchange with torch.nn
    # ------------------------------------------------------------------------------------------

    def to_torch(self) -> nn.Sequential:
        """An equivalent ``nn.Sequential`` of ``torch.nn`` layers holding copies of the weights."""
        return interchange.to_torch(self)

    @classmethod
    def from_torch(cls, seq: nn.Sequential, **kwargs) -> DeepNetwork:
        """Build a ``DeepNetwork`` from ``Linear, act, Linear, act, ..., Linear[, act]``."""
        return interchange.from_torch(cls, seq, **kwargs)

    __prepare_scriptable__ = dropin.refuse_torchscript  # a clear error from torch.jit.script

    def extra_repr(self) -> str:
        return (f"layer_dims={self.layer_dims}, hidden_activation={self.hidden_activation!r}, "
                f"output_activation={self.output_activation!r}"
                + ("" if self.graph == "network" else f", graph={self.graph!r}"))
