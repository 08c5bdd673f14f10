"""The seed's output rule with C classes, one named test each: eq. 2.9, dZ = A - Y, holds for a
softmax output with the categorical cross-entropy, and C = 2 is the seed's sigmoid network."""

import pytest
import torch
from torch import nn

import torchnn
from torchnn import functional as F
from torchnn.functional import ACTIVATIONS, OUTPUTS
from torchnn.nn.backprop import backprop


def _data(m=12, n_x=3, c=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(m, n_x, generator=g, dtype=torch.float64),
            torch.randint(0, c, (m,), generator=g))


@pytest.mark.parametrize("m", [1, 7])
def test_softmax_cross_entropy_delta_is_a_minus_y(m):
    """Eq. 2.9 with C classes: dJ/dZ^[L] = (A^[L] - Y) / m, Y one-hot, from autograd and from the
    output record the engine reads."""
    z = torch.randn(m, 5, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 5, (m,))
    a, y = torch.softmax(z, -1).detach(), nn.functional.one_hot(t, 5).double()
    F.cross_entropy(z, t).backward()
    torch.testing.assert_close(z.grad, (a - y) / m)
    torch.testing.assert_close(OUTPUTS["softmax"].delta(z.detach(), t), a - y)
    torch.testing.assert_close(OUTPUTS["softmax"].delta(z.detach(), y), a - y)


def test_softmax_delta_is_a_minus_y_in_a_network():
    """The explicit engine's dZ^[L]: the output layer's db is mean(A - Y) over the examples."""
    x, t = _data()
    net = torchnn.DeepNetwork([3, 5, 4], "tanh", "softmax", init="he", dtype=torch.float64,
                              generator=torch.Generator().manual_seed(0))
    net.backprop(x, t)
    a, y = net(x).detach(), nn.functional.one_hot(t, 4).double()
    torch.testing.assert_close(net.layers[-1].bias.grad, (a - y).mean(0))


@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_two_classes_with_a_zero_second_row_equal_the_sigmoid_network(hidden):
    """C = 2 with W^[L]_2 = 0, b^[L]_2 = 0: softmax(z, 0)_1 = σ(z), so J equals the sigmoid
    network's J and the first row's gradients equal the sigmoid network's (the softmax's
    second row gets the opposite ones, and the hidden layers the same)."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(20, 3, generator=g, dtype=torch.float64)
    label = (torch.rand(20, generator=g) > 0.5).long()
    sig = torchnn.DeepNetwork([3, 6, 1], hidden, "sigmoid", init="he", dtype=torch.float64,
                              generator=torch.Generator().manual_seed(0))
    soft = torchnn.DeepNetwork([3, 6, 2], hidden, "softmax", dtype=torch.float64)
    with torch.no_grad():
        soft.layers[0].load_state_dict(sig.layers[0].state_dict())
        soft.layers[1].weight.zero_()
        soft.layers[1].bias.zero_()
        # NOTE: class 0 is the seed's y = 1 (the row a = σ(z)), class 1 the seed's y = 0
        soft.layers[1].weight[0] = sig.layers[1].weight[0]
        soft.layers[1].bias[0] = sig.layers[1].bias[0]
    j_sig = sig.backprop(x, label[:, None].double())
    j_soft = soft.backprop(x, 1 - label)
    torch.testing.assert_close(j_soft, j_sig)
    torch.testing.assert_close(soft(x)[:, 0], sig(x)[:, 0])
    torch.testing.assert_close(soft.layers[1].weight.grad[0], sig.layers[1].weight.grad[0])
    torch.testing.assert_close(soft.layers[1].bias.grad[0], sig.layers[1].bias.grad[0])
    torch.testing.assert_close(soft.layers[1].weight.grad[1], -sig.layers[1].weight.grad[0])
    torch.testing.assert_close(soft.layers[0].weight.grad, sig.layers[0].weight.grad)


@pytest.mark.parametrize("graph", ["layers", "network"])
@pytest.mark.parametrize("target", ["index", "one-hot"])
def test_explicit_backprop_equals_autograd_equals_torch_nn(target, graph):
    """The three routes to the gradients agree: the explicit engine (eqs. 2.9-2.12, no graph),
    autograd through torchnn's Functions, autograd through ``to_torch()`` with
    ``nn.CrossEntropyLoss``."""
    x, t = _data()
    y = t if target == "index" else nn.functional.one_hot(t, 4).double()
    net = torchnn.DeepNetwork([3, 5, 6, 4], "relu", "softmax", init="he", graph=graph,
                              dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    params = [p for layer in net.layers for p in (layer.weight, layer.bias)]
    j_explicit, explicit = backprop(params, x, y, ACTIVATIONS["relu"], 0.0, OUTPUTS["softmax"])
    net.cost(x, y).backward()
    seq = net.to_torch()
    j_torch = nn.CrossEntropyLoss()(seq[:-1](x), y)
    j_torch.backward()
    torch.testing.assert_close(j_explicit, j_torch)
    for e, p, q in zip(explicit, params, seq.parameters()):
        torch.testing.assert_close(e, p.grad)
        torch.testing.assert_close(e, q.grad)
