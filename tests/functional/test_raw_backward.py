"""Each Function's own backward, read from its graph node before the engine can fix anything up.

NOTE: the autograd engine sums a gradient whose shape merely broadcasts to its input's shape
down to that shape without a word, so a wrong rule can pass every ``.grad`` test; here the raw
tuple returned by ``Function.backward(ctx, grad)`` is checked against each input's shape.
"""

import functools

import pytest
import torch

from torchnn import functional as F

SHAPES = [(5, 3), (1, 1), (2, 3, 4), (7,)]
CALLS = [
    ("sigmoid", F.sigmoid, 1),
    ("tanh", F.tanh, 1),
    ("relu", F.relu, 1),
    ("leaky_relu[0.01]", functools.partial(F.leaky_relu, negative_slope=0.01), 1),
    ("leaky_relu[-0.5]", functools.partial(F.leaky_relu, negative_slope=-0.5), 1),
] + [
    (f"{name}[{r}]", functools.partial(fn, reduction=r), 2)
    for name, fn in (("bce", F.binary_cross_entropy_with_logits), ("mse", F.mse_loss))
    for r in ("mean", "sum", "none")
]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("fn, n", [pytest.param(f, n, id=name) for name, f, n in CALLS])
@pytest.mark.parametrize("which", ["all", "first_only"])
def test_raw_backward_returns_input_shapes(fn, n, shape, which):
    inputs = [torch.rand(shape, dtype=torch.float64) for _ in range(n)]
    for i, t in enumerate(inputs):
        t.requires_grad_(which == "all" or i == 0)
    out = fn(*inputs)
    g = torch.randn(out.shape, dtype=torch.float64)
    raw = out.grad_fn.apply(g)  # Function.backward(ctx, g) with the node's own ctx
    raw = raw if isinstance(raw, tuple) else (raw,)
    for t, r in zip(inputs, raw):
        if t.requires_grad:
            assert r is not None and r.shape == t.shape and r.dtype == t.dtype
        else:
            assert r is None, "no gradient is computed for an input that does not need one"
    assert all(r is None for r in raw[n:])  # reduction / slope: not differentiable
    want = torch.autograd.grad(out, [t for t in inputs if t.requires_grad], g)
    for r, w in zip([r for r, t in zip(raw, inputs) if t.requires_grad], want):
        torch.testing.assert_close(r, w, rtol=0, atol=0)
