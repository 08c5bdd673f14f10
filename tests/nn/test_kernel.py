"""The compiled kernel (torchnn/nn/gd_loop.c) pinned to the torch engine, hence to the
ACTIVATIONS / OUTPUTS records it restates: every hidden g, every output, both dtypes, odd batch
sizes; and its build: the cache, concurrent builds, a missing compiler."""

import copy
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

import torchnn
from torchnn.nn import compiled

needs_cc = pytest.mark.skipif(shutil.which(os.environ.get("CC") or "cc") is None,
                              reason="needs a C compiler (cc)")

HIDDEN = [("sigmoid", 0.01), ("tanh", 0.01), ("relu", 0.01), ("leaky_relu", 0.01),
          ("leaky_relu", 0.0), ("leaky_relu", 2.0), ("identity", 0.01)]
OUTPUT = ["sigmoid", "softmax-index", "softmax-probability", "identity", "relu"]
TOL = {torch.float64: {"rtol": 1e-10, "atol": 1e-12}, torch.float32: {"rtol": 2e-5, "atol": 1e-6}}


def _case(hidden, slope, output, dtype, m, seed=0):
    """A [3, 5, 4, C] network with nonzero biases and a batch of m examples."""
    name = output.split("-")[0]
    C = 3 if name == "softmax" else 2
    g = torch.Generator().manual_seed(seed)
    net = torchnn.DeepNetwork([3, 5, 4, C], hidden, name, negative_slope=slope, init="he",
                              generator=g, dtype=dtype)
    with torch.no_grad():
        for layer in net.layers:
            layer.bias.normal_(0, 0.5, generator=g)
    x = torch.randn(m, 3, generator=g, dtype=dtype)
    if output == "softmax-index":
        y = torch.randint(0, C, (m,), generator=g)
    elif output == "softmax-probability":
        y = torch.softmax(torch.randn(m, C, generator=g, dtype=dtype), -1)
    elif output == "sigmoid":
        y = (torch.rand(m, C, generator=g) > 0.5).to(dtype)
    else:
        y = torch.randn(m, C, generator=g, dtype=dtype)
    return net, x, y


def _same_run(net, x, y, lr, iterations, dtype):
    ref = copy.deepcopy(net)
    costs = net.gradient_descent(x, y, lr, iterations, engine="compiled")
    want = ref.gradient_descent(x, y, lr, iterations, engine="torch")
    torch.testing.assert_close(costs, want, **TOL[dtype])
    for p, q in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, **TOL[dtype])


@needs_cc
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("m", [1, 7, 33])  # one example; not a multiple of any vector width
@pytest.mark.parametrize("output", OUTPUT)
@pytest.mark.parametrize("hidden, slope", HIDDEN)
def test_kernel_matches_the_torch_engine(hidden, slope, output, m, dtype):
    net, x, y = _case(hidden, slope, output, dtype, m)
    _same_run(net, x, y, 0.01, 5, dtype)


@needs_cc
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("output", ["sigmoid", "softmax-index"])
def test_kernel_cost_is_stable_for_large_logits(output, dtype):
    """J from Z for |z| in the hundreds: no log(0), no overflow, as the records."""
    net, x, y = _case("relu", 0.01, output, dtype, 9)
    with torch.no_grad():
        net.layers[-1].weight.mul_(300)
    _same_run(net, x, y, 1e-4, 2, dtype)


@needs_cc
def test_one_layer_network_is_logistic_regression():
    net = torchnn.LogisticRegression(4, generator=torch.Generator().manual_seed(0),
                                     dtype=torch.float64)
    x = torch.randn(21, 4, dtype=torch.float64)
    y = (x.sum(1, keepdim=True) > 0).double()
    _same_run(net, x, y, 0.5, 20, torch.float64)


@needs_cc
def test_index_targets_and_one_hot_rows_give_the_same_run():
    net, x, y = _case("tanh", 0.01, "softmax-index", torch.float64, 10)
    ref = copy.deepcopy(net)
    one_hot = torch.nn.functional.one_hot(y, 3).double()
    torch.testing.assert_close(net.gradient_descent(x, y, 0.1, 5, engine="compiled"),
                               ref.gradient_descent(x, one_hot, 0.1, 5, engine="compiled"))


# ----------------------------------------------------------------------------------------------
# the build: cache, concurrency, no compiler
# ----------------------------------------------------------------------------------------------


@needs_cc
def test_second_build_reuses_the_cached_library(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(compiled, "_LIBS", {})
    assert not isinstance(compiled.library(torch.float64), str)
    built = sorted((tmp_path / "torchnn").iterdir())
    assert [p.suffix for p in built] == [".so"] and built[0].name.startswith("gd_loop-double-")

    runs = []
    real_run = subprocess.run
    monkeypatch.setattr(compiled.subprocess, "run",
                        lambda cmd, **kw: runs.append(cmd) or real_run(cmd, **kw))
    monkeypatch.setattr(compiled, "_LIBS", {})  # a new process: only the disk cache is left
    assert not isinstance(compiled.library(torch.float64), str)
    assert all(str(compiled.SOURCE) not in cmd for cmd in runs), "it compiled again"
    assert sorted((tmp_path / "torchnn").iterdir()) == built


_BUILD_AND_RUN = """
import torch, torchnn
net = torchnn.DeepNetwork([2, 3, 1], "tanh", generator=torch.Generator().manual_seed(0),
                          dtype=torch.float64)
x = torch.randn(8, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
y = (x[:, :1] > 0).double()
print(net.gradient_descent(x, y, 0.5, 3, engine="compiled").sum().item())
"""


@needs_cc
def test_concurrent_builds_each_end_with_a_whole_library(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path),
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    procs = [subprocess.Popen([sys.executable, "-c", _BUILD_AND_RUN], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    assert outs[0][0] == outs[1][0]
    left = [p.name for p in (tmp_path / "torchnn").iterdir()]
    assert len(left) == 1 and left[0].endswith(".so"), left  # no temporary file left behind


def test_without_a_compiler_auto_runs_the_torch_engine_and_compiled_says_why(monkeypatch):
    monkeypatch.setenv("CC", "torchnn-no-such-compiler")
    monkeypatch.setattr(compiled, "_LIBS", {})
    net, x, y = _case("tanh", 0.01, "sigmoid", torch.float64, 12)
    ref = copy.deepcopy(net)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        costs = net.gradient_descent(x, y, 0.1, 4)
    assert torch.equal(costs, ref.gradient_descent(x, y, 0.1, 4, engine="torch"))
    with pytest.raises(RuntimeError, match="engine='compiled' cannot run: no C compiler: "
                                           "'torchnn-no-such-compiler' is not on PATH"):
        net.gradient_descent(x, y, 0.1, 4, engine="compiled")


def test_a_compiler_that_fails_is_a_reason_not_a_crash(tmp_path, monkeypatch):
    fake = tmp_path / "badcc"
    fake.write_text("#!/bin/sh\n[ \"$1\" = --version ] && echo bad 1.0 && exit 0\n"
                    "echo 'bad: cannot compile' >&2; exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CC", str(fake))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(compiled, "_LIBS", {})
    assert compiled.library(torch.float32) == (
        f"the C compiler {fake} could not build gd_loop.c: bad: cannot compile")
    assert list((tmp_path / "cache" / "torchnn").iterdir()) == []
