"""The course's hidden-layer-size experiment on the planar "flower", in one command.

For n_h in 1, 2, 3, 4, 5, 20, 50: the network [2, n_h, 1] (tanh, sigmoid output), the seed's
small initialisation (W ~ N(0, 1) x 0.01, b = 0), 5,000 full-batch gradient-descent iterations
with α = 1.2 (``DeepNetwork.gradient_descent``: the compiled loop where a C compiler is present,
else the torch engine), training accuracy on the course's 400 points (``make_flower()``).

Columns: the course's figure; the course's own weight draw (numpy seeded with 2, as its
``initialize_parameters``); ours, torch generators seeded 0 .. seeds-1 (mean and min-max).
Writes ``hidden_sizes.md`` (the table) and ``hidden_sizes.png`` (the seven decision boundaries
of the course's draw, the course's figure) into ``--out``, and prints the table.

    .venv/bin/python scripts/hidden_sizes.py                          # into runs/hidden_sizes/
    .venv/bin/python scripts/hidden_sizes.py --seeds 5 --out docs/course   # docs/course.md's
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

import torchnn
from torchnn.data import make_flower

SIZES = (1, 2, 3, 4, 5, 20, 50)  # the course's hidden-layer sizes
COURSE = {1: 67.5, 2: 67.25, 3: 90.75, 4: 90.5, 5: 91.25, 20: 90.0, 50: 90.25}  # its accuracy, %


def course_draw(n_h: int, dtype: torch.dtype) -> torchnn.DeepNetwork:
    """[2, n_h, 1] with the course's own initial weights: numpy seeded with 2, W1 then W2
    drawn as ``randn(n[l], n[l-1]) * 0.01``, zero biases."""
    rng = np.random.RandomState(2)
    net = torchnn.DeepNetwork([2, n_h, 1], "tanh", "sigmoid", dtype=dtype)
    with torch.no_grad():
        for layer in net.layers:
            layer.weight.copy_(torch.as_tensor(rng.randn(*layer.weight.shape) * 0.01))
            layer.bias.zero_()
    return net


def seeded(n_h: int, seed: int, dtype: torch.dtype) -> torchnn.DeepNetwork:
    """[2, n_h, 1] with torchnn's small initialisation from a torch generator seeded ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    return torchnn.DeepNetwork([2, n_h, 1], "tanh", "sigmoid", init="small", init_scale=0.01,
                               generator=generator, dtype=dtype)


def accuracy(net: torchnn.DeepNetwork, x: torch.Tensor, y: torch.Tensor) -> float:
    """Training accuracy in %, the course's ``predict``: 1[A^[2] > 0.5]."""
    return 100.0 * (net.predict(x) == y).double().mean().item()


def table(rows: list[dict], seeds: int) -> str:
    """The markdown table: n_h, the course's %, the course's draw, ours (mean, min-max)."""
    lines = [f"| n_h | course (%) | course's draw (%) | ours: mean of {seeds} seeds (%) | "
             "ours: min-max (%) |", "|---|---|---|---|---|"]
    for r in rows:
        ours = r["ours"]
        lines.append(f"| {r['n_h']} | {COURSE[r['n_h']]:.2f} | {r['course_draw']:.2f} | "
                     f"{statistics.mean(ours):.2f} | {min(ours):.2f}-{max(ours):.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="torch seeds 0 .. seeds-1")
    parser.add_argument("--iterations", type=int, default=5000, help="the course's 5,000")
    parser.add_argument("--lr", type=float, default=1.2, help="the learning rate α")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="float64: numpy's, the course's precision")
    parser.add_argument("--out", type=Path, default=Path("runs/hidden_sizes"),
                        help="folder for hidden_sizes.md and hidden_sizes.png")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.iterations < 1:
        parser.error(f"--seeds and --iterations must be >= 1, got {args.seeds} and "
                     f"{args.iterations}")
    torch.set_num_threads(1)  # a [2, 50, 1] network is far too small to split across threads
    dtype = getattr(torch, args.dtype)
    X, Y = make_flower()  # the course's 400 points
    x = torch.as_tensor(X, dtype=dtype)  # (400, 2)
    y = torch.as_tensor(Y, dtype=dtype).reshape(-1, 1)  # (400, 1)

    start = time.perf_counter()
    rows, panels = [], []
    for n_h in SIZES:
        net = course_draw(n_h, dtype)
        net.gradient_descent(x, y, args.lr, args.iterations)
        row = {"n_h": n_h, "course_draw": accuracy(net, x, y), "ours": []}
        for seed in range(args.seeds):
            ours = seeded(n_h, seed, dtype)
            ours.gradient_descent(x, y, args.lr, args.iterations)
            row["ours"].append(accuracy(ours, x, y))
        rows.append(row)
        panels.append((f"n_h = {n_h}: {row['course_draw']:.2f} %", net))
    seconds = time.perf_counter() - start

    text = table(rows, args.seeds)
    runs = len(SIZES) * (args.seeds + 1)
    note = (f"{runs} networks x {args.iterations:,} iterations, α = {args.lr}, {args.dtype}, "
            f"trained in {seconds:.2f} s ({datetime.date.today().isoformat()})")
    print(text)
    print(note)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python scripts/hidden_sizes.py " + " ".join(sys.argv[1:] if argv is None else argv)
    (args.out / "hidden_sizes.md").write_text(
        f"<!-- {command.strip()} -->\n{text}\n\n{note}\n", encoding="utf-8")

    from torchnn.training.plots import decision_boundaries_figure

    fig = decision_boundaries_figure(
        [(title, lambda g, net=net: net(g.to(dtype))) for title, net in panels], x, y,
        f"Decision boundaries by hidden-layer size (the course's draw, {args.iterations:,} "
        f"iterations)")
    fig.savefig(args.out / "hidden_sizes.png")
    print(f"Wrote {args.out / 'hidden_sizes.md'} and {args.out / 'hidden_sizes.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
