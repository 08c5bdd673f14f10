"""The seed's claims, one named test each (chapters 1-2 of the text in /work/shared/seed)."""

import pytest
import torch

import torchnn
from torchnn import functional as F


def _gd(net, x, y, lr, steps):
    """Algorithm 1.1: w := w - α dw, b := b - α db, with gradients from ``backprop``."""
    for _ in range(steps):
        net.zero_grad()
        J = net.backprop(x, y)
        with torch.no_grad():
            for p in net.parameters():
                p -= lr * p.grad
    return J


def _blobs(m=200, n_x=2, seed=0, noise=1.0):
    """Two overlapping classes (not separable, so the logistic cost has a finite minimum)."""
    g = torch.Generator().manual_seed(seed)
    y = (torch.rand(m, 1, generator=g) > 0.5).double()
    x = torch.randn(m, n_x, generator=g, dtype=torch.float64) * noise + (2 * y - 1)
    return x, y


# ------------------------------------------------------------------------------------------------
# §2.4 Random Initialization
# ------------------------------------------------------------------------------------------------


def _unit_spread(net):
    """How far apart the units of the hidden layers are: the largest difference between two
    rows of W^[l], two entries of b^[l], or two columns of the next layer's W, over all layers.

    NOTE: 0 up to rounding for identical units: a matmul kernel may round its edge rows in a
    different order (differences of ~1e-16 that do not grow), so "identical" is <= 1e-12.
    """
    spread = 0.0
    for l, layer in enumerate(net.layers[:-1]):
        w, b, nxt = layer.weight, layer.bias, net.layers[l + 1].weight
        for d in (w - w[:1], b - b[:1], nxt - nxt[:, :1]):
            spread = max(spread, d.abs().max().item())
    return spread


