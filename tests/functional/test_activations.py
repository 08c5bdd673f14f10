"""Activations (seed §2.2-2.3) against PyTorch's own ops: values, gradients, gradcheck, extremes."""

import functools

import pytest
import torch
import torch.nn.functional as TF

from tests.parity import DEVICES, FLOAT_DTYPES, assert_parity
from torchnn import functional as F

SLOPES = [0.0, 0.01, 0.2, 1.0, -0.5, 2.0]

# (name, torchnn op, torch op) for every activation, leaky ReLU once per slope
OPS = [
    ("sigmoid", F.sigmoid, torch.sigmoid),
    ("tanh", F.tanh, torch.tanh),
    ("relu", F.relu, torch.relu),
] + [
    (
        f"leaky_relu[{s}]",
        functools.partial(F.leaky_relu, negative_slope=s),
        functools.partial(TF.leaky_relu, negative_slope=s),
    )
    for s in SLOPES
]
OPS = [pytest.param(fn, ref, id=name) for name, fn, ref in OPS]
SHAPES = [(1,), (1, 1), (1, 7), (16, 5), (3, 4, 5), ()]


def _z(shape, seed=0, scale=3.0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("fn, ref", OPS)
def test_activation_matches_torch(fn, ref, shape, dtype, device):
    assert_parity(fn, ref, 3 * _z(shape), dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("fn, ref", OPS)
def test_activation_noncontiguous_input_and_grad_output(fn, ref, dtype):
    p = assert_parity(fn, ref, _z((6, 5)), dtype=dtype, noncontiguous=True)
    assert not p.inputs[0].is_contiguous()


@pytest.mark.parametrize("fn, ref", OPS)
def test_activation_transposed_input(fn, ref):
    assert_parity(lambda z: fn(z.t()), lambda z: ref(z.t()), _z((5, 6)))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("fn, ref", OPS)
def test_activation_extreme_inputs(fn, ref, dtype):
    big = [300.0, -300.0, 1e4, -1e4, 88.0, -88.0, 710.0, -710.0, 20.0, -20.0]
    z = torch.tensor(big + [float("inf"), float("-inf")], dtype=torch.float64)
    # NOTE: torch's own leaky ReLU with slope 0 gives NaN at -inf (-inf * 0); we must agree.
    assert_parity(fn, ref, z, dtype=dtype, equal_nan=True)


@pytest.mark.parametrize("fn, ref", [p for p in OPS if p.id in ("sigmoid", "tanh")])
def test_saturating_activation_finite_at_infinity(fn, ref):
    z = torch.tensor([float("inf"), float("-inf"), 1e4, -1e4], requires_grad=True)
    a = fn(z)
    (g,) = torch.autograd.grad(a.sum(), z)
    assert torch.isfinite(a).all() and torch.isfinite(g).all()
    assert torch.equal(g, torch.zeros_like(g))


@pytest.mark.parametrize("fn, ref", OPS)
def test_activation_gradcheck(fn, ref):
    z = _z((4, 3), seed=1)
    z = torch.where(z.abs() < 1e-3, z + 0.1, z).requires_grad_()  # keep off the kink at 0
    assert torch.autograd.gradcheck(fn, (z,))
    assert torch.autograd.gradgradcheck(fn, (z,))  # backward is itself differentiable


def test_relu_derivative_at_zero_matches_torch():
    # NOTE: the seed leaves g'(0) undefined; PyTorch uses 0 for ReLU, so do we.
    p = assert_parity(F.relu, torch.relu, torch.zeros(5), grad_output=torch.ones(5))
    assert torch.equal(p.grads[0], torch.zeros(5, dtype=torch.float64))


@pytest.mark.parametrize("slope", SLOPES)
def test_leaky_relu_derivative_at_zero_matches_torch(slope):
    # NOTE: PyTorch's leaky ReLU has derivative ``negative_slope`` at z = 0 (z > 0 is false).
    fn = functools.partial(F.leaky_relu, negative_slope=slope)
    ref = functools.partial(TF.leaky_relu, negative_slope=slope)
    p = assert_parity(fn, ref, torch.zeros(5), grad_output=torch.ones(5))
    assert torch.equal(p.grads[0], torch.full((5,), slope, dtype=torch.float64))


@pytest.mark.parametrize("slope", SLOPES)
def test_leaky_relu_derivative_on_both_sides(slope):
    z = torch.tensor([-2.0, -1e-6, 1e-6, 2.0], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(F.leaky_relu(z, slope).sum(), z)
    assert torch.equal(g, torch.tensor([slope, slope, 1.0, 1.0], dtype=torch.float64))


def test_leaky_relu_default_slope_is_the_seeds_001():
    z = torch.tensor([-100.0])
    assert F.leaky_relu(z).item() == pytest.approx(-1.0)


def test_leaky_relu_rejects_non_number_slope():
    with pytest.raises(TypeError, match="negative_slope"):
        F.leaky_relu(torch.zeros(2), "0.1")


@pytest.mark.parametrize("fn, ref", OPS)
def test_activation_batch_size_one(fn, ref):
    assert_parity(fn, ref, torch.tensor([[0.7, -1.3, 0.0]]))


@pytest.mark.parametrize("fn, ref", OPS)
def test_activation_without_grad_returns_plain_tensor(fn, ref):
    z = _z((3, 3))
    a = fn(z)
    assert a.grad_fn is None and not a.requires_grad
    torch.testing.assert_close(a, ref(z), rtol=0, atol=0)


# ----------------------------------------------------------------------------------------------
# NaN inputs: the gradient PyTorch's own rules give (0 only where a <= 0 for ReLU)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn, ref", [
    (F.relu, torch.relu),
    (lambda z: F.leaky_relu(z, 0.2), lambda z: TF.leaky_relu(z, 0.2)),
    (lambda z: F.leaky_relu(z, -0.3), lambda z: TF.leaky_relu(z, -0.3)),
], ids=["relu", "leaky_relu[0.2]", "leaky_relu[-0.3]"])
def test_relu_gradient_at_nan_inputs_matches_pytorch(fn, ref):
    """torch's ReLU rule is dz = 0 where a <= 0, else da: a NaN passes da through."""
    z0 = torch.tensor([float("nan"), -1.0, 0.0, 2.0, float("nan")], dtype=torch.float64)
    z, zr = z0.clone().requires_grad_(), z0.clone().requires_grad_()
    g = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)
    (got,) = torch.autograd.grad(fn(z), z, g)
    (want,) = torch.autograd.grad(ref(zr), zr, g)
    assert torch.equal(got, want), (got, want)
