"""Input checks shared by ``torchnn.functional`` and ``torchnn.nn``: clear errors, cheap by design.

Two kinds of check live here:

* **metadata checks** (type, dtype, shape, device) read no tensor values: they cost well under a
  microsecond, trace cleanly under ``torch.compile`` and run on every call;
* **value checks** (NaN / Inf, labels in {0, 1}, a finite cost J) read tensor values, which is a
  host-device synchronisation on an accelerator and a graph break under ``torch.compile``. They
  are skipped (by the caller) while compiling or under a ``torch.func`` transform, and
  ``DeepNetwork`` runs the data checks once per data set (see :class:`SeenData`), not per step.

Every error names the value it got and the value it expected. Imports nothing from torchnn, so
both ``functional`` and ``nn`` can use it without an import cycle.
"""

from __future__ import annotations

import math
import numbers
import warnings
import weakref
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

__all__ = [
    "TASKS",
    "SeenData",
    "check_binary_labels",
    "check_class_labels",
    "check_cost_finite",
    "check_finite",
    "check_floating",
    "check_inplace",
    "check_learning_rate",
    "check_nonempty",
    "check_same_device",
    "check_tensor",
    "check_input",
    "check_layer_dims",
    "check_target",
    "validate_data",
]

TASKS = ("binary", "regression", "multiclass")
LARGE_FEATURE = 1e3  # max |x| above which validate_data warns: σ / tanh units saturate


def check_learning_rate(lr: object, where: str) -> float:
    """``lr`` as a float: a finite number > 0 (a Python or numpy scalar; not a bool, not a tensor).

    NOTE: a tensor is refused rather than read: ``float(t)`` is a synchronisation on an
    accelerator, and a step that takes one per call should say so where it is written.
    """
    if isinstance(lr, Tensor):
        raise TypeError(f"{where}: lr must be a Python number, got a {lr.dim()}-d tensor "
                        f"({lr!r}); pass float(lr)")
    # NOTE: numbers.Real declares no "<" for the type checker; every Real defines it
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < lr < math.inf:  # type: ignore[operator]
        raise ValueError(f"{where}: lr must be a finite number > 0, got {lr!r}")
    return float(lr)


