#!/usr/bin/env python
"""Where the autograd path's time goes on the cat network [12288, 20, 7, 5, 1], m = 209.

Two probes behind the README's "cat autograd: not met" verdict (docs/performance-history.md,
round 9); each interleaves its candidates in blocks and prints medians in µs:

    python scripts/probe_cat.py phases   # zero_grad / forward / backward / SGD step, one-node
                                         # graph vs torch.nn, on cat and on [4, 20, 7, 5, 1]
    python scripts/probe_cat.py gemms    # layer 1's two 10 MB GEMMs in other layouts / splits

Not a test and not part of the benchmark: a measuring aid for the next attempt.
"""

from __future__ import annotations

import copy
import statistics
import sys
import time

import torch
from torch import nn

from torchnn.bench.variants import Problem


def _blocks(cands: dict, reps: int, blocks: int = 15) -> dict[str, float]:
    """Median µs per call of each candidate, run ``reps`` times a block, blocks interleaved."""
    times: dict[str, list[float]] = {k: [] for k in cands}
    for f in cands.values():
        for _ in range(3):
            f()
    for _ in range(blocks):
        for k, f in cands.items():
            t = time.perf_counter()
            for _ in range(reps):
                f()
            times[k].append((time.perf_counter() - t) / reps * 1e6)
    return {k: statistics.median(v) for k, v in times.items()}


def phases(dims: list[int], m: int, activation: str, steps: int) -> None:
    """Each phase of a training step, torchnn's one-node graph against torch.nn."""
    p = Problem("probe", dims, m, activation=activation)
    net0 = p.network()
    net = copy.deepcopy(net0)
    net.graph = "network"
    seq = nn.Sequential(*list(net0.to_torch())[:-1])  # logits: drop the final Sigmoid
    loss = nn.BCEWithLogitsLoss()
    x, y = p.x, p.y
    runs = {
        "torchnn one node": (torch.optim.SGD(net.parameters(), lr=p.lr),
                             lambda: net.cost(x, y)),
        "torch.nn": (torch.optim.SGD(seq.parameters(), lr=p.lr), lambda: loss(seq(x), y)),
    }
    totals = {name: [0.0] * 4 for name in runs}
    for _ in range(3):  # blocks, interleaved
        for name, (opt, cost) in runs.items():
            for _ in range(steps):
                t0 = time.perf_counter()
                opt.zero_grad()
                t1 = time.perf_counter()
                j = cost()
                t2 = time.perf_counter()
                j.backward()
                t3 = time.perf_counter()
                opt.step()
                t4 = time.perf_counter()
                for i, dt in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                    totals[name][i] += dt
    print(f"{dims} m={m} {activation}: µs a step (zero_grad, forward, backward, step)")
    for name, tot in totals.items():
        print(f"  {name:17s}", "  ".join(f"{t / (3 * steps) * 1e6:8.1f}" for t in tot))


def gemms() -> None:
    """Layer 1 of cat: Z = X W1ᵀ + b (forward) and dW1 = dZᵀ X, as torch.nn and torchnn run
    them, against other layouts of the same products (X copied to columns once, a K split)."""
    m, n0, n1 = 209, 12288, 20
    x, w, b, dz = torch.randn(m, n0), torch.randn(n1, n0) * 0.01, torch.zeros(n1), \
        torch.randn(m, n1)
    xc = x.t().contiguous()  # (n0, m): the seed's column notation, copied once
    x2 = x.view(m, 2, n0 // 2).permute(1, 0, 2)  # (2, m, n0/2): the reduction split in two
    w2 = w.view(n1, 2, n0 // 2).permute(1, 2, 0)  # (2, n0/2, n1)
    cands = {
        "Z  addmm(b, X, W1ᵀ)  [both]": lambda: torch.addmm(b, x, w.t()),
        "Z  W1 @ Xc (columns)": lambda: w.mm(xc),
        "Z  K split: bmm + sum": lambda: torch.bmm(x2, w2).sum(0).add_(b),
        "dW dZᵀ @ X  [both]": lambda: dz.t().mm(x),
        "dW dZᵀ @ Xcᵀ (columns)": lambda: dz.t().mm(xc.t()),
        "dWᵀ Xc @ dZ (transposed out)": lambda: xc.mm(dz),
    }
    for k, us in _blocks(cands, reps=20).items():
        print(f"  {k:30s} {us:8.1f} µs")


def main(argv: list[str]) -> int:
    torch.set_num_threads(2)
    part = argv[0] if argv else "phases"
    if part == "phases":
        for dims in ([12288, 20, 7, 5, 1], [4, 20, 7, 5, 1]):
            phases(dims, 209, "tanh", steps=100 if dims[0] > 100 else 1000)
    elif part == "gemms":
        gemms()
    else:
        print(f"unknown probe {part!r}; expected 'phases' or 'gemms'", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
