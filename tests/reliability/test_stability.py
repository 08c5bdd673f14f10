"""Numerical stability: activations, their gradients and both costs for |z| up to 1e4.

Each check runs a sweep of z (dense near the saturation points of σ and tanh, then out to ±1e4)
in float64, float32, bfloat16 and float16, and compares values and gradients with PyTorch's own
ops in the same dtype (``tests.parity.assert_parity``); the costs are also compared with a
float64 reference, so "finite" also means "correct".
"""

import re

import pytest
import torch

import torchnn
from tests.parity import FLOAT_DTYPES, assert_parity
from torchnn import functional as F

_EDGES = [0.0, 1e-3, 0.5, 1.0, 5.0, 9.0, 10.0, 15.0, 17.0, 20.0, 30.0, 36.0, 40.0, 50.0, 88.0,
          89.0, 100.0, 500.0, 710.0, 1e3, 5e3, 1e4]
# 43 named points (±edges) plus 201 evenly spaced over [-1e4, 1e4]: 244 points per dtype
Z = torch.cat([torch.tensor([-e for e in _EDGES[1:]] + _EDGES, dtype=torch.float64),
               torch.linspace(-1e4, 1e4, 201, dtype=torch.float64)])
SWEEP_POINTS = Z.numel()

ACTIVATIONS = {
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "relu": (F.relu, torch.relu),
    "leaky_relu_0.01": (lambda z: F.leaky_relu(z, 0.01),
                        lambda z: torch.nn.functional.leaky_relu(z, 0.01)),
    "leaky_relu_-0.5": (lambda z: F.leaky_relu(z, -0.5),
                        lambda z: torch.nn.functional.leaky_relu(z, -0.5)),
}


def _finite(*tensors):
    for t in tensors:
        assert t is not None and torch.isfinite(t).all(), f"non-finite values: {t}"


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_and_gradient_stable_up_to_1e4(name, dtype):
    fn, ref = ACTIVATIONS[name]
    p = assert_parity(fn, ref, Z, dtype=dtype)
    _finite(p.out, *p.grads)
    # the seed's vanishing gradient, exactly: σ and tanh saturate to a zero derivative
    if name in ("sigmoid", "tanh"):
        g = p.grads[0][p.inputs[0].detach().abs() >= 1e3]
        assert (g == 0).all()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("label", [0.0, 1.0])
def test_cross_entropy_from_logits_stable_up_to_1e4(dtype, label):
    # σ(z) rounds to exactly 0 or 1 here in every dtype; L must still be |z| or 0, never log(0)
    y = torch.full_like(Z, label)
    p = assert_parity(
        lambda z, t: F.binary_cross_entropy_with_logits(z, t, reduction="none"),
        lambda z, t: torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="none"),
        Z, y, dtype=dtype, wrt=[0],
    )
    _finite(p.out, *p.grads)
    exact = torch.nn.functional.binary_cross_entropy_with_logits(Z, y, reduction="none")
    tol = {torch.float64: 1e-12, torch.float32: 1e-6, torch.bfloat16: 8e-3, torch.float16: 1e-3}
    torch.testing.assert_close(p.out.double(), exact, rtol=tol[dtype], atol=tol[dtype])
    # dZ = A - Y (eq. 2.9), bounded by 1 everywhere
    z = p.inputs[0].detach()
    j = F.binary_cross_entropy_with_logits(z.requires_grad_(), y.to(dtype))
    (dz,) = torch.autograd.grad(j, z)
    _finite(j, dz)
    assert dz.abs().max() <= 1.0 / Z.numel() * (1 + 1e-2)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_squared_error_stable(dtype):
    # NOTE: (1e4)² = 1e8 exceeds float16's largest value (65504), so in float16 the sweep stops
    # at |a - y| <= 250; PyTorch's own mse_loss overflows the same way. Under autocast the cost
    # runs in float32 (as PyTorch's) and is finite up to 1e4 (the next test).
    a = Z if dtype != torch.float16 else Z[Z.abs() <= 250]
    for label in (0.0, 1.0):
        y = torch.full_like(a, label)
        p = assert_parity(F.mse_loss, torch.nn.functional.mse_loss, a, y, dtype=dtype)
        _finite(p.out, *p.grads)
        exact = torch.nn.functional.mse_loss(a, y)
        torch.testing.assert_close(p.out.double(), exact, rtol=1e-2, atol=0)


def test_squared_error_under_autocast_is_float32_and_finite_at_1e4():
    a = Z.half().requires_grad_()
    with torch.autocast("cpu", dtype=torch.float16):
        j = F.mse_loss(a, torch.zeros_like(a))
    (grad,) = torch.autograd.grad(j, a)
    assert j.dtype == torch.float32
    _finite(j, grad)
    torch.testing.assert_close(j.double(), (Z**2).mean(), rtol=1e-3, atol=0)


def _saturated_network(dtype, hidden):
    """A flower-sized network whose Z^[L] spans about ±1e4 (σ(Z) rounds to exactly 0 and 1)."""
    gen = torch.Generator().manual_seed(0)
    net = torchnn.DeepNetwork([2, 4, 1], hidden, init="xavier", generator=gen, dtype=dtype)
    x = torch.randn(64, 2, generator=gen, dtype=torch.float64)
    y = (x[:, :1] * x[:, 1:] > 0).double()
    with torch.no_grad():
        z = net.to(torch.float64).logits(x)
        net.layers[-1].weight.mul_(1e4 / z.abs().max())
        net.layers[-1].bias.zero_()
        net.to(dtype)
    return net, x.to(dtype), y.to(dtype)