def check_tensor(value: object, name: str, where: str) -> None:
    """TypeError unless ``value`` is a ``torch.Tensor``."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{where}: expected {name} as a torch.Tensor, got {type(value).__name__}")


def check_floating(t: Tensor, name: str, where: str) -> None:
    """TypeError for integer or boolean tensors where a floating-point one is required."""
    check_tensor(t, name, where)
    if not t.is_floating_point():
        raise TypeError(
            f"{where}: {name} has dtype {t.dtype}; expected a floating-point tensor "
            f"(float32, float64, bfloat16 or float16), e.g. {name}.float()"
        )


def check_inplace(t: Tensor, base: Tensor | None, where: str) -> None:
    """RuntimeError, as PyTorch's, before an in-place op would overwrite a leaf that requires
    grad, or a view (of ``base``) of one: its .grad would be of a value that is gone."""
    if not (t.requires_grad and torch.is_grad_enabled()):
        return
    what = ("a leaf tensor" if t.is_leaf else "a view of a leaf tensor"
            if base is not None and base.is_leaf and base.requires_grad else None)
    if what is not None:
        raise RuntimeError(f"{where}(inplace=True): the input is {what} that requires grad, "
                           "which an in-place operation may not overwrite (as in PyTorch); "
                           "expected a non-leaf tensor or inplace=False")


def check_nonempty(t: Tensor, name: str, where: str) -> None:
    """ValueError for data with no examples (m = 0) or no features."""
    if t.numel() == 0:
        raise ValueError(
            f"{where}: {name} is empty (shape {tuple(t.shape)}); expected at least one example "
            "(m >= 1) with at least one feature"
        )


def check_same_device(t: Tensor, ref: Tensor, name: str, ref_name: str, where: str) -> None:
    """ValueError when ``t`` and ``ref`` live on different devices (names both)."""
    if t.device != ref.device:
        raise ValueError(
            f"{where}: {name} is on {t.device} but {ref_name} is on {ref.device}; expected "
            f"both on one device: call {name}.to({str(ref.device)!r})"
        )


def check_layer_dims(layer_dims: Sequence[int]) -> list[int]:
    """``[n_x, n[1], ..., n[L]]`` as a list of at least two positive ints."""
    dims = list(layer_dims) if isinstance(layer_dims, (list, tuple)) else None
    if dims is None or len(dims) < 2:
        raise ValueError(f"layer_dims must list at least two sizes [n_x, ..., n[L]], got "
                         f"{layer_dims!r}")
    for i, n in enumerate(dims):
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise ValueError(f"layer_dims[{i}] must be a positive int, got {n!r} "
                             f"(layer_dims={dims})")
    return dims


def check_input(x: Tensor, n_x: int, w: Tensor, where: str) -> None:
    """A network's input: a floating (m >= 1, n_x) tensor on w's device, in w's dtype (unless
    autocast casts it)."""
    # NOTE: one expression for the usual case: this runs every step
    if (isinstance(x, Tensor) and x.is_floating_point() and x.dim() == 2 and x.shape[1] == n_x
            and x.shape[0] > 0 and (x.is_cpu and w.is_cpu or x.device == w.device)
            and (x.dtype == w.dtype or torch.is_autocast_enabled(x.device.type))):
        return
    check_tensor(x, "input x", where)
    if not x.is_floating_point():
        raise TypeError(f"{where}: input x has dtype {x.dtype}; expected a floating-point tensor "
                        f"(the parameters are {w.dtype}): call x.to({w.dtype})")
    if x.dim() != 2 or x.shape[1] != n_x:
        got = f"{x.shape[-1]} features" if x.dim() == 2 else f"{x.dim()} dimension(s)"
        raise ValueError(f"{where}: input x has shape {tuple(x.shape)} ({got}); expected (m, "
                         f"{n_x}): this network takes n_x = {n_x} features per row "
                         "(layer_dims[0])")
    if x.shape[0] == 0:
        raise ValueError(f"{where}: input x is empty (shape {tuple(x.shape)}, m = 0); expected "
                         f"at least one example, shape (m >= 1, {n_x})")
    if x.device != w.device:
        raise ValueError(f"{where}: input x is on {x.device} but the parameters are on "
                         f"{w.device}; move one of them (x.to({str(w.device)!r}) or net.to(...))")
    raise TypeError(f"{where}: input x has dtype {x.dtype} but the parameters are {w.dtype}; "
                    f"call x.to({w.dtype}) or net.to({x.dtype})")


def check_parameters(params: list, where: str) -> None:
    """One dtype and one device for every parameter of a network (a layer converted on its own,
    ``net.layers[1].double()``, would otherwise fail inside a matrix product)."""
    w = params[0]
    for i, p in enumerate(params):
        if p is not None and (p.dtype != w.dtype or not (p.is_cpu and w.is_cpu
                                                         or p.device == w.device)):
            raise TypeError(
                f"{where}: layers.{i // 2}.{('weight', 'bias')[i % 2]} is {p.dtype} on "
                f"{p.device} but layers.0.weight is {w.dtype} on {w.device}; expected one dtype "
                f"and device for the whole network: call net.to({w.dtype}) (or net.to(device))")


def check_target(y: Tensor, out_shape: tuple[int, int], w: Tensor, where: str) -> Tensor:
    """A network's target: ``out_shape`` (or (m,) for one output unit) on w's device; integer or
    boolean labels come back in w's dtype (0 and 1 are exact in any float dtype)."""
    check_tensor(y, "target y", where)
    if y.dim() == 1 and out_shape[1] == 1:
        y = y.unsqueeze(1)  # (m,) labels for a one-unit output
    if tuple(y.shape) != tuple(out_shape):
        raise ValueError(f"{where}: target y has shape {tuple(y.shape)}; expected "
                         f"{tuple(out_shape)} (one row per example, one column per output unit)")
    if not (y.is_cpu and w.is_cpu) and y.device != w.device:
        raise ValueError(f"{where}: target y is on {y.device} but the parameters are on "
                         f"{w.device}; call y.to({str(w.device)!r})")
    return y if y.is_floating_point() else y.to(w.dtype)


