"""``gd_step``'s direct path (``torchnn.nn.explicit.gd_step_fast``), taken from the second step
of a training loop on: the same parameters, J and errors as the general ``explicit_step``."""

import copy
import re

import pytest
import torch

import torchnn
from torchnn.nn import explicit


@pytest.fixture(autouse=True, params=["numpy", "torch"])
def engine(request, monkeypatch):
    """Each test runs on both engines of a small network: numpy's (the default below
    SERIAL_MACS, ``explicit_numpy``) and the torch kernels' (what larger networks run)."""
    if request.param == "torch":
        monkeypatch.setattr(explicit, "numpy_step_applies", lambda *a: False)
    return request.param


def _setup(hidden="tanh", dims=(2, 4, 3, 1), m=40, seed=0):
    gen = torch.Generator().manual_seed(seed)
    net = torchnn.DeepNetwork(list(dims), hidden, init="he", generator=gen)
    x = torch.randn(m, dims[0], generator=gen)
    y = (torch.rand(m, dims[-1], generator=gen) > 0.5).float()
    return net, x, y


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
def test_direct_path_equals_general_step_bit_for_bit(hidden):
    net, x, y = _setup(hidden)
    twin = copy.deepcopy(net)
    for _ in range(5):
        j_fast = net.gd_step(x, y, lr=0.3)
        j_general = explicit.explicit_step(twin, x, y, 0.3)
        assert torch.equal(j_fast, j_general)
    for p, q in zip(net.parameters(), twin.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("dims", [(2, 4, 1), (3, 5, 4, 2)])
def test_direct_path_equals_the_general_engine_without_workspace(hidden, dims):
    # NOTE: the general body with no workspace: plain GEMMs, sums and adds, no out= buffers,
    # no broadcast outer product; equal to float32 rounding
    net, x, y = _setup(hidden, dims)
    twin = copy.deepcopy(net)
    for _ in range(5):
        j_fast = net.gd_step(x, y, lr=0.3)
        with torch.no_grad():
            j_general = explicit._step(twin, x, y, 0.3, False, None, explicit._params(twin),
                                       False, None)
        torch.testing.assert_close(j_fast, j_general, rtol=1e-6, atol=1e-7)
    for p, q in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_direct_path_is_taken_only_once_the_workspace_exists():
    net, x, y = _setup()
    assert explicit.gd_step_fast(net, x, y, 0.1, None) is None  # no workspace yet
    net.gd_step(x, y, 0.1)
    assert explicit.gd_step_fast(net, x, y, 0.1, None) is not None
    assert explicit.gd_step_fast(net, x[:10], y[:10], 0.1, None) is None  # another m
    assert explicit.gd_step_fast(net, x.double(), y, 0.1, None) is None  # another dtype
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert explicit.gd_step_fast(net, x, y, 0.1, None) is None


def test_changed_activation_or_target_is_not_served_stale():
    net, x, y = _setup("tanh")
    net.gd_step(x, y, 0.1)
    net.hidden_activation = "relu"  # the workspace was built for tanh
    ref = copy.deepcopy(net)
    explicit.free_workspace(ref)
    assert torch.equal(net.gd_step(x, y, 0.1), ref.gd_step(x, y, 0.1))
    y2 = 1 - y  # a new target tensor: checked and used, not the cached one
    assert torch.equal(net.gd_step(x, y2, 0.1), ref.gd_step(x, y2, 0.1))
    y2[0] = 1 - y2[0]  # changed in place: its version counter moved
    assert torch.equal(net.gd_step(x, y2, 0.1), ref.gd_step(x, y2, 0.1))
    for p, q in zip(net.parameters(), ref.parameters()):
        assert torch.equal(p, q)


@pytest.mark.filterwarnings("ignore:.*the features reach max:UserWarning")
def test_direct_path_raises_on_non_finite_cost_before_any_update():
    net, x, y = _setup("relu")
    net.gd_step(x, y, 0.1)  # builds the workspace: the next step takes the direct path
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(1e20)
    before = [p.clone() for p in net.parameters()]
    with pytest.raises(FloatingPointError) as err:
        net.gd_step(x * 1e6, y, 0.1)  # a new x: value-checked (warns), then J overflows
    assert re.search(r"DeepNetwork\.gd_step: the cost J is (nan|inf)", str(err.value))
    assert all(torch.equal(p, b) for p, b in zip(net.parameters(), before))


def test_direct_path_bad_target_still_a_clear_error():
    net, x, y = _setup()
    net.gd_step(x, y, 0.1)
    with pytest.raises(ValueError, match=r"target y has shape \(39, 1\); expected \(40, 1\)"):
        net.gd_step(x, y[:39], 0.1, check_values=False)


def test_logistic_regression_takes_the_direct_path_with_the_same_result():
    gen = torch.Generator().manual_seed(4)
    net = torchnn.LogisticRegression(6, generator=gen)
    x = torch.randn(30, 6, generator=gen)
    y = (torch.rand(30, 1, generator=gen) > 0.5).float()
    twin = copy.deepcopy(net)
    net.gd_step(x, y, 0.5)
    assert explicit.gd_step_fast(net, x, y, 0.5, None) is not None  # direct from step 2 on
    net.gd_step(x, y, 0.5)
    for _ in range(3):
        with torch.no_grad():
            explicit._step(twin, x, y, 0.5, False, None, explicit._params(twin), False, None)
    for p, q in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)
