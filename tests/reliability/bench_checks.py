"""What the value checks cost per explicit step on the flower network (not a test: a measurement).

    .venv/bin/python -m tests.reliability.bench_checks

Times ``gd_step`` and ``backprop`` with ``check_values=True`` (the default: (x, y) validated once,
then a cached identity hit plus one scalar read of J per step) against ``check_values=False``,
interleaved in 100 rounds on one thread (thread CPU time), and prints the medians and the
median of the paired per-round differences.
"""

import statistics
import time

import torch

import torchnn
from tests.reliability.flower import flower


def _time(step, n: int) -> float:
    # NOTE: thread CPU time, not wall time: other processes on a shared machine don't count
    t0 = time.thread_time()
    for _ in range(n):
        step()
    return (time.thread_time() - t0) / n * 1e6


def main(rounds: int = 100, n: int = 500) -> None:
    torch.set_num_threads(1)
    x, y = flower()
    net = torchnn.DeepNetwork([2, 4, 1], "tanh", generator=torch.Generator().manual_seed(0))
    params = list(net.parameters())

    def backprop(check):
        net.zero_grad(set_to_none=False)
        net.backprop(x, y, check_values=check)
        with torch.no_grad():
            torch._foreach_add_(params, [p.grad for p in params], alpha=-1e-6)

    steps = {
        ("gd_step", True): lambda: net.gd_step(x, y, 1e-6),
        ("gd_step", False): lambda: net.gd_step(x, y, 1e-6, check_values=False),
        ("backprop", True): lambda: backprop(True),
        ("backprop", False): lambda: backprop(False),
    }
    times: dict = {k: [] for k in steps}
    for step in steps.values():
        _time(step, n)  # warm-up
    for _ in range(rounds):
        for key, step in steps.items():
            times[key].append(_time(step, n))
    for path in ("gd_step", "backprop"):
        on, off = (statistics.median(times[(path, c)]) for c in (True, False))
        paired = statistics.median(a - b for a, b in zip(times[(path, True)], times[(path, False)]))
        print(f"{path:9s} checks on {on:7.1f} µs  off {off:7.1f} µs  cost {paired:+5.1f} µs "
              "(median of paired rounds)")
    checks = lambda: net._check_values(x, y)  # noqa: E731
    j = net.gd_step(x, y, 1e-6)
    read_j = lambda: torchnn._validate.check_cost_finite(j, x, "bench")  # noqa: E731
    print(f"the pieces: cached (x, y) check {_time(checks, 100_000):.2f} µs, "
          f"finite-J check {_time(read_j, 100_000):.2f} µs")


if __name__ == "__main__":
    main()