# ----------------------------------------------------------------------------------------------
# value checks: each reads tensor values (a sync on an accelerator, a graph break when compiled)
# ----------------------------------------------------------------------------------------------


def _first_index(mask: Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in mask.nonzero()[0])


def check_finite(t: Tensor, name: str, where: str) -> None:
    """ValueError if ``t`` holds NaN or ±Inf, naming how many and where the first one is."""
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        bad = ~torch.isfinite(t)
        index = _first_index(bad)
        raise ValueError(
            f"{where}: {name} contains {int(bad.sum())} non-finite value(s) (first: "
            f"{t[index].item()} at index {index}); expected only finite numbers (no NaN or Inf)"
        )


def check_binary_labels(y: Tensor, name: str, where: str) -> None:
    """ValueError unless every label is 0 or 1 (the seed's binary classification, §1.2)."""
    ok = (y == 0) | (y == 1)
    if not bool(ok.all()):
        index = _first_index(~ok)
        found = torch.unique(y[~ok].float()).tolist()
        listed = f"{found[:5]}{' ...' if len(found) > 5 else ''}"
        raise ValueError(
            f"{where}: the cross-entropy cost needs labels {name} in {{0, 1}}; got "
            f"{y[index].item()} at index {index} (values outside {{0, 1}}: {listed})"
        )


def check_cost_finite(cost: Tensor, x: Tensor, where: str) -> None:
    """FloatingPointError if the cost J is NaN or Inf, with the likely cause and the fix.

    On the CPU this reads one scalar (about 0.2 µs); on an accelerator it is a synchronisation.
    """
    value = cost.item()
    if not math.isfinite(value):
        scale = x.detach().abs().max().item()
        raise FloatingPointError(
            f"{where}: the cost J is {value} (expected a finite number): the forward pass "
            f"overflowed. The input has max |x| = {scale:.3g}; features of order 1 are expected. "
            "Standardise the data (x - mean) / std (torchnn.data modules do this) or lower the "
            "learning rate. No gradient was accumulated by this call."
        )


def validate_data(
    x: Tensor, y: Tensor | None = None, task: str = "binary", where: str = "validate_data",
    num_classes: int | None = None,
) -> None:
    """Check a data set once, before training: every check that reads values.

    ``x`` must be a non-empty floating-point ``(m, n_x)`` tensor of finite numbers; ``y`` (if
    given) must have ``m`` rows of finite numbers, and labels in {0, 1} when ``task="binary"``;
    for ``task="multiclass"`` class indices in [0, ``num_classes``) or rows of class
    probabilities (see :func:`check_class_labels`).

    ``where`` prefixes the messages (the caller's name).

    Raises:
        TypeError: ``x`` is not a floating-point tensor.
        ValueError: empty data, mismatched row counts, NaN / Inf, labels outside {0, 1}.
    """
    if task not in TASKS:
        raise ValueError(f"{where}: task must be one of {TASKS}, got {task!r}")
    check_floating(x, "x", where)
    if x.dim() != 2:
        raise ValueError(f"{where}: x has shape {tuple(x.shape)}; expected 2-D (m, n_x)")
    check_nonempty(x, "x", where)
    check_finite(x, "x", where)
    _warn_if_unscaled(x, where)
    if y is None:
        return
    check_tensor(y, "y", where)
    if y.dim() == 0 or y.shape[0] != x.shape[0]:
        rows = "a 0-d tensor" if y.dim() == 0 else f"{y.shape[0]} rows"
        raise ValueError(
            f"{where}: x has {x.shape[0]} rows but y is {rows}; expected one label per row"
        )
    check_same_device(y, x, "y", "x", where)
    check_finite(y, "y", where)
    if task == "binary":
        check_binary_labels(y, "y", where)
    elif task == "multiclass":
        check_class_labels(y, num_classes, "y", where)


