"""``relu(x, inplace=True)`` and ``leaky_relu(..., inplace=True)`` as PyTorch does them (issue 19,
point 2): the input overwritten and returned, a backward read from that result, and PyTorch's
refusals (a leaf that requires grad; leaky ReLU with a negative slope, in backward)."""

import functools

import pytest
import torch
import torch.nn.functional as TF

from torchnn import functional as F

SLOPES = [0.0, 0.01, 0.2, 1.0]
OPS = [pytest.param(F.relu, TF.relu, id="relu")] + [
    pytest.param(functools.partial(F.leaky_relu, negative_slope=s),
                 functools.partial(TF.leaky_relu, negative_slope=s), id=f"leaky_relu[{s}]")
    for s in SLOPES]


def _z(shape=(5, 4), seed=0):
    z = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return torch.cat([z, torch.tensor([[0.0, float("nan"), -0.0, 1e4]], dtype=torch.float64)])


def _run(op, x0, inplace=True):
    """x -> z = 2x -> op(z) -> (a * a).sum(): the returned a, z, and dJ/dx."""
    x = x0.clone().requires_grad_()
    z = x * 2
    a = op(z, inplace=inplace)
    (g,) = torch.autograd.grad((a * a).nansum(), x)
    return a, z, g


@pytest.mark.parametrize("fn, ref", OPS)
def test_inplace_overwrites_input_and_matches_torch(fn, ref):
    a, z, g = _run(fn, _z())
    a_ref, z_ref, g_ref = _run(ref, _z())
    assert a is z and a_ref is z_ref  # the input itself comes back, in both
    torch.testing.assert_close(a, a_ref, rtol=0, atol=0, equal_nan=True)
    torch.testing.assert_close(g, g_ref, rtol=0, atol=0, equal_nan=True)
    _, _, g_out = _run(fn, _z(), inplace=False)  # the same gradient as out of place
    torch.testing.assert_close(g, g_out, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("fn, ref", OPS)
def test_inplace_without_grad_overwrites_and_returns_the_input(fn, ref):
    z, z_ref = _z(), _z()
    assert fn(z, inplace=True) is z and ref(z_ref, inplace=True) is z_ref
    torch.testing.assert_close(z, z_ref, rtol=0, atol=0, equal_nan=True)
    with torch.no_grad():
        z = _z().requires_grad_()
        assert fn(z, inplace=True) is z


@pytest.mark.parametrize("fn, ref", OPS)
def test_inplace_saves_the_result_so_a_later_write_is_caught_as_in_torch(fn, ref):
    """The saved tensor is the output: writing over it again makes backward refuse."""
    for op in (fn, ref):
        z = _z().requires_grad_() * 1
        a = op(z, inplace=True)
        a.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            a.nansum().backward()


@pytest.mark.parametrize("fn, ref", OPS)
def test_inplace_over_a_saved_output_is_caught_as_in_torch(fn, ref):
    """Overwriting σ's saved output: PyTorch's version check fires in both."""
    for op in (fn, ref):
        a = F.sigmoid(_z().requires_grad_())
        op(a, inplace=True)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            a.nansum().backward()


@pytest.mark.parametrize("fn, ref", OPS)
def test_inplace_on_a_leaf_that_requires_grad_is_refused_before_writing(fn, ref):
    for op in (fn, ref):
        for view in (lambda t: t, lambda t: t[:3]):  # the leaf itself, a view of it
            x = _z().requires_grad_()
            before = x.detach().clone()
            with pytest.raises(RuntimeError, match="leaf"):
                op(view(x), inplace=True)
            torch.testing.assert_close(x.detach(), before, rtol=0, atol=0, equal_nan=True)


def test_inplace_leaky_relu_with_negative_slope_refused_in_backward_as_torch():
    """torch 2.13: the forward runs in place; backward raises (the sign of z is gone)."""
    for op in (F.leaky_relu, TF.leaky_relu):
        z = _z().requires_grad_() * 1
        a = op(z, -0.5, inplace=True)
        assert a is z
        torch.testing.assert_close(a.detach(), TF.leaky_relu(_z(), -0.5), equal_nan=True)
        with pytest.raises(RuntimeError, match="negative slope|negative_slope"):
            a.nansum().backward()
    with pytest.raises(RuntimeError, match=r"negative_slope=-0.5.*expected a slope >= 0 or "
                                           "inplace=False"):
        F.leaky_relu(_z().requires_grad_() * 1, -0.5, inplace=True).nansum().backward()
    z = _z()  # without autograd there is nothing to refuse
    assert F.leaky_relu(z, -0.5, inplace=True) is z


@pytest.mark.parametrize("fn, ref", OPS)
def test_inplace_under_torch_func_and_compile_as_torch(fn, ref):
    x = _z()[:5]

    def loss(op):
        return lambda t: (op(t * 2, inplace=True) ** 2).sum()

    torch.testing.assert_close(torch.func.grad(loss(fn))(x), torch.func.grad(loss(ref))(x))
    torch.testing.assert_close(torch.func.vmap(lambda t: fn(t * 2, inplace=True))(x),
                               torch.func.vmap(lambda t: ref(t * 2, inplace=True))(x))
    ones = torch.ones_like(x)
    torch.testing.assert_close(torch.func.jvp(lambda t: fn(t * 2, inplace=True), (x,), (ones,)),
                               torch.func.jvp(lambda t: ref(t * 2, inplace=True), (x,), (ones,)))
    torch._dynamo.reset()
    compiled = torch.compile(loss(fn), fullgraph=True, backend="aot_eager")
    xc, xr = x.clone().requires_grad_(), x.clone().requires_grad_()
    (g,) = torch.autograd.grad(compiled(xc), xc)
    (g_ref,) = torch.autograd.grad(loss(ref)(xr), xr)
    torch.testing.assert_close(g, g_ref)


@pytest.mark.parametrize("fn, ref", OPS)
def test_inplace_forward_ad_updates_the_tangent(fn, ref):
    import torch.autograd.forward_ad as fwAD

    x, t = _z()[:5], torch.randn(5, 4, dtype=torch.float64)
    tangents = []
    for op in (fn, ref):
        with fwAD.dual_level():
            z = fwAD.make_dual(x.clone(), t.clone()) * 2
            out = op(z, inplace=True)
            assert out is z
            tangents.append(fwAD.unpack_dual(out).tangent.clone())
    torch.testing.assert_close(tangents[0], tangents[1])
