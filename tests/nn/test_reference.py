"""torchnn against the independent column-notation reference (tests/reference.py), transposed."""

import numpy as np
import pytest
import torch

import torchnn
from tests import reference as ref


def _params(net):
    """torchnn's parameters in the seed's notation: W^[l] (n[l], n[l-1]), b^[l] (n[l], 1)."""
    p = {}
    for l, layer in enumerate(net.layers, start=1):
        p[f"W{l}"] = layer.weight.detach().numpy().copy()
        p[f"b{l}"] = layer.bias.detach().numpy().reshape(-1, 1).copy()
    return p


@pytest.mark.parametrize(
    "dims, hidden",
    [([2, 4, 1], "tanh"),  # the seed's 2-layer network
     ([5, 7, 6, 4, 1], "relu"),
     ([3, 6, 5, 2], "sigmoid"),
     ([4, 3, 3, 1], "identity")],
)
@pytest.mark.parametrize("path", ["backprop", "autograd"])
def test_network_matches_column_reference(dims, hidden, path):
    net = torchnn.DeepNetwork(dims, hidden, "sigmoid", init="he", dtype=torch.float64,
                              generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for layer in net.layers:
            layer.bias.uniform_(-0.5, 0.5)
    m = 13
    x = torch.randn(m, dims[0], dtype=torch.float64)  # rows: (m, n_x)
    y = (torch.rand(m, dims[-1]) > 0.5).double()
    params = _params(net)
    X, Y = x.numpy().T, y.numpy().T  # columns: (n_x, m), (n[L], m)
    AL, caches = ref.forward(X, params, hidden)
    np.testing.assert_allclose(net(x).detach().numpy().T, AL, rtol=1e-12, atol=1e-14)
    if path == "backprop":
        J = net.backprop(x, y)
    else:
        J = net.cost(x, y)
        J.backward()
    assert J.item() == pytest.approx(ref.cost(AL, Y), rel=1e-12)
    grads = ref.backward(Y, params, caches, hidden)
    for l, layer in enumerate(net.layers, start=1):
        np.testing.assert_allclose(layer.weight.grad.numpy(), grads[f"dW{l}"],
                                   rtol=1e-10, atol=1e-14, err_msg=f"dW{l}")
        np.testing.assert_allclose(layer.bias.grad.numpy().reshape(-1, 1), grads[f"db{l}"],
                                   rtol=1e-10, atol=1e-14, err_msg=f"db{l}")


@pytest.mark.parametrize("path", ["backprop", "autograd"])
def test_logistic_regression_follows_algorithm_1_3(path):
    """Several steps of w := w - α dw, b := b - α db match the vectorised Algorithm 1.3."""
    g = torch.Generator().manual_seed(1)
    m, n_x, alpha, steps = 40, 3, 0.5, 25
    x = torch.randn(m, n_x, generator=g, dtype=torch.float64)
    y = (x[:, :1] + 0.5 * torch.randn(m, 1, generator=g, dtype=torch.float64) > 0).double()
    model = torchnn.LogisticRegression(n_x, init="small", init_scale=0.5, generator=g,
                                       dtype=torch.float64)
    w0 = model.layers[0].weight.detach().numpy().T.copy()  # (n_x, 1), the seed's w
    b0 = model.layers[0].bias.item()
    w_ref, b_ref, costs_ref = ref.logistic_regression_gd(x.numpy().T, y.numpy().T, w0, b0,
                                                         alpha, steps)
    costs = []
    for _ in range(steps):
        model.zero_grad()
        if path == "backprop":
            J = model.backprop(x, y)
        else:
            J = model.cost(x, y)
            J.backward()
        costs.append(J.item())
        with torch.no_grad():
            for p in model.parameters():
                p -= alpha * p.grad  # w := w - α dw, b := b - α db
    np.testing.assert_allclose(costs, costs_ref, rtol=1e-12)
    assert costs[-1] < costs[0]
    np.testing.assert_allclose(model.layers[0].weight.detach().numpy().T, w_ref, rtol=1e-10)
    assert model.layers[0].bias.item() == pytest.approx(b_ref, rel=1e-10)
