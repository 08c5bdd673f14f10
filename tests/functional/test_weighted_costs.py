"""The losses called as torch calls them (issue 19, point 8): ``weight`` third, ``pos_weight``,
the legacy ``size_average`` / ``reduce``; the weighted backwards (closed form, derived by hand in
``torchnn/functional/weighted.py``) against torch: values, gradients, gradcheck, torch.func and
torch.compile."""

import pytest
import torch
import torch.nn.functional as TF

from tests.parity import FLOAT_DTYPES, assert_parity
from torchnn import functional as F
from torchnn.functional.weighted import WeightedCrossEntropyFunction, WeightedSquaredErrorFunction
from torchnn.testing import check_function

REDUCTIONS = ["mean", "sum", "none"]
SHAPE = (6, 3)
# (weight shape, pos_weight shape): per element, per column (broadcast), scalar, per class
WEIGHTINGS = [((6, 3), None), (None, (3,)), ((3,), (3,)), ((), (1, 3)), ((6, 1), (3,))]


def _data(seed=0, hard=False):
    g = torch.Generator().manual_seed(seed)
    z = 3 * torch.randn(SHAPE, generator=g, dtype=torch.float64)
    y = torch.rand(SHAPE, generator=g, dtype=torch.float64)  # soft labels: dJ/dy is not trivial
    y = (y > 0.5).double() if hard else y

    def w(shape):  # weights in (0.1, 2.1), pos_weights too
        return None if shape is None else 0.1 + 2 * torch.rand(shape, generator=g,
                                                                 dtype=torch.float64)
    return z, y, w


def _bce(weight, pos_weight, reduction, dtype=torch.float64):
    cast = [None if t is None else t.to(dtype) for t in (weight, pos_weight)]
    return (lambda z, y: F.binary_cross_entropy_with_logits(z, y, cast[0], reduction=reduction,
                                                             pos_weight=cast[1]),
            lambda z, y: TF.binary_cross_entropy_with_logits(z, y, cast[0], reduction=reduction,
                                                              pos_weight=cast[1]))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shapes", WEIGHTINGS, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_cross_entropy_matches_torch(reduction, shapes, dtype):
    z, y, w = _data()
    # NOTE: in half precision the weighted dZ rounds in more steps than A - Y; both sides stay
    # within a few ulps of |dZ| <= 4 of the float64 value (ours measured the closer), not of 0.3
    atol = {torch.float16: 1e-2, torch.bfloat16: 8e-2}.get(dtype)
    p = assert_parity(*_bce(w(shapes[0]), w(shapes[1]), reduction, dtype), z, y, dtype=dtype,
                      atol=atol)
    assert p.wrt == [0, 1]  # gradients w.r.t. z and y both compared


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_cross_entropy_delta_is_closed_form(reduction):
    """dZ = w [(1 + (p - 1) y) σ(z) - p y] / m, written out here against our backward."""
    z, y, w = _data(1, hard=True)
    weight, pos = w((6, 3)), w((3,))
    z.requires_grad_()
    (dz,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(
        z, y, weight, reduction="sum", pos_weight=pos), z)
    a = torch.sigmoid(z.detach())
    torch.testing.assert_close(dz, weight * ((1 + (pos - 1) * y) * a - pos * y))
    # with w = p = 1 it is eq. 2.9's A - Y
    (dz,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(
        z, y, torch.ones(3, dtype=torch.float64), reduction="sum",
        pos_weight=torch.ones(3, dtype=torch.float64)), z)
    torch.testing.assert_close(dz, a - y)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_weighted_cross_entropy_extreme_logits(dtype):
    z = torch.tensor([[300.0, -300.0, 1e4], [-1e4, 710.0, -710.0]])
    y = torch.tensor([[0.0, 1.0, 0.5], [1.0, 0.0, 0.5]])
    weight, pos = torch.tensor([0.5, 2.0, 1.5]), torch.tensor([3.0, 0.2, 1.0])
    p = assert_parity(*_bce(weight, pos, "none", dtype), z, y, dtype=dtype)
    assert torch.isfinite(p.out).all() and all(torch.isfinite(g).all() for g in p.grads)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_mse_matches_torch_with_the_weights_gradient(reduction, dtype):
    z, y, w = _data()
    p = assert_parity(lambda a, t, wt: F.mse_loss(a, t, reduction=reduction, weight=wt),
                      lambda a, t, wt: TF.mse_loss(a, t, reduction=reduction, weight=wt),
                      z, y, w(SHAPE), dtype=dtype)
    assert p.wrt == [0, 1, 2]  # torch differentiates the weight too; so do we


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_costs_gradcheck(reduction):
    z, y, w = _data(2)
    weight, pos = w(SHAPE), w((3,))
    z, y = z.requires_grad_(), y.requires_grad_()
    bce = _bce(weight, pos, reduction)[0]
    assert torch.autograd.gradcheck(bce, (z, y), check_forward_ad=True)
    assert torch.autograd.gradgradcheck(bce, (z, y))
    mse = lambda a, t, wt: F.mse_loss(a, t, reduction=reduction, weight=wt)  # noqa: E731
    assert torch.autograd.gradcheck(mse, (z, y, weight.requires_grad_()), check_forward_ad=True)
    assert torch.autograd.gradgradcheck(mse, (z, y, weight))


