"""softmax and the categorical cross-entropy (eq. 2.9 with C classes) against torch.nn.functional:
values and gradients in every dtype, extreme logits, both target forms, the refused arguments."""

import functools

import pytest
import torch
import torch.nn.functional as TF

from tests.parity import DEVICES, FLOAT_DTYPES, assert_parity
from torchnn import functional as F

REDUCTIONS = ["mean", "sum", "none"]
SHAPES = [(9, 4), (1, 2), (5, 10), (7,)]


def _logits(shape, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(shape, generator=g, dtype=torch.float64)


def _targets(shape, kind, seed=1):
    g = torch.Generator().manual_seed(seed)
    if kind == "index":
        return torch.randint(0, shape[-1], shape[:-1], generator=g)
    if kind == "onehot":
        return TF.one_hot(torch.randint(0, shape[-1], shape[:-1], generator=g),
                          shape[-1]).double()
    return torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), -1)


def _ce(reduction):
    return (functools.partial(F.cross_entropy, reduction=reduction),
            functools.partial(TF.cross_entropy, reduction=reduction))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [*SHAPES, (2, 3, 4)], ids=str)
@pytest.mark.parametrize("dim", [-1, 0])
def test_softmax_matches_torch(dim, shape, dtype, device):
    p = assert_parity(F.softmax, TF.softmax, _logits(shape), dim, dtype=dtype, device=device)
    assert torch.allclose(p.out.double().sum(dim), torch.ones(()).double(), atol=1e-2)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_noncontiguous(dtype):
    assert_parity(F.softmax, TF.softmax, _logits((6, 5)), -1, dtype=dtype, noncontiguous=True)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_softmax_is_stable_for_extreme_logits(dtype):
    """Max-subtracted: z = ±1e4, 710 (e^710 overflows float64) give torch's finite values."""
    z = torch.tensor([[1e4, -1e4, 0.0], [710.0, 709.0, -710.0], [300.0, 300.0, 300.0]])
    p = assert_parity(F.softmax, TF.softmax, z, -1, dtype=dtype)
    assert torch.isfinite(p.out).all() and torch.isfinite(p.grads[0]).all()


def test_softmax_backward_reads_the_formula():
    """dz = a ⊙ (da - Σ_j a_j da_j), the rule written from the output alone."""
    z, da = _logits((4, 3)), _logits((4, 3), seed=5)
    a = torch.softmax(z, -1)
    want = torch.autograd.functional.vjp(lambda t: torch.softmax(t, -1), z, da)[1]
    torch.testing.assert_close(F.softmax_grad(da, a), want)
    assert F.SoftmaxFunction.apply(z.requires_grad_(), -1).grad_fn is not None


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ["index", "probabilities", "onehot"])
def test_cross_entropy_matches_torch(kind, reduction, shape, dtype, device):
    """Values and gradients for the logits, and for the target when it is probabilities."""
    p = assert_parity(*_ce(reduction), _logits(shape), _targets(shape, kind), dtype=dtype,
                      device=device)
    assert p.wrt == ([0] if kind == "index" else [0, 1])


