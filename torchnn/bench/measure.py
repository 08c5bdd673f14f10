"""Measurements: interleaved step timing, the GEMM ceiling and the bytes saved for backward."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

__all__ = ["interleaved_times", "gemm_step", "saved_bytes", "tape_bytes", "peak_cuda_bytes"]


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _time_block(fn: Callable[[], object], n: int, device: str) -> float:
    """Seconds per call of ``fn`` over ``n`` back-to-back calls (CUDA events on a GPU)."""
    if device == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(n):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3 / n
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def interleaved_times(
    steps: dict[str, Callable[[], object]],
    repeats: int,
    min_block_s: float = 0.02,
    warmup: int = 2,
    device: str = "cpu",
) -> dict[str, list[float]]:
    """Per-step seconds of every variant, measured round-robin ``repeats`` times.

    Each round times one block of every variant in turn (the starting variant rotates from
    round to round), so slow drifts of the machine (other processes, clocks) hit all variants
    alike. A block repeats the step until it lasts about ``min_block_s``.
    """
    inner: dict[str, int] = {}
    for name, fn in steps.items():
        for _ in range(warmup - 1):
            fn()  # the first call compiles / allocates
        _sync(device)
        once = _time_block(fn, 1, device)  # the last warm-up call, timed to size the blocks
        inner[name] = max(1, min(10_000, math.ceil(min_block_s / max(once, 1e-7))))
    names = list(steps)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            times[name].append(_time_block(steps[name], inner[name], device))
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def gemm_step(dims: list[int], m: int, dtype: torch.dtype, device: str) -> Callable[[], None]:
    """The step's matrix products alone, with ``torch.mm`` into preallocated outputs.

    Forward (m, n[l-1]) @ (n[l-1], n[l]); dW^[l] (n[l], m) @ (m, n[l-1]); dA^[l-1]
    (m, n[l]) @ (n[l], n[l-1]) for l >= 2: the FLOPs of ``Problem.flops``, no bias, no
    activation, no Python bookkeeping: the ceiling every variant is measured against.
    """
    shapes = []
    for l, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        shapes.append((m, n_in, n_out))  # Z = A_prev W^T
        shapes.append((n_out, m, n_in))  # dW = dZ^T A_prev
        if l > 1:
            shapes.append((m, n_out, n_in))  # dA_prev = dZ W
    opts = {"dtype": dtype, "device": device}
    mats = [(torch.randn(a, k, **opts), torch.randn(k, b, **opts), torch.empty(a, b, **opts))
            for a, k, b in shapes]

    def run() -> None:
        for a, b, out in mats:
            torch.mm(a, b, out=out)

    return run


def _storage_key(t) -> tuple[int, int]:
    if isinstance(t, np.ndarray):
        base = t if t.base is None else t.base
        return id(base), base.nbytes
    st = t.untyped_storage()
    return st.data_ptr(), st.nbytes()


def tape_bytes(tensors: list, exclude: list[Tensor] = ()) -> int:
    """Bytes of the unique storages among ``tensors`` (``None`` skipped), minus ``exclude``'s."""
    skip = {_storage_key(t)[0] for t in exclude}
    seen = dict(_storage_key(t) for t in tensors if t is not None)
    return sum(n for key, n in seen.items() if key not in skip)


def saved_bytes(forward: Callable[[], Tensor], exclude: list[Tensor]) -> tuple[int, int]:
    """(activation bytes, all bytes) that autograd saves for backward while ``forward`` runs.

    Counted with ``torch.autograd.graph.saved_tensors_hooks``: every saved tensor's *storage*
    is counted once (a view, or one output saved by two nodes, shares it). "Activation bytes"
    leaves out the storages of ``exclude`` (parameters, x and y): they exist whether or not a
    backward is coming. "All bytes" counts them too.
    """
    saved: list[Tensor] = []

    def pack(t: Tensor) -> Tensor:
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = forward()
    del out
    return tape_bytes(saved, exclude), tape_bytes(saved)


def peak_cuda_bytes(fn: Callable[[], object]) -> int:
    """Peak CUDA memory allocated during one call of ``fn``, above what was live before."""
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base
