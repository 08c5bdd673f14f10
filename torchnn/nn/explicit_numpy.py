"""``gd_step`` and ``backprop`` in numpy, for networks so small that PyTorch's per-call cost is
most of a step.

The seed's flower network [2, 4, 1] on m = 400 examples runs ~30 kernels a step over arrays of
400 to 1,600 numbers: each takes well under a microsecond of arithmetic, while a PyTorch call
costs ~2-3 µs of dispatch (numpy's ufunc machinery: ~0.5 µs). So on the CPU, below
``SERIAL_MACS`` forward multiply-adds, ``gd_step`` and ``backprop`` run the same equations on
numpy views of the *same* storage (``Tensor.numpy()`` shares memory: ``gd_step`` updates the
parameters in place and bumps their version counters, as an in-place torch op would;
``backprop`` adds into ``.grad`` the same way).

It writes the seed's column notation exactly (§2.1): X is (n_x, m) (the (m, n_x) input
transposed, copied once per data set), W^[l] is (n[l], n[l-1]), b^[l] is (n[l], 1), A^[l] is
(n[l], m). The derivative rules are ``torchnn.functional``'s own (``DERIVATIVE_FROM_OUTPUT``
and ``cross_entropy_delta`` take numpy arrays too), g and J's value its numpy forms
(``NP_ACTIVATE_INPLACE``, ``np_cross_entropy_delta_``). As in the torch path, the cost's 1/m
(with Algorithm 1.1's -α for ``gd_step``) scales dZ^[L] once, so every dW^[l] and db^[l] after
it arrives already scaled.

It applies (``numpy_step_applies``) to a σ + cross-entropy classifier with sigmoid / tanh / ReLU
hidden layers, float32 / float64 plain CPU tensors, no autocast, in eager code with no torch.func
transform; everything else runs the torch kernels (``nn.explicit``).
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import torch
from torch import Tensor

from torchnn._validate import check_cost_finite
from torchnn.functional.activations import DERIVATIVE_FROM_OUTPUT, NP_ACTIVATE_INPLACE
from torchnn.functional.costs import np_cross_entropy_delta_

__all__ = ["NumpyStep", "numpy_step_applies"]

_DTYPES = (torch.float32, torch.float64)
_DEAD = lambda: None  # noqa: E731 - a weak reference that never matches
_increment_version = torch.autograd.graph.increment_version


def numpy_step_applies(net, x: Tensor, params: tuple[list[Tensor], list[Tensor | None]]) -> bool:
    """Whether :class:`NumpyStep` can run ``net``'s steps on x (checked when it is built)."""
    name = net.hidden_activation if len(net.layer_dims) > 2 else "tanh"  # (no hidden layer)
    return (net.is_classifier and name in NP_ACTIVATE_INPLACE and type(x) is Tensor
            and x.dtype in _DTYPES and _viewable(x, x.dtype)
            and _params_fit([*params[0], *params[1]], x.dtype))


def _viewable(t: Tensor, dtype: torch.dtype) -> bool:
    """A CPU tensor of ``dtype`` whose memory numpy can view (no negative / conjugate bit)."""
    return t.is_cpu and t.dtype == dtype and not t.is_neg() and not t.is_conj()


def _params_fit(params: list[Tensor | None], dtype: torch.dtype) -> bool:
    """Parameters numpy can update in place (an inference tensor has no version to bump)."""
    return all(t is None or (_viewable(t, dtype) and not t.is_inference()) for t in params)


def _with_ones_row(n: int, m: int, dtype) -> np.ndarray:
    """An (n + 1, m) buffer whose last row is ones: [A; 1]."""
    buf = np.empty((n + 1, m), dtype)
    buf[-1] = 1
    return buf


