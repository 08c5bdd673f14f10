"""How far a GEMM that adds into W itself (``W.addmm_(dZᵀ, A_prev, alpha=-lr/m)``) moves from the
update computed whole (``W.add_(dZᵀ A_prev, alpha=-lr/m)``), per batch size m.

Both are compared with the float64 update; the printed ratio is (fused error) / (whole error).
A ratio of 1 means the fused GEMM rounds once at W's scale, as the whole update does; above 1 it
splits the sum over m into blocks, each rounded at W's scale (the precision bug ``gd_step``
fixed, tests/nn/test_gd_step_precision.py). The weights are of order 1 and the step small, so
W's rounding dominates, as late in training. Run:

    .venv/bin/python scripts/fused_update_error.py
"""

from __future__ import annotations

import torch

SHAPES = [(256, 784), (256, 256), (10, 256), (1, 256)]  # mnist's layers (n[l], n[l-1])
BATCHES = [64, 128, 256, 512, 1024, 8192]


def ratio(n_out: int, n_in: int, m: int, gen: torch.Generator) -> float:
    w = torch.rand(n_out, n_in, generator=gen) + 1.0
    dz, a = torch.randn(m, n_out, generator=gen), torch.rand(m, n_in, generator=gen)
    alpha = -1e-4 / m
    exact = w.double() + alpha * (dz.double().T @ a.double())
    fused = w.clone().addmm_(dz.T, a, alpha=alpha)
    whole = w.clone().add_(dz.T @ a, alpha=alpha)
    err = [(t.double() - exact).norm().item() for t in (fused, whole)]
    return err[0] / err[1]


def main() -> None:
    gen = torch.Generator().manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          "fused / whole update error, by layer shape (rows) and m (columns)")
    print("| layer | " + " | ".join(f"m = {m}" for m in BATCHES) + " |")
    print("|---" * (len(BATCHES) + 1) + "|")
    for n_out, n_in in SHAPES:
        cells = [f"{ratio(n_out, n_in, m, gen):.2f}" for m in BATCHES]
        print(f"| {n_out} x {n_in} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