@pytest.mark.parametrize(
    "hidden, value",
    [("sigmoid", 0.0), ("tanh", 0.3), ("relu", 0.3), ("leaky_relu", -0.2), ("sigmoid", 0.5)],
)
def test_symmetric_initialisation_keeps_hidden_units_identical(hidden, value):
    x, y = _blobs()
    init = "zeros" if value == 0.0 else "small"
    net = torchnn.DeepNetwork([2, 5, 4, 1], hidden, init=init, dtype=torch.float64)
    with torch.no_grad():
        for layer in net.layers:
            layer.weight.fill_(value)  # every weight the same number (the seed's "all zero")
    start = [p.clone() for p in net.parameters()]
    _gd(net, x, y, lr=0.5, steps=60)
    assert _unit_spread(net) < 1e-12
    moved = [not torch.equal(p, s) for p, s in zip(net.parameters(), start)]
    assert all(moved[:2]), "the first layer must have learned something, yet stayed symmetric"


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
def test_random_initialisation_breaks_the_symmetry(hidden):
    x, y = _blobs()
    net = torchnn.DeepNetwork([2, 5, 4, 1], hidden, init="small", init_scale=0.5,
                              generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    _gd(net, x, y, lr=0.5, steps=60)
    assert _unit_spread(net) > 1e-2
    w = net.layers[0].weight
    assert torch.cdist(w, w).add(torch.eye(5)).min() > 1e-3  # no two units coincide


def test_biases_start_at_zero_weights_small():
    net = torchnn.DeepNetwork([300, 200, 1], generator=torch.Generator().manual_seed(0))
    assert all(not layer.bias.any() for layer in net.layers)
    assert net.layers[0].weight.std().item() == pytest.approx(0.01, rel=0.05)


# ------------------------------------------------------------------------------------------------
# §2.2 "Why activation functions"
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dims", [[3, 4, 1], [3, 6, 5, 2, 1]])
def test_identity_hidden_activations_equal_one_logistic_regression(dims):
    net = torchnn.DeepNetwork(dims, "identity", init="he", dtype=torch.float64,
                              generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for layer in net.layers:
            layer.bias.normal_()
    # w' = W^[L] ... W^[1], b' = W^[L](... (W^[2] b^[1] + b^[2]) ...) + b^[L]
    w, b = net.layers[0].weight, net.layers[0].bias
    for layer in net.layers[1:]:
        w, b = layer.weight @ w, layer.weight @ b + layer.bias
    lr = torchnn.LogisticRegression(dims[0], dtype=torch.float64)
    with torch.no_grad():
        lr.layers[0].weight.copy_(w)
        lr.layers[0].bias.copy_(b)
    x = torch.randn(50, dims[0], dtype=torch.float64)
    torch.testing.assert_close(net(x), lr(x), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------------------------
# §2.2 tanh is a shifted sigmoid
# ------------------------------------------------------------------------------------------------


def test_tanh_is_a_shifted_sigmoid():
    """tanh(z) = 2σ(2z) - 1, values and derivatives, through torchnn's own Functions."""
    z = torch.linspace(-30, 30, 601, dtype=torch.float64, requires_grad=True)
    a, b = F.tanh(z), 2 * F.sigmoid(2 * z) - 1
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    ga, gb = (torch.autograd.grad(t.sum(), z)[0] for t in (a, b))
    torch.testing.assert_close(ga, gb, rtol=1e-9, atol=1e-14)
    assert F.tanh(torch.zeros(1)).item() == 0 and F.sigmoid(torch.zeros(1)).item() == 0.5


# ------------------------------------------------------------------------------------------------
# §2.2 the sigmoid's and tanh's gradients vanish for large |z|; ReLU's does not
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn, at_zero", [(F.sigmoid, 0.25), (F.tanh, 1.0)], ids=["sigmoid", "tanh"])
def test_sigmoid_and_tanh_gradients_vanish_for_large_z(fn, at_zero):
    z = torch.tensor([0.0, 20.0, -20.0, 40.0, -40.0, 300.0, -300.0], dtype=torch.float64,
                     requires_grad=True)
    (g,) = torch.autograd.grad(fn(z).sum(), z)
    assert g[0].item() == at_zero  # the largest slope is at z = 0
    assert (g[1:] < 1e-8).all() and (g[1:] >= 0).all()  # |z| >= 20: < 1e-8 in float64
    assert (g[3:] < 1e-16).all()
    zs = torch.linspace(0, 20, 41, dtype=torch.float64, requires_grad=True)
    (gs,) = torch.autograd.grad(fn(zs).sum(), zs)
    assert (gs[1:] <= gs[:-1]).all()  # flatter and flatter as |z| grows


def test_relu_gradient_does_not_vanish_for_large_z():
    z = torch.tensor([1e-3, 20.0, 300.0, 1e4], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(F.relu(z).sum(), z)
    assert torch.equal(g, torch.ones_like(g))


def test_large_initial_weights_learn_slower_with_tanh():
    """§2.4: big weights put tanh where it is flat, so the first-layer gradient is smaller."""
    x, y = _blobs(m=100, n_x=10)

    def first_grad_norm(scale):
        net = torchnn.DeepNetwork([10, 8, 1], "tanh", init_scale=scale, dtype=torch.float64,
                                  generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            net.layers[1].weight.normal_(0, 0.01, generator=torch.Generator().manual_seed(1))
        net.backprop(x, y)
        return net.layers[0].weight.grad.norm() / net.layers[0].weight.norm()

    assert first_grad_norm(30.0) < 1e-3 * first_grad_norm(0.01)


# ------------------------------------------------------------------------------------------------
# §1.2.1 the logistic-regression cost J(w, b) is convex: one minimum from every start
# ------------------------------------------------------------------------------------------------


def test_logistic_regression_cost_has_one_minimum_from_any_start():
    x, y = _blobs(m=200, n_x=2, noise=1.5)
    finals, params = [], []
    for seed in range(4):
        lr = torchnn.LogisticRegression(2, init="small", init_scale=3.0, dtype=torch.float64,
                                        generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            lr.layers[0].bias.fill_(3.0 * (seed - 1.5))
        start = lr.cost(x, y).item()
        _gd(lr, x, y, lr=2.0, steps=300)
        J = lr.cost(x, y).item()
        assert J < start
        finals.append(J)
        params.append(torch.cat([p.detach().flatten() for p in lr.parameters()]))
    assert max(finals) - min(finals) < 1e-9
    for p in params[1:]:
        torch.testing.assert_close(p, params[0], rtol=1e-5, atol=1e-6)
    # and the minimum is the minimum: the gradient there is zero, and an independent solver
    # (scikit-learn's unpenalised logistic regression) finds the same w and b
    lr.zero_grad()
    lr.backprop(x, y)
    assert max(p.grad.abs().max().item() for p in lr.parameters()) < 1e-8
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression

    sk = SkLogisticRegression(C=float("inf"), tol=1e-12, max_iter=10_000)  # no penalty
    sk.fit(x.numpy(), y.numpy().ravel())
    want = torch.tensor([*sk.coef_.ravel(), *sk.intercept_], dtype=torch.float64)
    torch.testing.assert_close(params[0], want, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------------
# eq. 2.5 / 2.9: dZ^[L] = A^[L] - Y at the output
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("m", [1, 7, 64])
def test_output_delta_is_a_minus_y(m):
    z = (4 * torch.randn(m, 1, dtype=torch.float64)).requires_grad_()
    y = (torch.rand(m, 1) > 0.5).double()
    (dz,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(z, y), z)
    torch.testing.assert_close(dz * m, torch.sigmoid(z.detach()) - y, rtol=1e-12, atol=1e-15)


def test_output_delta_is_a_minus_y_in_a_network():
    net = torchnn.DeepNetwork([3, 5, 1], "tanh", dtype=torch.float64)
    x, y = torch.randn(9, 3, dtype=torch.float64), (torch.rand(9, 1) > 0.5).double()
    z = net.logits(x)
    (dz,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(z, y), z)
    torch.testing.assert_close(dz * 9, net(x).detach() - y, rtol=1e-12, atol=1e-15)