@pytest.mark.parametrize("kind", ["index", "probabilities"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_cross_entropy_noncontiguous(dtype, kind):
    assert_parity(*_ce("mean"), _logits((6, 3)), _targets((6, 3), kind), dtype=dtype,
                  noncontiguous=True)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ["index", "probabilities"])
def test_cross_entropy_is_stable_for_extreme_logits(kind, reduction, dtype):
    """log-sum-exp: |z| = 1e4 and 710 give torch's finite loss and gradients, no log(0)."""
    z = torch.tensor([[1e4, -1e4, 0.0], [710.0, -710.0, 709.0], [-1e4, 1e4, 1e4],
                      [300.0, -300.0, 0.0]])
    y = _targets((4, 3), kind)
    p = assert_parity(*_ce(reduction), z, y, dtype=dtype)
    assert torch.isfinite(p.out).all() and all(torch.isfinite(g).all() for g in p.grads)


@pytest.mark.parametrize("kind", ["index", "probabilities"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_gradcheck_and_gradgradcheck(reduction, kind):
    z = _logits((4, 3), seed=2).requires_grad_()
    y = _targets((4, 3), kind)
    inputs = (z, y.requires_grad_()) if y.is_floating_point() else (z,)

    def f(z, y=y):
        return F.cross_entropy(z, y, reduction=reduction)

    assert torch.autograd.gradcheck(f, inputs, check_forward_ad=True)
    assert torch.autograd.gradgradcheck(f, inputs)
    assert torch.autograd.gradcheck(F.softmax, (z, -1), check_forward_ad=True)
    assert torch.autograd.gradgradcheck(F.softmax, (z, -1))


def test_cross_entropy_delta_is_a_minus_y():
    """dZ = A - Y before the 1/m: indices subtract 1 at each row's class; one-hot rows agree."""
    z, t = _logits((5, 4)), torch.tensor([0, 3, 1, 1, 2])
    a, onehot = torch.softmax(z, -1), TF.one_hot(t, 4).double()
    torch.testing.assert_close(F.softmax_cross_entropy_delta(a, t), a - onehot)
    torch.testing.assert_close(F.softmax_cross_entropy_delta(a, onehot), a - onehot)
    z.requires_grad_()
    F.cross_entropy(z, t).backward()
    torch.testing.assert_close(z.grad, (a - onehot) / 5)


def test_int32_indices_are_accepted_as_int64():
    z, t = _logits((4, 3)), torch.tensor([0, 2, 1, 1])
    torch.testing.assert_close(F.cross_entropy(z, t.int()), TF.cross_entropy(z, t))


@pytest.mark.parametrize("kwargs, match", [
    ({"weight": torch.ones(3)}, "weight = a tensor of shape \\(3,\\) is not supported"),
    ({"ignore_index": 1}, "ignore_index = 1 is not supported"),
    ({"label_smoothing": 0.1}, "label_smoothing = 0.1 is not supported"),
])
def test_cross_entropy_refuses_what_torchnn_lacks(kwargs, match):
    with pytest.raises(NotImplementedError, match=match):
        F.cross_entropy(_logits((4, 3)), torch.tensor([0, 2, 1, 1]), **kwargs)


@pytest.mark.parametrize("target, match", [
    (torch.tensor([0, 1]), r"class-index target has shape \(2,\).*expected int64 indices in "
                           r"\[0, 3\) of shape \(4,\)"),
    (torch.rand(4, 2, dtype=torch.float64), r"probability target has shape \(4, 2\); expected "
                                            r"the input's shape \(4, 3\)"),
    (torch.tensor([True, False, True, True]), "class-index target .* dtype torch.bool"),
])
def test_cross_entropy_target_errors_name_what_was_expected(target, match):
    with pytest.raises(ValueError, match=match):
        F.cross_entropy(_logits((4, 3)), target)


def test_cross_entropy_argument_errors():
    with pytest.raises(ValueError, match=r"expected logits \(m, C\)"):
        F.cross_entropy(_logits((2, 3, 4)), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(_logits((4, 3)), torch.tensor([0, 2, 1, 1]), reduction="max")
    with pytest.raises(TypeError, match="floating-point"):
        F.cross_entropy(torch.zeros(4, 3, dtype=torch.long), torch.tensor([0, 2, 1, 1]))
    with pytest.raises(RuntimeError, match="out of bounds"):  # no ignore_index: in [0, C)
        F.cross_entropy(_logits((2, 3)), torch.tensor([0, -100]))
    with pytest.raises(ValueError, match=r"dim must be an int in \[-2, 1\]"):
        F.softmax(_logits((2, 3)), 2)


@pytest.mark.parametrize("kind", ["index", "probabilities"])
def test_cross_entropy_autocast_runs_in_float32(kind):
    z, y = _logits((4, 3)).float().requires_grad_(), _targets((4, 3), kind)
    y = y.float() if y.is_floating_point() else y
    with torch.autocast("cpu", dtype=torch.bfloat16):
        j = F.cross_entropy(z, y)
        a = F.softmax(z, -1)
    assert j.dtype == torch.float32 and a.dtype == torch.float32  # as torch's on the CPU
    j.backward()
    assert z.grad.dtype == torch.float32
