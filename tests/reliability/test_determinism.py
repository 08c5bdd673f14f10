"""Determinism on the CPU: the same seed gives bit-identical cost curves, in-process and across
processes, for the explicit loop (gd_step, and backprop + update) and for autograd."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import torchnn
from tests.reliability.flower import flower

ITERATIONS = 800


def cost_curve(
    path: str, seed: int = 0, iterations: int = ITERATIONS, device: str = "cpu"
) -> torch.Tensor:
    """J at every iteration of gradient descent (lr 1.2) on the flower's [2, 4, 1] tanh network."""
    x, y = (t.to(device) for t in flower())
    net = torchnn.DeepNetwork([2, 4, 1], "tanh", generator=torch.Generator().manual_seed(seed))
    net.to(device)
    params = list(net.parameters())
    curve = []
    for _ in range(iterations):
        if path == "gd_step":
            curve.append(net.gd_step(x, y, lr=1.2))
            continue
        net.zero_grad()
        if path == "backprop":
            curve.append(net.backprop(x, y))
        else:
            j = net.cost(x, y)
            j.backward()
            curve.append(j.detach())
        with torch.no_grad():
            for p in params:
                p -= 1.2 * p.grad
    return torch.stack(curve)


def test_same_seed_bit_identical_cost_curves_in_process(one_thread):
    for path in ("gd_step", "backprop", "autograd"):
        first, second = cost_curve(path), cost_curve(path)
        assert torch.equal(first, second), f"{path}: two runs differ"
        assert first[-1] < 0.3 < 0.69 < first[0]  # and it learned
    assert not torch.equal(cost_curve("gd_step", seed=1), cost_curve("gd_step", seed=0))


def test_same_seed_bit_identical_cost_curves_across_processes(one_thread):
    code = (
        "import torch; torch.set_num_threads(1)\n"
        "from tests.reliability.test_determinism import cost_curve\n"
        "print(' '.join(float(j).hex() for j in cost_curve('gd_step')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300, cwd=Path(__file__).parents[2])
    other = [float.fromhex(h) for h in out.stdout.split()]
    here = cost_curve("gd_step").tolist()
    assert len(other) == ITERATIONS and other == here  # float32 -> float: exact, bit for bit


@pytest.mark.cuda
def test_same_seed_bit_identical_on_cuda_with_deterministic_algorithms():
    # NOTE: CUBLAS_WORKSPACE_CONFIG must be set before CUDA starts, hence a fresh process
    code = (
        "import torch; torch.use_deterministic_algorithms(True)\n"
        "from tests.reliability.test_determinism import cost_curve\n"
        "runs = [cost_curve(p, device='cuda') for p in ('gd_step', 'gd_step', 'backprop', "
        "'backprop', 'autograd', 'autograd')]\n"
        "assert all(torch.equal(a, b) for a, b in zip(runs[0::2], runs[1::2])), 'runs differ'\n"
    )
    env = dict(os.environ, CUBLAS_WORKSPACE_CONFIG=":4096:8")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600, env=env,
                   cwd=Path(__file__).parents[2])


def test_the_flower_here_is_torchnn_data_flower():
    from tests.reliability.flower import make_flower
    from torchnn.data import make_flower as data_flower

    for here, there in zip(make_flower(), data_flower()):
        np.testing.assert_array_equal(here, there)
