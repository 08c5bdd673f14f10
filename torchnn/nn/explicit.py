"""The explicit path: eqs. 2.3-2.4 forward and 2.9-2.12 backward with no autograd graph.

``DeepNetwork.backprop`` (gradients into ``.grad``, as ``.backward()`` would) and
``DeepNetwork.gd_step`` (Algorithm 1.1's ``w := w - α dw`` applied straight into the weights)
both run :func:`explicit_step`. The derivative rules come from ``torchnn.functional`` (one source
of truth); this file only decides *where* each result is written, so that a step does no work
the equations do not ask for:

* each activation is applied in place, ``A^[l] = g(Z^[l])`` overwriting ``Z^[l]``, and only
  ``A^[l]`` is kept: the rules read g'(z) from the output a (except a negative leaky slope);
* the cost's 1/m (eqs. 2.10-2.11) is folded into the GEMM's ``alpha``, not a pass over dZ;
* ``dW`` is never materialised by ``gd_step``: ``W.addmm_(dZᵀ, A_prev, alpha=-α/m)`` computes
  eq. 2.10 and the update in one GEMM (``backprop`` accumulates into ``W.grad`` the same way);
* once dW^[l] has read A^[l-1], g'(Z^[l-1]) is written over A^[l-1] and multiplied by
  dA^[l-1] = dZ^[l] W^[l] there (eq. 2.12), so dZ^[l-1] needs no buffer of its own; layer 1
  computes no dA^[0] (the input needs no gradient);
* the buffers (every A^[l] plus one dA scratch) are kept per network and reused by the next step
  with the same batch shape: a fresh multi-megabyte tensor costs the CPU a page fault per 4 KiB
  on first touch, more than the arithmetic of an elementwise pass. ``free_workspace(net)``
  releases them; another batch shape replaces them.

A step under ``SERIAL_MACS`` forward multiply-adds (the seed's 2-4-1 network) runs with one
intra-op thread and restores the thread count after: at that size a second thread only adds an
OpenMP fork/join, which on a busy machine costs more than the step. There ``gd_step`` and
``backprop`` on a σ + cross-entropy classifier run through numpy instead (``nn.explicit_numpy``:
the same equations on numpy views of the same storage, ~0.5 µs a call against PyTorch's ~2-3 µs).

``recompute=True`` is activation checkpointing: the forward keeps A^[l] only for even l and the
backward recomputes each dropped A^[l] from the kept A^[l-1] (one extra forward GEMM per dropped
layer) when layer l + 1's backward needs it. It halves the activations kept for backward.
NOTE: ``gd_step`` runs the forward and the backward in one call, so what it holds at its peak is
the workspace: with H hidden layers of n units, H + 1 buffers of m × n without recompute (every
A^[l], one dA scratch). Rebuilding a dropped A^[l] whole would put it beside dZ^[l+1] and dA^[l]
(three buffers for layer l + 1's backward, the plain step's count with two hidden layers), so
the backward writes dA^[l] into the dropped layer's own buffer first and rebuilds A^[l] a block
of rows at a time (``_through_dropped``): recompute holds the kept A^[l], one buffer shared by the
dropped layers and one block (a quarter of the batch, at least 64 rows), or the scratch from
three hidden layers on (H // 2 + 2 buffers, the scratch doubling as the block).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable

import torch
from torch import Tensor

from torchnn import functional as F
from torchnn._validate import check_cost_finite
from torchnn.functional.activations import (
    _NUMPY_MIN_NUMEL,
    ACTIVATE_INPLACE,
    DERIVATIVE_FROM_OUTPUT,
    FORWARD_INPLACE,
    tanh_,
)
from torchnn.functional.costs import cross_entropy_cost
from torchnn.nn.explicit_numpy import NumpyStep, numpy_step_applies

__all__ = [
    "explicit_step", "gd_step_fast", "forward_tape", "recomputed_layers", "free_workspace",
    "workspace_bytes",
]


def _dz_over_saved(
    name: str, da: Tensor, saved: Tensor, slope: float, over_da: bool = False
) -> Tensor:
    """dZ = dA * g'(Z) (eq. 2.12), written over ``saved`` (A, or Z for a negative slope), or with
    ``over_da`` over ``da`` (``saved`` may then be overwritten too)."""
    if name in DERIVATIVE_FROM_OUTPUT:
        g = DERIVATIVE_FROM_OUTPUT[name](saved, out=saved)
        return da.mul_(g) if over_da else g.mul_(da)
    if name == "leaky_relu":
        return F.leaky_relu_backward(da, saved, slope, out=da if over_da else saved)
    return da if over_da else saved.copy_(F.identity_backward(da, saved))


def recomputed_layers(num_layers: int, recompute: bool) -> frozenset[int]:
    """The hidden layers l whose A^[l] the forward drops and the backward recomputes.

    NOTE: odd l = 1, 3, ... < L: each dropped A^[l] is rebuilt from A^[l-1], which is always kept
    (l - 1 is even; A^[0] = X is the input), so a recomputation never cascades.
    """
    return frozenset(range(1, num_layers, 2)) if recompute else frozenset()


# ----------------------------------------------------------------------------------------------
# the reused buffers
# ----------------------------------------------------------------------------------------------

_WORKSPACES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def free_workspace(net) -> None:
    """Release the buffers ``gd_step`` / ``backprop`` keep between calls for ``net``."""
    _WORKSPACES.pop(net, None)


def workspace_bytes(net) -> int | None:
    """Bytes of the buffers ``gd_step`` / ``backprop`` keep between calls for ``net`` (what a
    step holds at its peak besides the parameters and the data): 0 before the first step, None
    where the numpy engine runs the step (it keeps numpy arrays of its own)."""
    ws = _WORKSPACES.get(net)
    if ws is None:
        return 0
    if ws.numpy is not None:
        return None
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes()
                for t in (*ws.outs, *ws.das, ws.block, ws.ones) if t is not None}
    return sum(storages.values())


class _Workspace:
    """One batch shape's buffers, and what a step would otherwise recompute every call."""

    __slots__ = ("key", "outs", "das", "block", "block_rows", "ones", "serial", "y_in",
                 "y_version", "y_out", "m", "dtype", "device_index", "fast", "numpy")

    def __init__(self, net, x: Tensor, key: tuple, recompute: bool = False) -> None:
        m, dims = x.shape[0], net.layer_dims
        opts = {"dtype": x.dtype, "device": x.device}
        self.key = key
        # NOTE: what ``gd_step_fast`` compares before it reuses this workspace (cheaper reads
        # than building ``key``: ``x.device`` makes a new object each call)
        self.m, self.dtype, self.device_index = m, x.dtype, x.get_device()
        self.fast = None if recompute else _fast_kernels(net, x.dtype, m)
        num_layers, hidden = len(dims) - 1, dims[1:-1]
        # NOTE: with recompute every dropped A^[l] shares one buffer: the forward needs each only
        # to compute Z^[l+1]; the backward writes dA^[l] there and rebuilds A^[l] a block of rows
        # at a time (``_through_dropped``), so no dropped layer is ever whole again
        dropped = recomputed_layers(num_layers, recompute)
        # das[l]: the (m, n[l]) buffer dA^[l] = dZ^[l+1] W^[l+1] is written into: the scratch,
        # or with recompute the shared buffer where that is free: for a dropped A^[l], and below
        # four layers for A^[L-1] too, so that one or two hidden layers need no scratch at all
        in_shared = set(dropped)
        if dropped and num_layers < 4:
            in_shared.add(num_layers - 1)
        shared = torch.empty(m * max(dims[l] for l in in_shared), **opts) if dropped else None
        self.outs = [shared[: m * n].view(m, n) if l in dropped else torch.empty(m, n, **opts)
                     for l, n in enumerate(dims[1:], 1)]
        scratch_numel = m * max(hidden) if hidden and (not dropped or num_layers >= 4) else 0
        self.block_rows = _block_rows(m, min(dims[l] for l in dropped)) if dropped else 0
        if dropped:  # the block A^[l] is rebuilt in: the scratch (free then) where there is one
            scratch_numel = max(scratch_numel, self.block_rows * max(dims[l] for l in dropped))
        scratch = torch.empty(scratch_numel, **opts) if scratch_numel else None
        self.block = scratch if dropped else None
        self.das = [None, *((shared if l in in_shared else scratch)[: m * n].view(m, n)
                            for l, n in enumerate(hidden, 1))]
        self.ones = torch.ones(m, **opts)  # db = dZᵀ 1 (eq. 2.11) as one GEMV
        self.serial = x.device.type == "cpu" and _forward_macs(net, x) < SERIAL_MACS
        self.y_in = self.y_version = self.y_out = None  # the last target checked, and its result
        # NOTE: a step this small is mostly PyTorch's per-call cost: numpy runs it (explicit_numpy)
        self.numpy = NumpyStep(net, x) if (
            self.fast is not None and self.serial and numpy_step_applies(net, x, _params(net))
        ) else None


