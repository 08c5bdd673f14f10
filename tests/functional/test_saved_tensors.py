"""What each Function keeps for backward, counted with ``saved_tensors_hooks``.

The seed's derivatives are written from the output a = g(z) (σ: a(1-a), tanh: 1-a², ReLU: 1[a>0],
leaky ReLU: 1 or slope), so an activation keeps one tensor, its output; never more than torch.nn.
"""

import functools

import pytest
import torch
import torch.nn.functional as TF

from torchnn import functional as F


def _saved(fn, *args):
    """Run ``fn(*args)`` and return (output, the tensors autograd saved for backward)."""
    saved = []

    def pack(t):
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn(*args)
    return out, saved


def _same(a, b):
    return a.data_ptr() == b.data_ptr() and a.shape == b.shape


ACTIVATIONS = [
    ("sigmoid", F.sigmoid, torch.sigmoid),
    ("tanh", F.tanh, torch.tanh),
    ("relu", F.relu, torch.relu),
    ("leaky_relu[0.01]", functools.partial(F.leaky_relu, negative_slope=0.01),
     functools.partial(TF.leaky_relu, negative_slope=0.01)),
    ("leaky_relu[0]", functools.partial(F.leaky_relu, negative_slope=0.0),
     functools.partial(TF.leaky_relu, negative_slope=0.0)),
    ("leaky_relu[2.0]", functools.partial(F.leaky_relu, negative_slope=2.0),
     functools.partial(TF.leaky_relu, negative_slope=2.0)),
]


@pytest.mark.parametrize("fn, ref", [pytest.param(f, r, id=n) for n, f, r in ACTIVATIONS])
def test_activation_saves_only_its_output(fn, ref):
    z = torch.randn(8, 3, requires_grad=True)
    a, saved = _saved(fn, z)
    _, torch_saved = _saved(ref, z)
    assert len(saved) == 1 <= len(torch_saved)
    assert _same(saved[0], a) and not _same(saved[0], z)


@pytest.mark.parametrize("slope", [-0.5, -2.0])
def test_leaky_relu_with_negative_slope_saves_only_its_input(slope):
    # NOTE: with slope < 0 the output is positive on both sides of 0, so a cannot give the sign
    # of z: the input is kept instead (as torch's LeakyReLU always does).
    z = torch.randn(8, 3, requires_grad=True)
    a, saved = _saved(functools.partial(F.leaky_relu, negative_slope=slope), z)
    _, torch_saved = _saved(functools.partial(TF.leaky_relu, negative_slope=slope), z)
    assert len(saved) == 1 == len(torch_saved)
    assert _same(saved[0], z)


def test_activation_without_grad_saves_nothing():
    for _, fn, _ in ACTIVATIONS:
        _, saved = _saved(fn, torch.randn(4))
        assert saved == []


# (x needs grad, W needs grad, b needs grad) -> which of (A_prev, W) dense keeps
DENSE_CASES = [
    ((0, 1, 1), ("a_prev",)),  # a network's first layer: the input needs no gradient
    ((1, 1, 1), ("a_prev", "weight")),  # a hidden layer
    ((1, 0, 0), ("weight",)),  # frozen layer, gradient flows through to the input
    ((1, 0, 1), ("weight",)),
    ((0, 0, 1), ()),  # only the bias trains: db = Σ dZ needs nothing saved
    ((0, 1, 0), ("a_prev",)),
]


@pytest.mark.parametrize("needs, expected", DENSE_CASES, ids=str)
def test_dense_saves_only_what_its_needed_gradients_use(needs, expected):
    x = torch.randn(6, 4, requires_grad=bool(needs[0]))
    w = torch.randn(3, 4, requires_grad=bool(needs[1]))
    b = torch.randn(3, requires_grad=bool(needs[2]))
    _, saved = _saved(F.dense, x, w, b)
    _, torch_saved = _saved(TF.linear, x, w, b)
    assert len(saved) == len(expected) <= len(torch_saved)
    named = {"a_prev": x, "weight": w}
    for s, name in zip(saved, expected):
        assert _same(s, named[name]), name


def test_first_layer_of_a_network_saves_only_its_input():
    import torchnn

    net = torchnn.DeepNetwork([4, 3], output_activation="identity")
    x = torch.randn(6, 4)
    z, saved = _saved(net.layers[0], x)
    assert len(saved) == 1 and _same(saved[0], x)


@pytest.mark.parametrize(
    "fn, ref",
    [(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits),
     (F.mse_loss, TF.mse_loss)],
    ids=["bce_with_logits", "mse"],
)
def test_cost_saves_no_more_than_torch(fn, ref):
    z = torch.randn(6, 1, requires_grad=True)
    y = torch.rand(6, 1)
    _, saved = _saved(fn, z, y)
    _, torch_saved = _saved(ref, z, y)
    assert 1 <= len(saved) <= len(torch_saved)
