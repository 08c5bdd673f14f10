"""Time DeepNetwork.gradient_descent's compiled loop against gd_step and torch.nn + SGD.

    .venv/bin/python scripts/bench_gd_loop.py [--repeats 5] [--iterations 10000]

The flower [2, 4, 1], m = 400, tanh, sigmoid + cross-entropy, lr 1.2: each round times every
variant once, in a new order each round (interleaved), from the same initial weights; the table
gives the median and the range over the rounds, in µs per iteration. Then the width table:
[2, n_h, n_h, 1] at m = 400, compiled against gd_step: where the compiled loop stops paying
(compiled.MAX_MACS, in multiply-adds per example, is set from it).
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import time

import torch

import torchnn
from torchnn.data.synthetic import make_flower
from torchnn.nn import compiled


def _flower(dtype, n_h=4, hidden_layers=1):
    x, y = make_flower()
    net = torchnn.DeepNetwork([2, *[n_h] * hidden_layers, 1], "tanh", init="xavier",
                              generator=torch.Generator().manual_seed(0), dtype=dtype)
    return net, torch.tensor(x, dtype=dtype), torch.tensor(y, dtype=dtype).unsqueeze(1)


def _torch_nn(net, x, y, lr, iterations):
    seq = net.to_torch()[:-1]  # logits: BCEWithLogitsLoss applies the sigmoid
    opt = torch.optim.SGD(seq.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    for _ in range(iterations):
        opt.zero_grad()
        loss = loss_fn(seq(x), y)
        loss.backward()
        opt.step()


def _variants(iterations):
    """name -> (dtype, hidden width, iterations, run(net, x, y))."""
    def gd(engine):
        return lambda net, x, y, n: net.gradient_descent(x, y, 1.2, n, engine=engine)
    return {
        "compiled float32": (torch.float32, iterations, gd("compiled")),
        "compiled float64": (torch.float64, iterations, gd("compiled")),
        "gd_step float32": (torch.float32, iterations, gd("torch")),
        "gd_step float64": (torch.float64, iterations, gd("torch")),
        "torch.nn + SGD float32": (torch.float32, iterations // 5,
                                   lambda net, x, y, n: _torch_nn(net, x, y, 1.2, n)),
    }


def _time(run, dtype, n, n_h=4, hidden_layers=1):
    net, x, y = _flower(dtype, n_h, hidden_layers)
    net = copy.deepcopy(net)
    start = time.perf_counter()
    run(net, x, y, n)
    return (time.perf_counter() - start) / n * 1e6  # µs per iteration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)  # interleaved rounds
    parser.add_argument("--iterations", type=int, default=10_000)  # the main job's loop
    parser.add_argument("--widths", default="16,32,48,64,96,128")  # n_h of the width table
    parser.add_argument("--threads", type=int, default=2)  # torch's intra-op threads
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    variants = _variants(args.iterations)
    for dtype, _, run in variants.values():  # warm-up: builds the kernels, untimed
        _time(run, dtype, 2)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name in random.sample(list(variants), len(variants)):
            dtype, n, run = variants[name]
            times[name].append(_time(run, dtype, n))
    print(f"flower [2, 4, 1], m = 400, tanh: µs per iteration, median (min-max) of "
          f"{args.repeats} interleaved rounds")
    print("| variant | µs / iteration | 10,000 iterations |")
    print("|---|---|---|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name} | {med:.1f} ({min(ts):.1f}-{max(ts):.1f}) | {med * 1e4 / 1e6:.3f} s |")

    compiled.MAX_MACS = 10**9  # this table measures the bound: every width runs compiled
    print("\n[2, n_h, n_h, 1], m = 400, tanh, float32: µs per iteration (median)")
    print("| n_h | compiled | gd_step | gd_step / compiled |")
    print("|---|---|---|---|")
    for n_h in map(int, args.widths.split(",")):
        n = max(20, args.iterations * 4 // n_h)  # the first call's checks stay noise
        runs = {e: (lambda net, x, y, k, e=e: net.gradient_descent(x, y, 0.1, k, engine=e))
                for e in ("compiled", "torch")}
        got: dict[str, list[float]] = {e: [] for e in runs}
        for _ in range(args.repeats):
            for e in random.sample(list(runs), 2):
                got[e].append(_time(runs[e], torch.float32, n, n_h, hidden_layers=2))
        c, t = (statistics.median(got[e]) for e in ("compiled", "torch"))
        print(f"| {n_h} | {c:.1f} | {t:.1f} | {t / c:.2f} |")


if __name__ == "__main__":
    main()
