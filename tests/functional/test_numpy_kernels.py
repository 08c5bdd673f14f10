"""The numpy forms of g and J (``NP_ACTIVATE_INPLACE``, ``np_cross_entropy_delta_``) against
PyTorch's own ops, and the derivative rules on numpy arrays: the explicit engine's numpy path
rests on them."""

import warnings

import numpy as np
import pytest
import torch

from torchnn.functional import activations as A
from torchnn.functional.costs import np_cross_entropy_delta_

DTYPES = [np.float32, np.float64]
# NOTE: the extremes (±1000, ±inf) overflow e^{|z|}; the forms here must not
EXTREMES = [-np.inf, -1000.0, -100.0, -88.0, -30.0, -17.0, -5.0, -1e-3, 0.0, 1e-3, 5.0, 17.0,
            30.0, 88.0, 100.0, 1000.0, np.inf]


def _z(dtype, shape=(3, 50), seed=0):
    z = np.random.default_rng(seed).normal(0.0, 4.0, size=shape).astype(dtype)
    z.flat[: len(EXTREMES)] = EXTREMES
    return z


def _tol(dtype):
    return {"rtol": 1e-6, "atol": 1e-7} if dtype == np.float32 else {"rtol": 1e-14, "atol": 1e-15}


@pytest.fixture(autouse=True)
def _no_numpy_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow / invalid-value RuntimeWarning fails
        yield


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_np_activation_matches_torch_over_the_extremes(name, dtype):
    z = _z(dtype)
    ref = getattr(torch, name)(torch.from_numpy(z)).numpy()
    s, t = np.empty_like(z), np.empty_like(z)
    out = A.NP_ACTIVATE_INPLACE[name](z, s, t)
    assert out is z  # written over Z
    np.testing.assert_allclose(z, ref, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_derivative_rules_take_numpy_arrays_with_the_same_values(name, dtype):
    # NOTE: one rule per activation (DERIVATIVE_FROM_OUTPUT), for tensors and numpy arrays alike
    rng = np.random.default_rng(1)
    z = torch.from_numpy(rng.normal(0.0, 3.0, size=(4, 30)).astype(dtype))
    z[0, :3] = 0.0  # ReLU's g'(0) = 0, as torch (a = 0 there)
    a = getattr(torch, name)(z)
    rule = A.DERIVATIVE_FROM_OUTPUT[name]
    ref = rule(a.clone(), out=torch.empty_like(a)).numpy()
    a_np = a.numpy().copy()
    out = rule(a_np, out=a_np)
    assert out is a_np  # written over A
    np.testing.assert_allclose(out, ref, **_tol(dtype))
    got, want = rule(a.numpy()), rule(a).numpy()  # into a new array / tensor
    assert got.dtype == want.dtype  # relu's: a boolean mask from both
    np.testing.assert_allclose(got.astype(dtype), want.astype(dtype), **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_np_cross_entropy_is_torch_bce_with_logits_and_sigmoid_minus_y(dtype, soft):
    z = _z(dtype)
    z[~np.isfinite(z)] = 0.0  # J is infinite there (below)
    rng = np.random.default_rng(2)
    y = rng.random(z.shape).astype(dtype)
    y = y if soft else (y > 0.5).astype(dtype)
    zt, yt = torch.from_numpy(z.copy()), torch.from_numpy(y)
    j_ref = torch.nn.functional.binary_cross_entropy_with_logits(zt, yt, reduction="sum").item()
    dz_ref = (torch.sigmoid(zt) - yt).numpy()
    s, t = np.empty_like(z), np.empty_like(z)
    total = np_cross_entropy_delta_(z, y, s, t)
    assert total == pytest.approx(j_ref, rel=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(z, dz_ref, **_tol(dtype))  # dZ = A - Y (eq. 2.9), over Z


def test_np_cross_entropy_of_an_infinite_logit_is_not_finite_without_warnings():
    # NOTE: J is inf or nan there (0 * inf in Σ z y); the engine's cost check reports either
    z = np.array([[np.inf, -np.inf, 0.0]])
    y = np.array([[0.0, 1.0, 1.0]])
    total = np_cross_entropy_delta_(z, y, np.empty_like(z), np.empty_like(z))
    assert not np.isfinite(total)
    np.testing.assert_allclose(z, [[1.0, -1.0, -0.5]])