def _block_rows(m: int, n: int) -> int:
    """Rows per block when a dropped A^[l] (n units) is rebuilt: about a quarter of the batch.

    NOTE: at least 64 rows (the GEMMs stay efficient) and at least ``_NUMPY_MIN_NUMEL``
    elements, so that a block of tanh runs the same tanh (numpy's or torch's) as the forward did.
    """
    return min(m, max(-(-m // 4), 64, -(-_NUMPY_MIN_NUMEL // n)))


def _workspace(
    net, x: Tensor, device: torch.device | None = None, recompute: bool = False
) -> _Workspace:
    """The reused buffers for this batch shape (replaced when the shape changes)."""
    key = (x.shape[0], x.dtype, device or x.device, recompute, net.hidden_activation,
           net.output_activation, *net.layer_dims)
    ws = _WORKSPACES.get(net)
    if ws is None or ws.key != key:
        ws = _Workspace(net, x, key, recompute)
        _WORKSPACES[net] = ws
    return ws


# ----------------------------------------------------------------------------------------------
# forward and backward
# ----------------------------------------------------------------------------------------------


def _params(net) -> tuple[list[Tensor], list[Tensor | None]]:
    # NOTE: straight from each Dense's _parameters dict: Module.__getattr__ costs ~0.4 µs a
    # lookup, a visible share of a step on the seed's 2-4-1 network
    layers = [lay._parameters for lay in net._modules["layers"]._modules.values()]
    return [p["weight"] for p in layers], [p["bias"] for p in layers]


def _dense(a: Tensor, w: Tensor, b: Tensor | None, out: Tensor | None) -> Tensor:
    """Z = A W^T + b (eq. 2.3), into ``out`` when given."""
    if out is None:
        return F.dense_forward(a, w, b)
    # NOTE: linear's out= form: the same GEMM as addmm(b, a, wᵀ) without a Python-level wᵀ view
    return torch._C._nn.linear(a, w, b, out=out)


def forward_tape(
    net,
    x: Tensor,
    recompute: bool = False,
    outs: list[Tensor] | None = None,
    params: tuple[list[Tensor], list[Tensor | None]] | None = None,
) -> tuple[Tensor, list[Tensor | None], list[Tensor | None]]:
    """Eqs. 2.3-2.4 with no graph: return Z^[L] and what the backward needs.

    Returns ``(z_out, a_prev, saved)``: ``a_prev[l-1]`` is A^[l-1] for layer l's dW (eq. 2.10),
    ``saved[l]`` the tensor g'(Z^[l]) is read from (A^[l], or Z^[l] for a negative leaky slope),
    ``None`` where ``recompute`` dropped it. ``a_prev[0]`` is the input itself. ``outs``: the
    buffers Z^[l] is written into (the workspace; not with a negative slope).
    """
    if torch.is_grad_enabled():
        with torch.no_grad():
            return forward_tape(net, x, recompute, outs, params)
    weights, biases = params or _params(net)
    name, slope = net.hidden_activation, net.negative_slope
    act_ = FORWARD_INPLACE[name]
    keep_z = name == "leaky_relu" and slope < 0
    dropped = recomputed_layers(len(weights), recompute) if recompute else ()
    a_prev: list[Tensor | None] = [x]
    saved: list[Tensor | None] = [None]
    a = x
    for l in range(1, len(weights)):
        z = _dense(a, weights[l - 1], biases[l - 1], outs and outs[l - 1])  # Z = A W^T + b (2.3)
        a = act_(z.clone() if keep_z else z, slope)  # A = g(Z), over Z  (2.4)
        keep = l not in dropped
        a_prev.append(a if keep else None)
        saved.append((z if keep_z else a) if keep else None)
    z_out = _dense(a, weights[-1], biases[-1], outs and outs[-1])  # Z^[L]
    return z_out, a_prev, saved


def _recompute(net, l: int, a_prev: list, saved: list) -> None:
    """Rebuild A^[l] (and what g' reads) from the kept A^[l-1]: eqs. 2.3-2.4 once more.

    For the steps without a workspace (autocast, a negative leaky slope); with one,
    ``_through_dropped`` rebuilds A^[l] a block of rows at a time instead."""
    lay = net.layers[l - 1]
    name, slope = net.hidden_activation, net.negative_slope
    keep_z = name == "leaky_relu" and slope < 0
    z = _dense(a_prev[l - 1], lay.weight, lay.bias, None)
    a = FORWARD_INPLACE[name](z.clone() if keep_z else z, slope)
    a_prev[l], saved[l] = a, (z if keep_z else a)


def _output_delta(net, z_out: Tensor, y: Tensor, on_cost) -> tuple[Tensor, Tensor]:
    """J and dZ^[L] before the 1/m: A - Y (eq. 2.9) for σ + cross-entropy, written over Z^[L]."""
    if net.is_classifier:
        cost = cross_entropy_cost(z_out, y)  # J (§1.2)
        if on_cost is not None:
            on_cost(cost)
        return cost, F.cross_entropy_delta(torch.sigmoid_(z_out), y, out=z_out)
    name, slope = net.output_activation, net.negative_slope
    a_out = z_out if name == "identity" else FORWARD_INPLACE[name](z_out.clone(), slope)
    cost = (a_out - y).square().mean()
    if on_cost is not None:
        on_cost(cost)
    grad = F.squared_error_delta(a_out, y)  # dA^[L] = 2 (A - Y)
    return cost, grad if name == "identity" else _dz_over_saved(name, grad, a_out, slope)


def explicit_step(
    net,
    x: Tensor,
    y: Tensor,
    lr: float | None = None,
    recompute: bool = False,
    on_cost: Callable[[Tensor], None] | None = None,
) -> Tensor:
    """One pass of eqs. 2.3-2.4 and 2.9-2.12; returns J (before any update).

    With ``lr=None`` adds dJ/dW, dJ/db into ``.grad`` (``backprop``); with a float ``lr`` applies
    ``W := W - lr dW``, ``b := b - lr db`` in place (``gd_step``) and leaves ``.grad`` alone.
    ``on_cost(J)`` runs before anything is written (a check may raise there).
    """
    # NOTE: the grad mode is switched by hand: a ``torch.no_grad()`` context costs ~1.5 µs, a
    # visible share of the seed's 2-4-1 step
    grad_mode = torch.is_grad_enabled()
    torch._C._set_grad_enabled(False)
    threads = 0
    try:
        params = _params(net)
        # NOTE: under autocast the products come out in the autocast dtype: no out= buffers,
        # and updates / gradients are added in the parameters' own dtype, as autograd does
        device = x.device  # NOTE: read once: each ``x.device`` builds a new object (~0.3 µs)
        mixed = torch.is_autocast_enabled(device.type)
        per_step = mixed or (net.hidden_activation == "leaky_relu" and net.negative_slope < 0)
        ws = None if per_step else _workspace(net, x, device, recompute and len(params[0]) > 1)
        serial = ws.serial if ws is not None else (
            device.type == "cpu" and _forward_macs(net, x) < SERIAL_MACS)
        if serial and torch.get_num_threads() > 1:
            # NOTE: a step this small (the seed's 2-4-1 network: 4,800 multiply-adds a forward)
            # is shorter than an OpenMP fork/join; MKL still splits its 400 x 2 x 4 GEMMs over
            # every thread, and on a busy machine the second thread's barrier costs ~10x the step
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
        if ws is not None and ws.numpy is not None and (
                cost := _numpy_step(net, x, y, lr, on_cost, ws, params)) is not None:
            return cost  # the smallest networks: numpy (explicit_numpy), gd_step or backprop
        if lr is not None and ws is not None and ws.fast is not None and not mixed:
            return _fast_gd_step(net, x, y, lr, on_cost, params, ws)
        return _step(net, x, y, lr, recompute, on_cost, params, mixed, ws)
    finally:
        if threads:
            torch.set_num_threads(threads)
        if grad_mode:
            torch._C._set_grad_enabled(True)


SERIAL_MACS = 100_000  # below this many forward multiply-adds a step runs on one thread


def _forward_macs(net, x: Tensor) -> int:
    dims = net.layer_dims
    return x.shape[0] * sum(a * b for a, b in zip(dims[:-1], dims[1:]))


def _target(net, out_shape: torch.Size, y: Tensor, ws: _Workspace | None) -> Tensor:
    """``net._check_target``, skipped when y is the tensor last checked and unchanged since."""
    if ws is None or not isinstance(y, Tensor) or y.is_inference():  # (no version counter)
        return net._check_target(out_shape, y)
    if ws.y_in is y and ws.y_version == y._version:
        return ws.y_out
    checked = net._check_target(out_shape, y)
    ws.y_in, ws.y_version, ws.y_out = y, y._version, checked
    return checked


_HALF = (torch.float16, torch.bfloat16)




def _fast_kernels(net, dtype: torch.dtype, m: int) -> tuple | None:
    """(activation name, g in place, g' in place) when ``_fast_gd_step`` applies, else None.

    A one-layer network (logistic regression) has no hidden layer: any activation name will do.
    """
    name = net.hidden_activation
    if not net.is_classifier or dtype in _HALF:
        return None
    if name not in DERIVATIVE_FROM_OUTPUT:
        return (name, None, None) if len(net.layer_dims) == 2 else None
    act, hidden = ACTIVATE_INPLACE[name], net.layer_dims[1:-1]
    if act is tanh_ and hidden and m * max(hidden) < _NUMPY_MIN_NUMEL:
        # NOTE: every hidden Z is below the size where tanh_ takes numpy's tanh, so it would pick
        # torch.tanh_ each call: call it directly (its checks cost ~1 µs of the 2-4-1 step)
        act = torch.tanh_
    return name, act, DERIVATIVE_FROM_OUTPUT[name]


def gd_step_fast(net, x: Tensor, y: Tensor, lr: float, check_cost: str | None) -> Tensor | None:
    """``explicit_step(net, x, y, lr)`` for the usual training loop, or None if it doesn't apply.

    It applies when the previous step built this network's workspace for the same batch size,
    dtype and device (no recompute), with a sigmoid + cross-entropy output and a sigmoid / tanh /
    ReLU hidden activation, and autocast is off: then the step goes straight to the kernels.
    ``check_cost``: the calling method's name (``"gd_step"``) for a non-finite J error, which
    reads ``type(net).__name__.method`` (the check reads J once, before anything is written), or
    None to skip it. The caller has checked x's metadata.

    NOTE: the seed's 2-4-1 step is ~45 µs of kernels; ``explicit_step``'s general dispatch (the
    key tuple, the autocast and grad-mode queries, the cost-check closure) added ~15 µs to it.
    """
    ws = _WORKSPACES.get(net)
    if (ws is None or ws.fast is None or x.shape[0] != ws.m or x.dtype != ws.dtype
            or x.get_device() != ws.device_index or ws.fast[0] != net.hidden_activation
            or torch._C._is_any_autocast_enabled()):
        return None
    if ws.numpy is not None and (cost := _numpy_step(net, x, y, lr, check_cost, ws)) is not None:
        return cost
    grad_mode = torch.is_grad_enabled()
    torch._C._set_grad_enabled(False)
    threads = torch.get_num_threads() if ws.serial else 1
    if threads > 1:  # see explicit_step
        torch.set_num_threads(1)
    try:
        return _fast_gd_step(net, x, y, lr, check_cost, _params(net), ws)
    finally:
        if threads > 1:
            torch.set_num_threads(threads)
        if grad_mode:
            torch._C._set_grad_enabled(True)


def _numpy_step(
    net, x: Tensor, y: Tensor, lr: float | None, check_cost, ws: _Workspace, params=None
):
    """``ws.numpy``'s step, or None where numpy can't see the tensors now (compile, torch.func).

    ``params``: ``_params(net)`` where the caller has it already."""
    if (type(x) is not Tensor or x.is_neg() or torch.compiler.is_compiling()
            or torch._C._are_functorch_transforms_active()):
        return None
    if not (ws.y_in is y and ws.y_version == y._version):
        y = _target(net, torch.Size((x.shape[0], net.layer_dims[-1])), y, ws)
    else:
        y = ws.y_out
    return ws.numpy.step(net, x, y, lr, check_cost, params or _params(net))


def _fast_gd_step(
    net, x: Tensor, y: Tensor, lr: float, check_cost, params, ws: _Workspace
) -> Tensor:
    """``_step`` for the usual ``gd_step``: σ + cross-entropy output, sigmoid / tanh / ReLU hidden
    layers, the workspace, no recompute, no autocast, float32 / float64. The same equations and
    kernels with fewer Python-level calls: the seed's 2-4-1 step is ~50 µs of kernels.
    """
    weights, biases = params
    outs, das, ones = ws.outs, ws.das, ws.ones
    _, act_, derivative = ws.fast
    linear, mm, mul = torch._C._nn.linear, torch.mm, torch.mul
    last = len(weights) - 1
    saved = [x]
    a = x
    for l in range(last):
        a = act_(linear(a, weights[l], biases[l], out=outs[l]))  # A = g(A W^T + b)  (2.3-2.4)
        saved.append(a)
    z_out = linear(a, weights[last], biases[last], out=outs[last])  # Z^[L]
    if not (ws.y_in is y and ws.y_version == y._version):
        y = _target(net, z_out.shape, y, ws)
    else:
        y = ws.y_out
    cost = cross_entropy_cost(z_out, y)  # J (§1.2)
    if check_cost is not None:
        if callable(check_cost):
            check_cost(cost)
        elif not math.isfinite(cost.item()):  # one scalar read; the message only on failure
            check_cost_finite(cost, x, f"{type(net).__name__}.{check_cost}")
    dz = F.cross_entropy_delta(torch.sigmoid_(z_out), y, out=z_out)  # A - Y  (2.9)
    alpha = -lr / z_out.numel()  # Algorithm 1.1's α with the cost's 1/m
    for l in range(last, -1, -1):
        w, dz_t = weights[l], dz.t()
        if l:  # dA^[l-1] = dZ^[l] W^[l]  (2.12), before W^[l] moves
            # NOTE: with one unit (n[l] = 1) the product is an outer product: the broadcast
            # multiply gives the same bits (one product per element) without a GEMM call
            da = (mul if w.shape[0] == 1 else mm)(dz, w, out=das[l])
        # NOTE: dense_grad_weight(add_to=W) and dense_grad_bias(add_to=b, ones=1) written
        # out: two Python calls fewer on the 2-4-1 step
        w.addmm_(dz_t, saved[l], alpha=alpha)  # W -= lr dW  (2.10), no dW stored
        if (b := biases[l]) is not None:
            b.addmv_(dz_t, ones, alpha=alpha)  # b -= lr db  (2.11)
        if l:
            dz = derivative(saved[l], out=saved[l]).mul_(da)  # dZ = dA * g'(Z)  (2.12)
    return cost


def _step(
    net, x: Tensor, y: Tensor, lr: float | None, recompute: bool, on_cost, params, mixed: bool,
    ws: _Workspace | None,
) -> Tensor:
    """The body of :func:`explicit_step` (grad mode off, thread count settled)."""
    name, slope = net.hidden_activation, net.negative_slope
    weights, biases = params
    z_out, a_prev, saved = forward_tape(net, x, recompute, ws and ws.outs, params)
    y = _target(net, z_out.shape, y, ws)
    cost, dz = _output_delta(net, z_out, y, on_cost)
    scale = 1.0 / z_out.numel()  # the cost's 1/m
    if dz.dtype in (torch.float16, torch.bfloat16):
        # NOTE: in half precision dZᵀA summed over m rows can pass float16's 65504 before a
        # late 1/m; scale dZ^[L] first (an (m, n[L]) pass), as autograd's cost backward does
        dz.mul_(scale)
        scale = 1.0
    alpha = scale if lr is None else -lr * scale
    ones = None if ws is None else ws.ones
    for l in range(len(weights), 0, -1):
        w, b = weights[l - 1], biases[l - 1]
        if a_prev[l - 1] is None:
            if ws is not None:  # rebuilt a block of rows at a time: layer l's whole backward
                dz = _through_dropped(net, l, dz, a_prev[l - 2], params, alpha, lr, ws)
                a_prev[l - 1] = saved[l - 1] = None
                continue
            _recompute(net, l - 1, a_prev, saved)
        da = None
        if l > 1:  # dA^[l-1] = dZ^[l] W^[l]  (2.12), before W^[l] moves
            da = F.dense_grad_input(dz, w) if ws is None else torch.mm(dz, w, out=ws.das[l - 1])
        if lr is None:
            _accumulate_grad(w, F.dense_grad_weight, (dz, a_prev[l - 1]), alpha, mixed)  # (2.10)
            if b is not None:
                _accumulate_grad(b, F.dense_grad_bias, (dz,), alpha, mixed, ones)  # db  (2.11)
        elif mixed:
            w.add_(F.dense_grad_weight(dz, a_prev[l - 1], alpha=alpha))  # W -= lr dW
            if b is not None:
                b.add_(F.dense_grad_bias(dz, alpha=alpha))  # b -= lr db
        else:  # Algorithm 1.1's w := w - α dw, α = lr/m, with no dW / db ever stored
            F.dense_grad_weight(dz, a_prev[l - 1], alpha=alpha, add_to=w)
            if b is not None:
                F.dense_grad_bias(dz, alpha=alpha, add_to=b, ones=ones)
        a_prev[l - 1] = None  # A^[l-1] is spent once dW^[l] has read it
        if da is not None:
            dz = _dz_over_saved(name, da, saved[l - 1], slope)  # dZ = dA * g'(Z)  (2.12)
            saved[l - 1] = None
    return cost


def _through_dropped(
    net, l: int, dz: Tensor, a_in: Tensor, params, alpha: float, lr: float | None,
    ws: _Workspace,
) -> Tensor:
    """Layer l's backward when the forward dropped A^[l-1]; returns dZ^[l-1].

    dA^[l-1] = dZ^[l] W^[l] (eq. 2.12) goes into the dropped layer's own buffer first, while W^[l]
    is unchanged. Then each block of rows rebuilds its part of A^[l-1] from the kept A^[l-2]
    (``a_in``; eqs. 2.3-2.4) in ``ws.block``, adds that block's share of dW^[l] (eq. 2.10: a
    sum over the rows) and turns its rows of dA^[l-1] into dZ^[l-1] (eq. 2.12). So the step
    holds dZ^[l], dA^[l-1] and one block, where rebuilding A^[l-1] whole would need a third
    m x n[l-1] buffer beside dZ^[l] and dA^[l-1].
    """
    weights, biases = params
    w, b = weights[l - 1], biases[l - 1]
    name, slope = net.hidden_activation, net.negative_slope
    da = torch.mm(dz, w, out=ws.das[l - 1])  # (m, n[l]) @ (n[l], n[l-1]) -> (m, n[l-1])
    m, n, rows = da.shape[0], da.shape[1], ws.block_rows
    for r0 in range(0, m, rows):
        r1 = min(r0 + rows, m)
        block = ws.block[: (r1 - r0) * n].view(r1 - r0, n)
        # (a negative leaky slope, whose g' reads Z, runs without the workspace: never here)
        a = FORWARD_INPLACE[name](_dense(a_in[r0:r1], weights[l - 2], biases[l - 2], block),
                                  slope)  # A^[l-1], rows r0..r1  (2.3-2.4)
        if lr is None:  # dW += dZ[rows]ᵀ A[rows]  (2.10)
            _accumulate_grad(w, F.dense_grad_weight, (dz[r0:r1], a), alpha, False)
        else:
            F.dense_grad_weight(dz[r0:r1], a, alpha=alpha, add_to=w)  # W -= lr dW, in parts
        _dz_over_saved(name, da[r0:r1], a, slope, over_da=True)  # dZ = dA * g'(Z)  (2.12)
    if b is not None:
        if lr is None:
            _accumulate_grad(b, F.dense_grad_bias, (dz,), alpha, False, ws.ones)  # db  (2.11)
        else:
            F.dense_grad_bias(dz, alpha=alpha, add_to=b, ones=ws.ones)  # b -= lr db
    return da


def _accumulate_grad(
    param: Tensor, rule, args: tuple, alpha: float, mixed: bool, ones: Tensor | None = None
) -> None:
    """param.grad += alpha * rule(*args), as the autograd engine accumulates (in param's dtype)."""
    if param.grad is None:
        grad = rule(*args, alpha=alpha)
        param.grad = grad if grad.dtype == param.dtype else grad.to(param.dtype)
    elif mixed:
        param.grad.add_(rule(*args, alpha=alpha))
    else:
        extra = {} if ones is None else {"ones": ones}
        rule(*args, alpha=alpha, add_to=param.grad, **extra)  # one fused GEMM / GEMV
