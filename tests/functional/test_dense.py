"""The dense Function (eq. 2.3 forward, eqs. 2.10-2.12 backward) against F.linear of torch."""

import pytest
import torch
import torch.nn.functional as TF

from tests.parity import DEVICES, FLOAT_DTYPES, assert_parity
from torchnn import functional as F
from torchnn.functional.dense import DenseFunction

# (input shape, n_out): 2-D batches incl. m = 1, N-D inputs and a single 1-D example
SHAPES = [((7, 4), 3), ((1, 4), 3), ((1, 1), 1), ((5, 2, 4), 3), ((2, 3, 2, 4), 5), ((4,), 2)]


def _args(in_shape, n_out, bias=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(in_shape, generator=g, dtype=torch.float64)
    w = torch.randn(n_out, in_shape[-1], generator=g, dtype=torch.float64)
    b = torch.randn(n_out, generator=g, dtype=torch.float64) if bias else None
    return x, w, b


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("in_shape, n_out", SHAPES, ids=str)
def test_dense_matches_linear(in_shape, n_out, bias, dtype, device):
    assert_parity(F.dense, TF.linear, *_args(in_shape, n_out, bias), dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("in_shape, n_out", [((7, 4), 3), ((5, 2, 4), 3)], ids=str)
def test_dense_noncontiguous_inputs_and_grad_output(in_shape, n_out, bias, dtype):
    assert_parity(F.dense, TF.linear, *_args(in_shape, n_out, bias), dtype=dtype,
                  noncontiguous=True)


def test_dense_transposed_weight_and_input():
    x, w, b = _args((4, 6), 3)
    assert_parity(lambda x, w, b: F.dense(x.t(), w.t(), b),
                  lambda x, w, b: TF.linear(x.t(), w.t(), b),
                  x.t().contiguous(), w.t().contiguous(), b)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_dense_large_values(dtype):
    x, w, b = _args((6, 4), 3)
    assert_parity(F.dense, TF.linear, 1e4 * x, 300 * w, 1e4 * b, dtype=dtype)


def test_dense_under_cpu_autocast_matches_linear():
    """Under bf16 autocast both run the matmul in bf16 and return float32 parameter grads."""

    def under_autocast(op):
        def run(x, w, b):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return op(x, w, b)
        return run

    p = assert_parity(under_autocast(F.dense), under_autocast(TF.linear), *_args((6, 4), 3),
                      dtype=torch.float32, rtol=2e-2, atol=2e-2)
    assert p.out.dtype == p.ref_out.dtype == torch.bfloat16
    assert [g.dtype for g in p.grads] == [g.dtype for g in p.ref_grads]


def test_dense_is_linear_alias():
    assert F.linear is F.dense


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("in_shape, n_out", SHAPES, ids=str)
def test_dense_gradcheck(in_shape, n_out, bias):
    args = tuple(None if t is None else t.requires_grad_() for t in _args(in_shape, n_out, bias))
    assert torch.autograd.gradcheck(F.dense, args)
    assert torch.autograd.gradgradcheck(F.dense, args)


@pytest.mark.parametrize("needs", [(1, 1, 1), (0, 1, 1), (1, 0, 0), (0, 0, 1), (1, 1, 0)])
@pytest.mark.parametrize("in_shape, n_out", SHAPES, ids=str)
def test_dense_raw_backward_has_parameter_shapes(in_shape, n_out, needs):
    """The Function's own backward returns dW (n_l, n_{l-1}) and db (n_l,), not reduced later.

    NOTE: the autograd engine silently sums a wrongly shaped gradient down to its input's shape
    (e.g. a db of shape (m, n_l) or (1, n_l)), so the raw outputs of backward are read directly
    from the node, before the engine sees them.
    """
    x, w, b = _args(in_shape, n_out)
    leaves = [t.requires_grad_(bool(n)) for t, n in zip((x, w, b), needs)]
    z = DenseFunction.apply(*leaves)
    g = torch.randn_like(z)
    raw = z.grad_fn.apply(g)  # calls DenseFunction.backward(ctx, g) with the real ctx
    assert len(raw) == 3
    for leaf, got in zip(leaves, raw):
        if leaf.requires_grad:
            assert got is not None and got.shape == leaf.shape, (got, leaf.shape)
        else:
            assert got is None  # an input that needs no gradient gets none computed
    # the same, one input at a time through the engine, against torch.nn.functional.linear
    for i, leaf in enumerate(leaves):
        if leaf.requires_grad:
            (got,) = torch.autograd.grad(F.dense(*leaves), leaf, g)
            (want,) = torch.autograd.grad(TF.linear(*leaves), leaf, g)
            assert got.shape == leaf.shape
            torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12, msg=f"input {i}")
            torch.testing.assert_close(raw[i], want, rtol=1e-10, atol=1e-12, msg=f"raw {i}")


def test_dense_backward_does_not_modify_grad_output():
    x, w, b = (t.requires_grad_() for t in _args((5, 4), 3))
    g = torch.randn(5, 3, dtype=torch.float64)
    before = g.clone()
    F.dense(x, w, b).backward(g)
    assert torch.equal(g, before)


def test_dense_without_grad_builds_no_graph():
    x, w, b = _args((5, 4), 3)
    z = F.dense(x, w, b)
    assert z.grad_fn is None
    torch.testing.assert_close(z, TF.linear(x, w, b), rtol=0, atol=0)


@pytest.mark.parametrize(
    "x_shape, w_shape, b_shape",
    [((5, 4), (3, 5), (3,)), ((5, 4), (3, 4), (4,)), ((5, 4), (3, 4), (1, 3)), ((), (3, 1), None),
     ((5, 4), (4,), None)],
)
def test_dense_shape_errors_name_the_shapes(x_shape, w_shape, b_shape):
    x, w = torch.zeros(x_shape), torch.zeros(w_shape)
    b = None if b_shape is None else torch.zeros(b_shape)
    with pytest.raises(ValueError, match=r"dense: .*shape"):
        F.dense(x, w, b)