class NumpyStep:
    """One batch shape's numpy buffers and views, and the step that runs on them."""

    __slots__ = ("act", "deriv", "a", "a1_t", "scratch", "da", "dwb", "dw", "db", "params",
                 "ptrs", "bumped", "w", "w_t", "b", "x_in", "x_version", "x1_t", "xt", "y_src",
                 "y_version", "yt", "np_dtype")

    def __init__(self, net, x: Tensor) -> None:
        m, dims = x.shape[0], net.layer_dims
        dt = self.np_dtype = np.float64 if x.dtype == torch.float64 else np.float32
        name = net.hidden_activation
        self.act = NP_ACTIVATE_INPLACE.get(name)
        self.deriv = DERIVATIVE_FROM_OUTPUT.get(name)
        # NOTE: each A^[l] that feeds a layer is kept as [A^[l]; 1] (n[l] + 1, m): with that row of
        # ones, [dW | db] = dZ [A; 1]ᵀ is one GEMM for eqs. 2.10 and 2.11 (db = Σ_i dZ_i is the
        # last column), not a GEMM and a row sum. a[l - 1]: Z^[l] then A^[l] (n[l], m), the
        # first n[l] rows; the last one Z^[L], then dZ^[L]
        hidden = [_with_ones_row(n, m, dt) for n in dims[1:-1]]
        self.a = [*(h[:-1] for h in hidden), np.empty((dims[-1], m), dt)]
        self.a1_t = [h.T for h in hidden]  # [A^[l]; 1]ᵀ (m, n[l] + 1)
        # two scratch arrays per layer for σ and the cost (the output, any sigmoid hidden layer),
        # views of one pair of buffers: the layers use them one at a time
        widest = max(dims[1:])
        s, t = np.empty(widest * m, dt), np.empty(widest * m, dt)
        self.scratch = [(s[: n * m].reshape(n, m), t[: n * m].reshape(n, m)) for n in dims[1:]]
        # da[l - 1]: dA^[l-1] = W^[l]ᵀ dZ^[l] (eq. 2.12), one shared buffer (used one at a time)
        da = np.empty(widest * m, dt)
        self.da = [None, *(da[: n * m].reshape(n, m) for n in dims[1:-1])]
        self.dwb = [np.empty((n, k + 1), dt) for k, n in zip(dims[:-1], dims[1:])]  # [dW | db]
        self.dw = [g[:, :-1] for g in self.dwb]
        self.db = [g[:, -1:] for g in self.dwb]
        self.params = self.ptrs = self.bumped = self.w = self.w_t = self.b = None
        self.x_in = self.y_src = _DEAD
        self.x_version = self.x1_t = self.xt = self.y_version = self.yt = None

    def _bind(self, weights: list[Tensor], biases: list[Tensor | None]) -> bool:
        """numpy views of the parameters (the same memory), kept while they stay the same.

        False (nothing bound) when a parameter was moved or converted since the step was built:
        the torch kernels take the step and report what is wrong.
        """
        dtype = torch.float64 if self.np_dtype == np.float64 else torch.float32
        if not _params_fit([*weights, *biases], dtype):
            self.params = None
            return False
        self.params = [*weights, *biases]
        self.ptrs = [None if t is None else t.data_ptr() for t in self.params]
        self.bumped = [t for t in self.params if t is not None]
        self.w = [w.detach().numpy() for w in weights]
        self.w_t = [w.T for w in self.w]
        self.b = [None if b is None else b.detach().numpy()[:, None] for b in biases]  # (n, 1)
        return True

    def _current(self, weights: list[Tensor], biases: list[Tensor | None]) -> bool:
        if self.params is None:
            return False
        for t, old, ptr in zip((*weights, *biases), self.params, self.ptrs):
            if t is not old or (t is not None and t.data_ptr() != ptr):
                return False
        return True

    def step(
        self, net, x: Tensor, y: Tensor, lr: float | None, check_cost, params
    ) -> Tensor | None:
        """One iteration of Algorithm 1.1 (eqs. 2.3-2.4, 2.9-2.12); returns J before it.

        With a float ``lr`` the parameters move (``gd_step``); with ``lr=None`` dJ/dW, dJ/db are
        added into every ``.grad`` instead, as ``.backward()`` accumulates (``backprop``).
        ``y``: the target checked and shaped like the output, (m, n[L]); ``check_cost`` as in
        ``explicit._fast_gd_step`` (a method name, a callable or None). None, with nothing
        written, when the parameters or their gradients no longer fit the step (``_bind``).
        """
        weights, biases = params
        if not self._current(weights, biases) and not self._bind(weights, biases):
            return None
        dtype = weights[0].dtype
        if lr is None and not all(t is None or t.grad is None or _viewable(t.grad, dtype)
                                  for t in self.params):
            return None  # a gradient numpy can't add into: the torch kernels do it
        # NOTE: an inference tensor has no version counter (and may change in inference mode):
        # its copies are made afresh each step
        xv = None if x.is_inference() else x._version
        # NOTE: x and y are held weakly (as the value checks hold them): a step keeps no data alive
        if xv is None or not (self.x_in() is x and xv == self.x_version):
            # NOTE: [X; 1] (n_x + 1, m) copied once per data set (X is a transposed view of the
            # rows; a GEMM reads a C-ordered operand faster, and the ones row gives db^[1])
            self.x_in, self.x_version = weakref.ref(x), xv
            x1 = _with_ones_row(x.shape[1], x.shape[0], self.np_dtype)
            np.copyto(x1[:-1], x.detach().numpy().T)
            self.xt, self.x1_t = x1[:-1], x1.T
        yv = None if y.is_inference() else y._version
        if yv is None or not (self.y_src() is y and yv == self.y_version):
            self.y_src, self.y_version = weakref.ref(y), yv
            self.yt = np.ascontiguousarray(y.detach().numpy().T)  # Y (n[L], m), for a dot product
        # NOTE: non-finite values (a diverging lr) are reported by the cost check, as on the
        # torch path, not by numpy's overflow warnings (entering errstate: ~0.9 µs)
        with np.errstate(all="ignore"):
            cost = self._run(net, x, lr, check_cost)
        if lr is None:
            self._accumulate_grads()
        else:  # NOTE: numpy's writes are invisible to autograd: bump versions as in-place ops do
            _increment_version(self.bumped)
        return torch.from_numpy(np.array(cost, dtype=self.np_dtype))

    def _accumulate_grads(self) -> None:
        """``.grad += [dW, db]`` (or ``.grad = ...`` where it is None), as autograd accumulates."""
        for t, g in zip(self.params, (*self.dw, *self.db)):
            if t is None:
                continue
            if t.grad is None:
                t.grad = torch.from_numpy(g.reshape(t.shape).copy())
            else:
                grad = t.grad.detach().numpy()
                np.add(grad, g.reshape(grad.shape), out=grad)
                _increment_version(t.grad)

    def _run(self, net, x: Tensor, lr: float | None, check_cost) -> float:
        w, b, a, scratch, dot, add = self.w, self.b, self.a, self.scratch, np.dot, np.add
        act, last = self.act, len(w) - 1
        prev = self.xt
        for l in range(last):  # Z^[l] = W^[l] A^[l-1] + b^[l] (2.3), A^[l] = g(Z^[l]) (2.4)
            z = dot(w[l], prev, out=a[l])  # (n[l], n[l-1]) @ (n[l-1], m) -> (n[l], m)
            if b[l] is not None:
                add(z, b[l], out=z)
            prev = act(z, *scratch[l])
        z = dot(w[last], prev, out=a[last])  # Z^[L]
        if b[last] is not None:
            add(z, b[last], out=z)
        cost = np_cross_entropy_delta_(z, self.yt, *scratch[last]) / z.size  # J; A - Y  (2.9)
        if check_cost is not None and not math.isfinite(cost):  # before anything is written
            cost_t = torch.tensor(cost, dtype=x.dtype)
            if callable(check_cost):
                check_cost(cost_t)
            else:
                check_cost_finite(cost_t, x, f"{type(net).__name__}.{check_cost}")
        # NOTE: dZ^[L] times -α/m (gd_step) or the cost's 1/m (backprop): every dW, db below
        # comes out scaled
        np.multiply(z, (1.0 if lr is None else -lr) / z.size, out=z)
        dz, da, dwb, dw, db, w_t, deriv = z, self.da, self.dwb, self.dw, self.db, self.w_t, \
            self.deriv
        for l in range(last, -1, -1):
            if l:  # dA^[l-1] = W^[l]ᵀ dZ^[l] (2.12), before W^[l] moves
                dot(w_t[l], dz, out=da[l])  # (n[l-1], n[l]) @ (n[l], m) -> (n[l-1], m)
            # [dW | db] = dZ [A^[l-1]; 1]ᵀ (2.10-2.11): (n[l], m) @ (m, n[l-1] + 1)
            dot(dz, self.a1_t[l - 1] if l else self.x1_t, out=dwb[l])
            if lr is not None:
                add(w[l], dw[l], out=w[l])  # W -= α dW
                if b[l] is not None:
                    add(b[l], db[l], out=b[l])  # b -= α db
            if l:
                # dZ^[l-1] = dA^[l-1] * g'(Z^[l-1])  (2.12), g' read from A^[l-1] over it
                dz = np.multiply(deriv(a[l - 1], out=a[l - 1]), da[l], out=a[l - 1])
        return cost