# NOTE: the explicit path folds the cost's 1/m into the GEMM's alpha, except in float16 and
# bfloat16, where it scales dZ^[L] first (the unscaled sum dZᵀA overflowed float16 to inf); the
# float16 cases below pin that.


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
@pytest.mark.parametrize("run", ["cost", "backprop"])
def test_network_cost_and_gradients_at_saturation_match_native(dtype, hidden, run, request):
    net, x, y = _saturated_network(dtype, hidden)
    seq = net.to_torch()
    z_native = seq[:-1](x)  # the logits, through torch.nn
    assert z_native.abs().max() > 5e3
    j_native = torch.nn.functional.binary_cross_entropy_with_logits(z_native, y)
    j_native.backward()
    if run == "cost":
        j = net.cost(x, y)
        j.backward()
    else:
        j = net.backprop(x, y)
    tol = {torch.bfloat16: {"rtol": 4e-2, "atol": 2e-2}, torch.float16: {"rtol": 1e-2,
           "atol": 2e-2}}.get(dtype, {})
    _finite(j)
    torch.testing.assert_close(j.detach().float(), j_native.detach().float(), **tol)
    for p, q in zip(net.parameters(), seq.parameters()):
        _finite(p.grad)
        torch.testing.assert_close(p.grad.float(), q.grad.float(), **tol)


@pytest.mark.parametrize(
    "dtype", [torch.float32, torch.bfloat16, torch.float16],
    ids=str,
)
def test_explicit_backprop_large_batch_does_not_overflow(dtype):
    # m = 2^17 examples whose gradient is -0.5: the sum over examples (-65536) exceeds float16
    m = 1 << 17
    net = torchnn.LogisticRegression(2, init="zeros", dtype=dtype)
    x, y = torch.ones(m, 2, dtype=dtype), torch.ones(m, 1, dtype=dtype)
    net.backprop(x, y)
    expected = torch.full((1, 2), -0.5, dtype=dtype)
    torch.testing.assert_close(net.layers[0].weight.grad, expected)
    net.zero_grad()
    net.cost(x, y).backward()  # the autograd path scales dZ by 1/m first: fine in every dtype
    torch.testing.assert_close(net.layers[0].weight.grad, expected)


# ----------------------------------------------------------------------------------------------
# data scaled by 1e6: the raw network either trains or stops with a clear error, never NaN weights;
# the data modules standardise, so the same data trains as if unscaled
# ----------------------------------------------------------------------------------------------


def _flower_like(dtype=torch.float32, m=400):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(m, 2, generator=g, dtype=torch.float64)
    return x.to(dtype), (x[:, :1] * x[:, 1:] > 0).to(dtype)


@pytest.mark.filterwarnings("ignore:.*the features reach max:UserWarning")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "relu", "leaky_relu", "identity"])
def test_raw_network_on_data_scaled_by_1e6_never_has_nan_weights(hidden, dtype, one_thread):
    x, y = _flower_like(dtype)
    x = x * 1e6
    net = torchnn.DeepNetwork([2, 4, 1], hidden, generator=torch.Generator().manual_seed(0),
                              dtype=dtype)
    params = list(net.parameters())
    with pytest.warns(UserWarning, match=r"max \|x\| = \d\.\d+e\+06.*standardise the data"):
        net.validate_batch(x, y)
    try:
        for _ in range(300):
            net.zero_grad()
            j = net.backprop(x, y)
            with torch.no_grad():
                for p in params:
                    p -= 1.2 * p.grad
    except FloatingPointError as err:  # the clear failure: J overflowed, nothing was updated
        assert "Standardise" in str(err) and re.search(r"max \|x\| = \d\.\d+e\+06", str(err))
    else:  # or it trained (saturated units): then J is finite
        assert torch.isfinite(j)
    _finite(*params)


def test_data_module_standardises_data_scaled_by_1e6(one_thread):
    data = pytest.importorskip("torchnn.data")
    X, y = data.make_flower()
    curves = []
    for scale in (1.0, 1e6):
        dm = data.TabularDataModule(X * scale, y, task="binary", val_fraction=0.0)
        x_train, y_train = dm.full_train_tensors()
        assert x_train.abs().max() < 10  # standardised: features of order 1
        net = torchnn.DeepNetwork([2, 4, 1], "tanh", generator=torch.Generator().manual_seed(0))
        curve = []
        for _ in range(1500):
            net.zero_grad()
            curve.append(net.backprop(x_train, y_train))
            with torch.no_grad():
                for p in net.parameters():
                    p -= 1.2 * p.grad
        curves.append(torch.stack(curve))
        _finite(*net.parameters())
    torch.testing.assert_close(curves[1], curves[0], rtol=1e-4, atol=1e-5)  # scale-free
    assert curves[1][-1] < 0.45 < 0.69 < curves[1][0]  # it learned (log 2 = 0.693 at start)


@pytest.mark.parametrize(
    "dtype", [torch.float32, torch.bfloat16, torch.float16],
    ids=str,
)
def test_gd_step_large_batch_does_not_overflow(dtype):
    # the same sum in gd_step: W gets α/m inside its GEMM, but b's row sum overflows first
    net = torchnn.LogisticRegression(2, init="zeros", dtype=dtype)
    m = 1 << 17
    net.gd_step(torch.ones(m, 2, dtype=dtype), torch.ones(m, 1, dtype=dtype), lr=1.0)
    for p in net.parameters():
        torch.testing.assert_close(p.detach(), torch.full_like(p, 0.5))  # 0 - 1.0 * (-0.5)