CHECKED = [
    ("bce(weight, pos_weight)", lambda z, y, w, p: F.binary_cross_entropy_with_logits(
        z, y, w, pos_weight=p), lambda z, y, w, p: TF.binary_cross_entropy_with_logits(
        z, y, w, pos_weight=p), [0, 1]),
    ("WeightedCrossEntropyFunction(sum)", WeightedCrossEntropyFunction,
     lambda z, y, w, p, r: TF.binary_cross_entropy_with_logits(z, y, w, reduction=r,
                                                               pos_weight=p), [0, 1]),
    ("mse(weight)", lambda z, y, w: F.mse_loss(z, y, weight=w),
     lambda z, y, w: TF.mse_loss(z, y, weight=w), [0, 1, 2]),
    ("WeightedSquaredErrorFunction(none)", WeightedSquaredErrorFunction,
     lambda z, y, w, r: TF.mse_loss(z, y, reduction=r, weight=w), [0, 1, 2]),
]


@pytest.mark.parametrize("name, fn, ref, grad_inputs", CHECKED, ids=[c[0] for c in CHECKED])
def test_weighted_costs_pass_every_transform_check(name, fn, ref, grad_inputs):
    """torch.func (vmap, grad, jvp, per-sample grads), torch.compile(fullgraph=True), autocast,
    double backward: ``check_function``'s 14 checks, as for every other Function."""
    g = torch.Generator().manual_seed(5)
    z, y = torch.randn(3, 4, generator=g), torch.rand(3, 4, generator=g)
    w, p = 0.1 + torch.rand(3, 4, generator=g), 0.1 + 2 * torch.rand(4, generator=g)
    inputs = {"bce(weight, pos_weight)": (z, y, w, p),
              "WeightedCrossEntropyFunction(sum)": (z, y, w[0], p, "sum"),
              "mse(weight)": (z, y, w), "WeightedSquaredErrorFunction(none)": (z, y, w, "none")}
    report = check_function(fn, *inputs[name], reference=ref, grad_inputs=grad_inputs, name=name)
    assert report.passed, report
    assert report["torch.compile fullgraph"].status == "pass"
    assert report["vmap(grad) per-sample"].status == "pass"


# ----------------------------------------------------------------------------------------------
# call-compatible: torch's argument order, torch's legacy arguments, clear errors
# ----------------------------------------------------------------------------------------------


def test_weight_is_the_third_positional_argument_as_in_torch():
    z, y, w = _data()
    weight, pos, per_element = w((3,)), w((3,)), w(SHAPE)
    torch.testing.assert_close(F.binary_cross_entropy_with_logits(z, y, weight),
                               TF.binary_cross_entropy_with_logits(z, y, weight))
    torch.testing.assert_close(  # every argument in torch's positions
        F.binary_cross_entropy_with_logits(z, y, weight, None, None, "sum", pos),
        TF.binary_cross_entropy_with_logits(z, y, weight, None, None, "sum", pos))
    torch.testing.assert_close(F.mse_loss(z, y, None, None, "sum", per_element),
                               TF.mse_loss(z, y, None, None, "sum", per_element))


@pytest.mark.parametrize("size_average, reduce", [(None, False), (False, None), (True, True),
                                                  (False, True), (True, None)])
def test_legacy_size_average_and_reduce_read_as_torch(size_average, reduce):
    z, y, w = _data()
    for fn, ref, args in [(F.binary_cross_entropy_with_logits,
                           TF.binary_cross_entropy_with_logits, (z, y, w((3,)))),
                          (F.mse_loss, TF.mse_loss, (z, y))]:
        with pytest.warns(UserWarning):
            got = fn(*args, size_average=size_average, reduce=reduce)
        with pytest.warns(UserWarning):
            want = ref(*args, size_average=size_average, reduce=reduce)
        torch.testing.assert_close(got, want)


def test_weights_need_no_gradient_as_in_torch():
    z, y, w = _data()
    weight = w((3,)).requires_grad_()
    with pytest.raises(RuntimeError):  # torch: not differentiable with respect to 'weight'
        TF.binary_cross_entropy_with_logits(z, y, weight)
    with pytest.raises(RuntimeError, match="weight requires grad.*expected weight.detach"):
        F.binary_cross_entropy_with_logits(z, y, weight)
    with pytest.raises(RuntimeError, match="pos_weight requires grad"):
        F.binary_cross_entropy_with_logits(z, y, pos_weight=weight)
    with torch.no_grad():  # no graph, nothing to refuse
        F.binary_cross_entropy_with_logits(z, y, weight)


def test_weight_errors_name_what_was_got_and_expected():
    z, y, w = _data()
    with pytest.raises(TypeError, match="weight must be a tensor, got the string 'none'.*"
                                        "reduction='none'"):
        F.binary_cross_entropy_with_logits(z, y, "none")  # torchnn's old positional reduction
    with pytest.raises(ValueError, match=r"weight has shape \(4,\) but input has shape \(6, 3\)"):
        F.binary_cross_entropy_with_logits(z, y, torch.ones(4, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"pos_weight has shape \(2, 3\).*broadcasts"):
        F.binary_cross_entropy_with_logits(z, y, pos_weight=torch.ones(2, 3))
    with pytest.raises(ValueError):  # torch: "Weights and input must have the same size."
        TF.mse_loss(z, y, weight=torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"weight has shape \(3,\).*expected the same shape"):
        F.mse_loss(z, y, weight=torch.ones(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="size_average must be a bool or None, got 'sum'"):
        F.mse_loss(z, y, "sum")  # torch's 3rd argument of mse_loss is size_average


def test_weighted_cost_under_autocast_runs_in_float32_as_torch():
    z, y, w = _data()
    z, y, weight, pos = z.float(), y.float(), w((3,)).float(), w((3,)).float()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = F.binary_cross_entropy_with_logits(z.bfloat16(), y, weight, pos_weight=pos)
        want = TF.binary_cross_entropy_with_logits(z.bfloat16(), y, weight, pos_weight=pos)
    assert got.dtype == want.dtype == torch.float32
    torch.testing.assert_close(got, want)
