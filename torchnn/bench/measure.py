"""Measurements: interleaved step timing, the GEMM ceiling and the bytes saved for backward."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

__all__ = ["interleaved_times", "balanced_orders", "gemm_step", "saved_bytes", "peak_cuda_bytes"]


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


def interleaved_times(steps: dict[str, Callable[[], object]], repeats: int,
                      min_block_s: float = 0.02, warmup: int = 2,
                      device: str = "cpu") -> dict[str, list[float]]:
    """Per-step seconds of every variant, measured round-robin ``repeats`` times.

    Each round times one block of every variant in turn, so slow drifts of the machine hit all
    variants alike; a block repeats the step until it lasts about ``min_block_s``. Each round's
    order comes from :func:`balanced_orders`.

    NOTE: the first step of a block pays for what the previous block left in the caches and the
    allocator; with a fixed cyclic order each variant always followed the same neighbour, and
    that alone moved ratios by 5-10 %.
    """
    inner: dict[str, int] = {}
    for name, fn in steps.items():
        for _ in range(warmup - 1):
            fn()  # the first call compiles / allocates
        if device == "cuda":
            torch.cuda.synchronize()
        once = _time_block(fn, 1, device)  # the last warm-up call, timed to size the blocks
        inner[name] = max(1, min(10_000, math.ceil(min_block_s / max(once, 1e-7))))
    names = list(steps)
    orders = balanced_orders(len(names))
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for k in orders[r % len(orders)]:
            times[names[k]].append(_time_block(steps[names[k]], inner[names[k]], device))
    return times


def balanced_orders(n: int) -> list[list[int]]:
    """Orders of ``0..n-1`` in which each item directly follows every other item equally often.

    A Williams design: row 0 is 0, 1, n-1, 2, n-2, ...; row r adds r (mod n). For even n the n
    rows are balanced; for odd n the n rows and their reverses together are.
    """
    first, lo, hi = [0], 1, n - 1
    while len(first) < n:
        first.append(lo)
        lo += 1
        if len(first) < n:
            first.append(hi)
            hi -= 1
    rows = [[(k + r) % n for k in first] for r in range(n)]
    return rows if n % 2 == 0 else rows + [row[::-1] for row in rows]


def gemm_step(dims: list[int], m: int, dtype: torch.dtype, device: str) -> Callable[[], None]:
    """The step's matrix products alone (Z^[l], dW^[l], and dA^[l-1] for l >= 2: the FLOPs of
    ``Problem.flops``), ``torch.mm`` into buffers: the ceiling each variant is measured against."""
    shapes = []
    for l, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        shapes += [(m, n_in, n_out), (n_out, m, n_in)] + ([(m, n_out, n_in)] if l > 1 else [])
    opts: dict[str, Any] = {"dtype": dtype, "device": device}
    mats = [(torch.randn(a, k, **opts), torch.randn(k, b, **opts), torch.empty(a, b, **opts))
            for a, k, b in shapes]

    def run() -> None:
        for a, b, out in mats:
            torch.mm(a, b, out=out)

    return run


def _unique_bytes(tensors: list[Tensor], exclude: Sequence[Tensor] = ()) -> int:
    """Bytes of the distinct storages among ``tensors``, leaving out those of ``exclude``."""
    skip = {t.untyped_storage().data_ptr() for t in exclude}
    seen = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}
    return sum(n for ptr, n in seen.items() if ptr not in skip)


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
    return _unique_bytes(saved, exclude), _unique_bytes(saved)


def peak_cuda_bytes(fn: Callable[[], object]) -> int:
    """Peak CUDA memory allocated during one call of ``fn``, above what was live before."""
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base
