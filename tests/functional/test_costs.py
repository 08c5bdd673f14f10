"""The costs (seed §1.2, eq. 2.9) against torch.nn.functional: values, gradients for z and y."""

import functools

import pytest
import torch
import torch.nn.functional as TF

from tests.parity import DEVICES, FLOAT_DTYPES, assert_parity
from torchnn import functional as F

REDUCTIONS = ["mean", "sum", "none"]
SHAPES = [(9, 1), (1, 1), (6, 3), (4,), (2, 3, 2)]
COSTS = [
    pytest.param(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits,
                 id="bce_with_logits"),
    pytest.param(F.mse_loss, TF.mse_loss, id="mse"),
]


def _zy(shape, seed=0, hard=False):
    g = torch.Generator().manual_seed(seed)
    z = 3 * torch.randn(shape, generator=g, dtype=torch.float64)
    y = torch.rand(shape, generator=g, dtype=torch.float64)  # soft labels: dJ/dy is not trivial
    return z, (y > 0.5).double() if hard else y


def _pair(fn, ref, reduction):
    return (functools.partial(fn, reduction=reduction), functools.partial(ref, reduction=reduction))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn, ref", COSTS)
def test_cost_matches_torch(fn, ref, reduction, shape, dtype, device):
    # gradients w.r.t. both the input z (or ŷ) and the target y
    p = assert_parity(*_pair(fn, ref, reduction), *_zy(shape), dtype=dtype, device=device)
    assert p.wrt == [0, 1]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn, ref", COSTS)
def test_cost_hard_labels_batch_of_one(fn, ref, reduction):
    assert_parity(*_pair(fn, ref, reduction), *_zy((1, 1), seed=3, hard=True))
    assert_parity(*_pair(fn, ref, reduction), *_zy((1, 1), seed=4, hard=True), wrt=[0])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn, ref", COSTS)
def test_cost_noncontiguous(fn, ref, reduction, dtype):
    assert_parity(*_pair(fn, ref, reduction), *_zy((6, 3)), dtype=dtype, noncontiguous=True)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_extreme_logits(reduction, dtype):
    """No log(0) anywhere: |z| = 300, 1e4 with y in {0, 1/2, 1} give torch's finite values."""
    z = torch.tensor([300.0, -300.0, 1e4, -1e4, 710.0, -710.0, 40.0, -40.0] * 3)
    y = torch.tensor([0.0] * 8 + [0.5] * 8 + [1.0] * 8)
    ref = functools.partial(TF.binary_cross_entropy_with_logits, reduction=reduction)
    p = assert_parity(functools.partial(F.binary_cross_entropy_with_logits, reduction=reduction),
                      ref, z, y, dtype=dtype)
    assert torch.isfinite(p.out).all() and all(torch.isfinite(g).all() for g in p.grads)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn, ref", COSTS)
def test_cost_gradcheck(fn, ref, reduction):
    z, y = (t.requires_grad_() for t in _zy((4, 2), seed=2))
    assert torch.autograd.gradcheck(functools.partial(fn, reduction=reduction), (z, y))
    assert torch.autograd.gradgradcheck(functools.partial(fn, reduction=reduction), (z, y))


@pytest.mark.parametrize("fn, ref", COSTS)
def test_cost_int_target_like_torch_float_target(fn, ref):
    z, y = _zy((5, 1), hard=True)
    torch.testing.assert_close(fn(z, y.long()), ref(z, y))


@pytest.mark.parametrize("fn, ref", COSTS)
def test_cost_errors_name_the_bad_value(fn, ref):
    z, y = _zy((5, 1))
    with pytest.raises(ValueError, match="'avg'"):
        fn(z, y, reduction="avg")
    with pytest.raises(ValueError, match=r"\(5,\)"):
        fn(z, y.reshape(5))
