"""The seed's L-layer network (§2.5) and chapter 1's logistic regression."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from torchnn import _validate as V
from torchnn import functional as F
from torchnn.functional.checkpoint import apply_dense_activation_pair
from torchnn.functional.dense import apply_dense
from torchnn.functional.layer import apply_dense_activation, apply_dense_cross_entropy
from torchnn.functional.network import apply_dense_network
from torchnn.nn.activation import ACTIVATIONS, LeakyReLU, ReLU, Sigmoid, Tanh, get_activation
from torchnn.nn.dense import Dense
from torchnn.nn.explicit import explicit_step, gd_step_fast

__all__ = ["DeepNetwork", "LogisticRegression"]

_functorch_active = torch._C._functorch.peek_interpreter_stack  # not None inside vmap / grad

OUTPUT_ACTIVATIONS = ("sigmoid", "identity", "relu")
GRAPHS = ("layers", "network")  # what ``DeepNetwork.cost`` records: a node per layer, or one

# the activation module type a hidden layer must have to run fused with its Dense
_FUSED = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": LeakyReLU}
_module_hooks = nn.modules.module


def _hooked(module: nn.Module) -> bool:
    return bool(module._forward_hooks or module._forward_pre_hooks or module._backward_hooks
                or module._backward_pre_hooks)


def _global_hooks() -> bool:
    """``nn.modules.module.register_module_forward_hook`` and friends, set for every module."""
    return bool(_module_hooks._global_forward_hooks or _module_hooks._global_forward_pre_hooks
                or _module_hooks._global_backward_hooks
                or _module_hooks._global_backward_pre_hooks)


def _check_layer_dims(layer_dims: Sequence[int]) -> list[int]:
    dims = list(layer_dims) if isinstance(layer_dims, (list, tuple)) else None
    if dims is None or len(dims) < 2:
        raise ValueError(
            f"layer_dims must list at least two sizes [n_x, ..., n[L]], got {layer_dims!r}"
        )
    for i, n in enumerate(dims):
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise ValueError(
                f"layer_dims[{i}] must be a positive int, got {n!r} (layer_dims={dims})"
            )
    return dims


class DeepNetwork(nn.Module):
    r"""The seed's L-layer network: :math:`Z^{[l]} = A^{[l-1]} W^{[l]T} + b^{[l]}`,
    :math:`A^{[l]} = g^{[l]}(Z^{[l]})` (eqs. 2.3-2.4 on row batches), with hand-derived backward.

    Args:
        layer_dims: ``[n_x, n[1], ..., n[L]]``, the input size then each layer's units.
        hidden_activation: g for layers 1..L-1: ``"relu"``, ``"leaky_relu"``, ``"tanh"``,
            ``"sigmoid"`` or ``"identity"``.
        output_activation: g for layer L: ``"sigmoid"`` (binary classification, cross-entropy
            cost) or ``"identity"`` / ``"relu"`` (regression, squared-error cost; ReLU as the
            seed's house-price network, whose price is never negative).
        negative_slope: the leaky ReLU slope (the seed's 0.01).
        init: weight initialisation: ``"small"`` (N(0, 1) * ``init_scale``), ``"he"``,
            ``"xavier"`` or ``"zeros"``; biases start at zero (seed §2.4).
        init_scale: the scale of ``"small"`` initialisation.
        generator: a ``torch.Generator`` for reproducible initialisation.
        recompute: activation checkpointing: keep A^[l] for even l only and recompute the
            others in the backward (about half the activations kept for backward for one extra
            forward GEMM per dropped layer). ``backprop`` / ``gd_step`` rebuild each dropped
            layer in blocks of rows (see ``torchnn.nn.explicit``); ``cost`` / ``logits`` run
            two hidden layers per ``DenseActivationPairFunction``, whose graph keeps the
            pair's input and output only.
        graph: the autograd graph ``cost`` records for a classifier: ``"layers"``, one node per
            layer (``dense_activation`` for each hidden layer, ``dense_cross_entropy`` for the
            output layer with J), or ``"network"``, the whole network and J as one
            ``DenseNetworkFunction`` node (the same values, gradients and saved tensors, one
            Function's Python bookkeeping a step instead of L). Module hooks, replaced modules,
            ``recompute``, autocast and regression take the per-layer graph either way.

    Shape:
        Input ``(m, n_x)``; output ``(m, n[L])``.

    Examples:
        >>> net = torchnn.DeepNetwork([2, 4, 1], hidden_activation="tanh")
        >>> x, y = torch.randn(400, 2), torch.randint(0, 2, (400, 1)).float()
        >>> cost = net.backprop(x, y)  # J, and every parameter's .grad filled
    """

    def __init__(
        self,
        layer_dims: Sequence[int],
        hidden_activation: str = "relu",
        output_activation: str = "sigmoid",
        negative_slope: float = 0.01,
        init: str = "small",
        init_scale: float = 0.01,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        recompute: bool = False,
        graph: str = "layers",
    ) -> None:
        super().__init__()
        self.layer_dims = _check_layer_dims(layer_dims)
        get_activation(hidden_activation, "hidden_activation")
        if output_activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"unknown output_activation {output_activation!r}; expected one of "
                f"{list(OUTPUT_ACTIVATIONS)}"
            )
        self.hidden_activation = hidden_activation
        self.output_activation = output_activation
        self.negative_slope = float(negative_slope)
        self.layers = nn.ModuleList(
            Dense(n_in, n_out, init=init, init_scale=init_scale, generator=generator,
                  device=device, dtype=dtype)
            for n_in, n_out in zip(self.layer_dims[:-1], self.layer_dims[1:])
        )
        self.hidden = ACTIVATIONS[hidden_activation].module(self.negative_slope)
        self.output = ACTIVATIONS[output_activation].module(self.negative_slope)
        self._seen = V.SeenData()  # the last (x, y) whose values passed the checks
        self.recompute = bool(recompute)  # checkpoint activations in backprop / gd_step
        self.graph = graph  # "network": cost() as one DenseNetworkFunction node (checked)

    # ------------------------------------------------------------------------------------------
    # forward and cost through the autograd Functions
    # ------------------------------------------------------------------------------------------

    @property
    def graph(self) -> str:
        """The autograd graph ``cost`` records: ``"layers"`` or ``"network"`` (settable)."""
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
        return self.output_activation == "sigmoid"

    def _weight(self, l: int) -> Tensor:
        """W^[l+1] (0-based ``l``, -1 for the last) by plain dict lookups.

        NOTE: ``self.layers[l].weight`` goes through ModuleList indexing and two
        ``nn.Module.__getattr__`` calls, about 2.8 µs here; the checks run every step.
        """
        modules = self._modules["layers"]._modules
        return modules[str(l % len(modules))]._parameters["weight"]

    def _check_input(self, x: Tensor) -> None:
        """Metadata checks on x (type, dtype, shape, device: no values read, every call)."""
        w = self._weight(0)
        # NOTE: one expression for the usual case (about 1 µs); the messages are built below.
        # Two CPU tensors skip ``x.device == w.device``: each ``.device`` builds a new object
        # (~1 µs of a ~60 µs step on the seed's 2-4-1 network)
        if (
            isinstance(x, Tensor) and x.is_floating_point() and x.dim() == 2
            and x.shape[1] == self.layer_dims[0] and x.shape[0] > 0
            and ((x.is_cpu and w.is_cpu) or x.device == w.device)
            and (x.dtype == w.dtype or torch.is_autocast_enabled(x.device.type))
        ):
            return
        where = type(self).__name__
        V.check_tensor(x, "input x", where)
        if not x.is_floating_point():
            raise TypeError(
                f"{where}: input x has dtype {x.dtype}; expected a floating-point tensor "
                f"(the parameters are {w.dtype}): call x.to({w.dtype})"
            )
        n_x = self.layer_dims[0]
        if x.dim() != 2 or x.shape[1] != n_x:
            got = f"{x.shape[-1]} features" if x.dim() == 2 else f"{x.dim()} dimension(s)"
            raise ValueError(
                f"{where}: input x has shape {tuple(x.shape)} ({got}); expected (m, {n_x}): "
                f"this network takes n_x = {n_x} features per row (layer_dims[0])"
            )
        if x.shape[0] == 0:
            raise ValueError(
                f"{where}: input x is empty (shape {tuple(x.shape)}, m = 0); expected at least "
                f"one example, shape (m >= 1, {n_x})"
            )
        if x.device != w.device:
            raise ValueError(
                f"{where}: input x is on {x.device} but the parameters are on {w.device}; "
                f"move one of them (x.to({str(w.device)!r}) or net.to(...))"
            )
        if x.dtype != w.dtype and not torch.is_autocast_enabled(x.device.type):
            raise TypeError(
                f"{where}: input x has dtype {x.dtype} but the parameters are {w.dtype}; "
                f"call x.to({w.dtype}) or net.to({x.dtype})"
            )

    def _check_target(self, out_shape: torch.Size, y: Tensor) -> Tensor:
        """Metadata checks on y; integer / boolean labels become the parameters' dtype."""
        where = type(self).__name__
        V.check_tensor(y, "target y", where)
        if y.dim() == 1 and out_shape[1] == 1:
            y = y.unsqueeze(1)  # (m,) labels for a one-unit output
        if y.shape != out_shape:
            raise ValueError(
                f"{where}: target y has shape {tuple(y.shape)}; expected {tuple(out_shape)} "
                "(one row per example, one column per output unit)"
            )
        w = self._weight(-1)
        if not (y.is_cpu and w.is_cpu) and y.device != w.device:  # NOTE: as in _check_input
            raise ValueError(
                f"{where}: target y is on {y.device} but the parameters are on {w.device}; "
                f"call y.to({str(w.device)!r})"
            )
        if not y.is_floating_point():
            y = y.to(w.dtype)  # NOTE: 0/1 labels as int or bool are exact in any float dtype
        return y

    def _check_values(self, x: Tensor, y: Tensor) -> bool:
        """Value checks of (x, y), run once per data set; False if values can't be read now."""
        if torch.compiler.is_compiling() or _functorch_active() is not None:
            return False  # reading values would break the graph / the transform
        seen = self._seen  # the usual case in a training loop: the same (x, y) as last step
        if (seen.x_ref() is x and seen.y_ref() is y
                and seen.x_version == x._version and seen.y_version == y._version):
            return True
        if not (isinstance(x, Tensor) and isinstance(y, Tensor)) or x.device.type == "meta":
            return False  # a wrong type is reported by the metadata checks
        self.validate_batch(x, y)
        self._seen.store(x, y)
        return True

    def validate_batch(self, x: Tensor, y: Tensor) -> None:
        """Every check on a batch, including those that read values (NaN / Inf, labels).

        ``cost`` and ``backprop`` call it once per data set (it reads values, so it is a sync on
        an accelerator and a graph break under ``torch.compile``); call it yourself to validate
        data up front. Raises TypeError / ValueError naming the value found and the one expected.
        """
        self._check_input(x)
        y = self._check_target(torch.Size((x.shape[0], self.layer_dims[-1])), y)
        task = "binary" if self.is_classifier else "regression"
        V.validate_data(x, y, task, where=type(self).__name__)

    def logits(self, x: Tensor) -> Tensor:
        """Z^[L], the last layer's linear output, computed through the autograd Functions.

        Each hidden layer runs as one ``DenseActivationFunction`` (eqs. 2.3-2.4 with backward
        2.10-2.12 in one node) unless a module hook or a replaced module asks for the modules
        to be called one by one (``Dense`` then the activation): the same values and gradients.
        """
        self._check_input(x)
        a, plain = self._hidden_layers(x)
        last = self._modules["layers"]._modules[str(len(self.layers) - 1)]
        if plain:  # the arguments are checked: x above, the parameters are the network's own
            p = last._parameters
            return apply_dense(a, p["weight"], p["bias"])
        return last(a)  # Z^[L] = W^[L] A^[L-1] + b^[L]

    def _hidden_layers(self, x: Tensor) -> tuple[Tensor, bool]:
        """A^[L-1] (x itself for one layer), and whether the modules may be bypassed (unhooked
        ``Dense`` layers; then hidden layers run fused where the activation allows)."""
        # NOTE: no ``self.layers[:-1]``: slicing a ModuleList builds a new one (~9 µs a call)
        layers, hidden = self.layers, self.hidden
        last = len(layers) - 1
        plain = self._plain_layers()
        fused = plain and last > 0 and self._fusable_hidden()
        name, slope = self.hidden_activation, self.negative_slope
        a = x
        if fused and self.recompute:  # two hidden layers a Function, A^[l] for odd l rebuilt
            for l in range(0, last - 1, 2):
                p, q = layers[l]._parameters, layers[l + 1]._parameters
                a = apply_dense_activation_pair(a, p["weight"], p["bias"], q["weight"],
                                                q["bias"], name, slope)
            if last % 2:  # an odd number of hidden layers: the last one alone
                p = layers[last - 1]._parameters
                a = apply_dense_activation(a, p["weight"], p["bias"], name, slope)
            return a, plain
        for l, layer in enumerate(layers):
            if l == last:
                break
            if fused:  # A^[l] = g(W^[l] A^[l-1] + b^[l]), one Function
                p = layer._parameters
                a = apply_dense_activation(a, p["weight"], p["bias"], name, slope)
            else:
                a = hidden(layer(a))  # Z^[l] = W^[l] A^[l-1] + b^[l], A^[l] = g(Z^[l])
        return a, plain

    def _plain_layers(self) -> bool:
        """Whether every layer is an unhooked ``Dense`` and no global module hook is set."""
        if _global_hooks():
            return False
        for layer in self._modules["layers"]._modules.values():  # no ModuleList __iter__
            if type(layer) is not Dense or _hooked(layer):
                return False
        return True

    def _fusable_hidden(self) -> bool:
        """Whether the hidden activation may run inside each layer's Function."""
        name = self.hidden_activation
        if name not in _FUSED or (name == "leaky_relu" and self.negative_slope < 0):
            return False
        hidden = self._modules["hidden"]
        return type(hidden) is _FUSED[name] and not _hooked(hidden)

    def forward(self, x: Tensor) -> Tensor:
        """A^[L] = g^[L](Z^[L]) (eq. 2.4): probabilities for a classifier, values otherwise."""
        return self.output(self.logits(x))

    def cost(self, x: Tensor, y: Tensor, check_values: bool = True) -> Tensor:
        """J through the fused output Function: cross-entropy from Z^[L] (backward dZ = A - Y,
        eq. 2.9) for a sigmoid output, mean squared error otherwise.

        A classifier runs one Function per layer: ``dense_activation`` for each hidden layer and
        ``dense_cross_entropy`` for the output layer with J (outside autocast, and unless hooks
        or replaced modules need the modules called one by one; see ``logits``).

        ``check_values``: validate the values of (x, y) once per data set (``validate_batch``)
        and raise FloatingPointError if J is not finite; skipped under ``torch.compile`` and
        ``torch.func``. On an accelerator the J check synchronises: pass ``False`` there.
        """
        check_values = check_values and self._check_values(x, y)
        if self.is_classifier and not torch._C._is_any_autocast_enabled():
            # the output layer and J as one Function (eqs. 2.3, §1.2; backward 2.9-2.12)
            self._check_input(x)
            y = self._check_target(torch.Size((x.shape[0], self.layer_dims[-1])), y)
            if self._whole_graph():  # eqs. 2.3-2.4 and §1.2, backward 2.9-2.12: one node
                return self._checked(apply_dense_network(
                    x, y if y.dtype == x.dtype else y.to(x.dtype), self.hidden_activation,
                    self.negative_slope,
                    [p for layer in self._modules["layers"]._modules.values()
                     for p in (layer._parameters["weight"], layer._parameters["bias"])]),
                    x, check_values)
            a, plain = self._hidden_layers(x)
            last = self._modules["layers"]._modules[str(len(self.layers) - 1)]
            if plain:
                p = last._parameters
                w = p["weight"]
                cost = apply_dense_cross_entropy(a, w, p["bias"], y.to(w.dtype))
            else:
                cost = F.binary_cross_entropy_with_logits(last(a), y)
        else:
            z = self.logits(x)
            y = self._check_target(z.shape, y)
            if self.is_classifier:
                cost = F.binary_cross_entropy_with_logits(z, y)
            else:
                cost = F.mse_loss(self.output(z), y)
        return self._checked(cost, x, check_values)

    def _checked(self, cost: Tensor, x: Tensor, check_values: bool) -> Tensor:
        if check_values:
            V.check_cost_finite(cost, x, f"{type(self).__name__}.cost")
        return cost

    def _whole_graph(self) -> bool:
        """Whether ``cost`` may run as one ``DenseNetworkFunction`` (``graph="network"``)."""
        return (self.graph == "network" and not self.recompute and self._plain_layers()
                and (len(self.layers) == 1 or self._fusable_hidden()))

    @torch.no_grad()
    def predict(self, x: Tensor, threshold: float = 0.5) -> Tensor:
        """Class labels 1[A^[L] > threshold] for a classifier, A^[L] for regression."""
        a = self(x)
        return (a > threshold).to(a.dtype) if self.is_classifier else a

    # ------------------------------------------------------------------------------------------
    # explicit backprop: eqs. 2.3-2.4 forward, 2.9-2.12 backward, no autograd graph
    # ------------------------------------------------------------------------------------------

    def backprop(
        self, x: Tensor, y: Tensor, check_values: bool = True, recompute: bool | None = None
    ) -> Tensor:
        """Return J and add dJ/dW^[l], dJ/db^[l] (eqs. 2.9-2.12) into every parameter's ``.grad``.

        Runs the seed's equations directly with no autograd graph; like ``.backward()`` it
        accumulates into existing gradients. Same values as ``cost(x, y).backward()``.
        ``check_values`` as in ``cost``: (x, y) once per data set, then one scalar read of J
        (about 0.2 µs on the CPU) before any gradient is written. ``recompute`` overrides the
        network's ``recompute`` setting for this call.
        """
        self._check_input(x)
        check_values = check_values and self._check_values(x, y)
        on_cost = self._cost_check(x, "backprop") if check_values else None
        recompute = self.recompute if recompute is None else recompute
        return explicit_step(self, x, y, None, recompute, on_cost)

    def gd_step(
        self,
        x: Tensor,
        y: Tensor,
        lr: float,
        check_values: bool = True,
        recompute: bool | None = None,
    ) -> Tensor:
        """One iteration of gradient descent (Algorithm 1.1) on J; returns J before the update.

        ``W^[l] := W^[l] - lr dW^[l]`` and ``b^[l] := b^[l] - lr db^[l]`` (eqs. 2.9-2.12) are
        applied in place, each dW fused into its GEMM so no gradient tensor is ever stored;
        ``.grad`` is neither read nor written. The same parameters as ``backprop`` followed by
        ``p -= lr * p.grad`` (or ``torch.optim.SGD`` without momentum), in fewer kernels.
        ``check_values`` and ``recompute`` as in ``backprop``.

        Examples:
            >>> for _ in range(10_000):
            ...     J = net.gd_step(x, y, lr=1.2)
        """
        if type(lr) is not float or not 0.0 < lr < math.inf:  # NOTE: the usual case, one test
            lr = V.check_learning_rate(lr, "gd_step")
        self._check_input(x)
        check_values = check_values and self._check_values(x, y)
        recompute = self.recompute if recompute is None else recompute
        if not recompute:  # the usual loop: straight to the kernels (None if that can't apply)
            # NOTE: the method's name, not the message: building an f-string every step cost
            # ~1.5 µs of the seed's 2-4-1 step; the full name is built only on failure
            cost = gd_step_fast(self, x, y, float(lr), "gd_step" if check_values else None)
            if cost is not None:
                return cost
        on_cost = self._cost_check(x, "gd_step") if check_values else None
        return explicit_step(self, x, y, float(lr), recompute, on_cost)

    def _cost_check(self, x: Tensor, method: str):
        def check(cost: Tensor) -> None:  # one scalar read; the message only on failure
            if not math.isfinite(cost.item()):
                V.check_cost_finite(cost, x, f"{type(self).__name__}.{method}")

        return check

    # ------------------------------------------------------------------------------------------
    # interchange with torch.nn
    # ------------------------------------------------------------------------------------------

    def to_torch(self) -> nn.Sequential:
        """An equivalent ``nn.Sequential`` of ``torch.nn`` layers holding copies of the weights."""
        mods: list[nn.Module] = []
        for i, layer in enumerate(self.layers):
            lin = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                            device=layer.weight.device, dtype=layer.weight.dtype)
            lin.load_state_dict(layer.state_dict())
            last = i == self.num_layers - 1
            act = self.output_activation if last else self.hidden_activation
            mods += [lin, ACTIVATIONS[act].torch_module(self.negative_slope)]
        return nn.Sequential(*mods)

    @classmethod
    def from_torch(cls, seq: nn.Sequential, **kwargs) -> DeepNetwork:
        """Build a ``DeepNetwork`` from ``Linear, act, Linear, act, ..., Linear, act`` layers."""
        names = {
            nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu",
            nn.LeakyReLU: "leaky_relu", nn.Identity: "identity",
        }
        mods = list(seq)
        if len(mods) % 2 == 1:
            mods.append(nn.Identity())  # a bare last Linear: identity output
        linears, acts = mods[0::2], mods[1::2]
        bad = [m for m in linears if not isinstance(m, nn.Linear)]
        bad += [m for m in acts if type(m) not in names]
        if not linears or bad:
            raise ValueError(
                "from_torch expects nn.Sequential(Linear, activation, ..., Linear[, activation]) "
                f"with activations among {[c.__name__ for c in names]}; got {seq}"
            )
        hidden = {names[type(m)] for m in acts[:-1]} or {"relu"}
        if len(hidden) > 1:
            raise ValueError(f"from_torch needs one hidden activation, got {sorted(hidden)}")
        slopes = [m.negative_slope for m in acts if isinstance(m, nn.LeakyReLU)]
        if len(set(slopes)) > 1:
            # NOTE: one slope per network; taking the first would silently change the outputs
            raise ValueError(f"from_torch needs one LeakyReLU negative_slope, got {slopes}")
        dims = [linears[0].in_features] + [m.out_features for m in linears]
        for i, (a, b) in enumerate(zip(linears, linears[1:])):
            if b.in_features != a.out_features:
                raise ValueError(
                    f"from_torch: Linear {i + 1} takes {b.in_features} features but Linear {i} "
                    f"gives {a.out_features}; expected consecutive Linears to chain"
                )
        w = linears[0].weight
        net = cls(dims, hidden.pop(), names[type(acts[-1])],
                  negative_slope=slopes[0] if slopes else 0.01,
                  device=w.device, dtype=w.dtype, **kwargs)
        for layer, lin in zip(net.layers, linears):
            if (layer.bias is None) != (lin.bias is None):
                layer.bias = None if lin.bias is None else nn.Parameter(torch.zeros_like(lin.bias))
            layer.load_state_dict(lin.state_dict())
        return net

    def extra_repr(self) -> str:
        return (
            f"layer_dims={self.layer_dims}, hidden_activation={self.hidden_activation!r}, "
            f"output_activation={self.output_activation!r}"
            + ("" if self.graph == "layers" else f", graph={self.graph!r}")
        )


class LogisticRegression(DeepNetwork):
    r"""Chapter 1's single-neuron network: :math:`\hat y = \sigma(w^T x + b)`.

    The weight is ``layers[0].weight`` of shape (1, n_x) (the seed's wᵀ) and the bias
    ``layers[0].bias`` of shape (1,). Trained by ``backprop`` it runs Algorithm 1.3.

    Args:
        n_x: the number of input features.
        init: weight initialisation (see ``DeepNetwork``); ``"zeros"`` is fine here, since a
            single unit has no symmetry to break.
        graph: as ``DeepNetwork``'s (one node either way: the layer is the network).
    """

    def __init__(
        self,
        n_x: int,
        init: str = "small",
        init_scale: float = 0.01,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        graph: str = "layers",
    ) -> None:
        super().__init__([n_x, 1], "identity", "sigmoid", init=init, init_scale=init_scale,
                         generator=generator, device=device, dtype=dtype, graph=graph)

    @classmethod
    def from_torch(cls, seq: nn.Sequential, **kwargs) -> LogisticRegression:
        """Build from ``nn.Sequential(nn.Linear(n_x, 1), nn.Sigmoid())``, copying w and b."""
        mods = list(seq)
        if (len(mods) != 2 or not isinstance(mods[0], nn.Linear) or mods[0].out_features != 1
                or mods[0].bias is None or type(mods[1]) is not nn.Sigmoid):
            raise ValueError(
                "LogisticRegression.from_torch expects nn.Sequential(nn.Linear(n_x, 1), "
                f"nn.Sigmoid()); got {seq}"
            )
        lin = mods[0]
        net = cls(lin.in_features, device=lin.weight.device, dtype=lin.weight.dtype, **kwargs)
        net.layers[0].load_state_dict(lin.state_dict())
        return net