def check_class_labels(y: Tensor, num_classes: int | None, name: str, where: str) -> None:
    """ValueError unless ``y`` holds class indices in [0, C) (an integer tensor) or rows of class
    probabilities in [0, 1] summing to 1 (a float tensor): what dZ = A - Y (eq. 2.9) assumes."""
    if not y.is_floating_point():
        bad = (y < 0) | (y >= num_classes) if num_classes is not None else y < 0
        if bool(bad.any()):
            index = _first_index(bad)
            raise ValueError(f"{where}: class indices {name} must lie in [0, {num_classes}); got "
                             f"{y[index].item()} at index {index}")
        return
    low = (y < 0) | (y > 1)
    if bool(low.any()):
        index = _first_index(low)
        raise ValueError(f"{where}: class probabilities {name} must lie in [0, 1]; got "
                         f"{y[index].item()} at index {index}")
    sums = y.sum(-1, dtype=torch.float64)
    off = (sums - 1).abs() > (1e-2 if y.element_size() < 4 else 1e-4)
    if bool(off.any()):
        row = int(off.nonzero()[0, 0])
        raise ValueError(f"{where}: each row of class probabilities {name} must sum to 1; row "
                         f"{row} sums to {sums[row].item():.6g} (for several independent labels "
                         "use a sigmoid output)")


def _warn_if_unscaled(x: Tensor, where: str) -> None:
    """UserWarning for features far from order 1: the seed's small init (§2.4) assumes them."""
    scale = x.detach().abs().max().item()
    if scale > LARGE_FEATURE:
        warnings.warn(
            f"{where}: the features reach max |x| = {scale:.3g}; expected values of order 1 "
            f"(at most {LARGE_FEATURE:g}). Sigmoid / tanh units will saturate (no learning) and "
            "ReLU networks may overflow: standardise the data, (x - mean) / std, as the "
            "torchnn.data modules do",
            UserWarning,
            stacklevel=3,
        )


def _dead() -> None:
    return None


class SeenData:
    """Remembers the last ``(x, y)`` whose values passed, by identity and version counter.

    NOTE: a training loop feeds the same tensors every step, so the value checks run once per
    data set, not once per step. A hit is four attribute reads, inlined by the caller
    (``DeepNetwork._check_values``): ``x_ref() is x and y_ref() is y and x_version ==
    x._version and y_version == y._version``. An in-place change of ``x`` or ``y`` bumps its
    version counter and the check runs again. Weak references never keep data alive; pickling or
    copying a network forgets what it has seen.
    """

    __slots__ = ("x_ref", "y_ref", "x_version", "y_version")
    x_ref: Callable[[], Tensor | None]  # a weakref.ref, or _dead
    y_ref: Callable[[], Tensor | None]

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        self.x_ref = self.y_ref = _dead  # matches no tensor
        self.x_version = self.y_version = -1

    def hit(self, x: Tensor, y: Tensor) -> bool:
        return (self.x_ref() is x and self.y_ref() is y
                and self.x_version == x._version and self.y_version == y._version)

    def store(self, x: Tensor, y: Tensor) -> None:
        if x.is_inference() or y.is_inference():  # no version counter: check every time
            self.forget()
            return
        self.x_ref, self.y_ref = weakref.ref(x), weakref.ref(y)
        self.x_version, self.y_version = x._version, y._version

    def __reduce__(self):
        return SeenData, ()
