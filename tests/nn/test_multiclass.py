"""DeepNetwork with a softmax output (C classes) on every path, against torch.nn's
Sequential + CrossEntropyLoss: forward, cost (both graphs, recompute), backprop, gd_step, predict,
to_torch / from_torch, state dicts, errors."""

import copy

import pytest
import torch
from torch import nn

import torchnn

DIMS = [5, 7, 6, 4]


def _net(graph="layers", recompute=False, hidden="tanh", dtype=torch.float64, dims=DIMS):
    return torchnn.DeepNetwork(dims, hidden, "softmax", init="he", graph=graph,
                               recompute=recompute, dtype=dtype,
                               generator=torch.Generator().manual_seed(0))


def _data(kind, m=9, c=DIMS[-1], dtype=torch.float64):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(m, DIMS[0], generator=g, dtype=dtype)
    t = torch.randint(0, c, (m,), generator=g)
    y = {"index": t, "onehot": nn.functional.one_hot(t, c).to(dtype),
         "probabilities": torch.softmax(torch.randn(m, c, generator=g, dtype=dtype), -1)}[kind]
    return x, y


def _torch_grads(net, x, y):
    seq = net.to_torch()
    j = nn.CrossEntropyLoss()(seq[:-1](x), y)  # the logits: drop the final Softmax
    j.backward()
    return j, [p.grad for p in seq.parameters()]


@pytest.mark.parametrize("kind", ["index", "onehot", "probabilities"])
@pytest.mark.parametrize("graph, recompute", [("layers", False), ("network", False),
                                              ("layers", True)])
@pytest.mark.parametrize("hidden", ["tanh", "relu", "identity"])
def test_cost_and_backprop_match_torch_nn(hidden, graph, recompute, kind):
    net, (x, y) = _net(graph, recompute, hidden), _data(kind)
    want_j, want = _torch_grads(net, x, y)
    j = net.cost(x, y)
    j.backward()
    torch.testing.assert_close(j, want_j)
    for p, g in zip(net.parameters(), want):
        torch.testing.assert_close(p.grad, g)
    net.zero_grad()
    torch.testing.assert_close(net.backprop(x, y), want_j)
    for p, g in zip(net.parameters(), want):
        torch.testing.assert_close(p.grad, g)


@pytest.mark.parametrize("graph", ["layers", "network"])
def test_cost_records_the_softmax_functions(graph):
    net, (x, y) = _net(graph), _data("index")
    node = type(net.cost(x, y).grad_fn).__name__
    assert node == ("DenseNetworkSoftmaxFunctionBackward" if graph == "network"
                    else "DenseSoftmaxCrossEntropyFunctionBackward")


@pytest.mark.parametrize("recompute", [False, True])
@pytest.mark.parametrize("kind", ["index", "probabilities"])
def test_gd_step_is_sgd_on_cross_entropy(kind, recompute):
    net, (x, y) = _net(), _data(kind)
    seq = net.to_torch()
    opt = torch.optim.SGD(seq.parameters(), lr=0.3)
    for _ in range(3):
        j = net.gd_step(x, y, 0.3, recompute=recompute)
        opt.zero_grad()
        want = nn.CrossEntropyLoss()(seq[:-1](x), y)
        want.backward()
        opt.step()
        torch.testing.assert_close(j, want)
    for p, q in zip(net.parameters(), seq.parameters()):
        torch.testing.assert_close(p, q)


def test_forward_is_probabilities_and_predict_the_class():
    net, (x, _) = _net(), _data("index")
    a = net(x)
    assert a.shape == (9, 4)
    torch.testing.assert_close(a.sum(-1), torch.ones(9, dtype=torch.float64))
    torch.testing.assert_close(a, net.to_torch()(x))
    pred = net.predict(x)
    assert pred.dtype == torch.int64 and pred.shape == (9,)
    assert torch.equal(pred, net.to_torch()(x).argmax(-1))


def test_to_torch_and_from_torch_round_trip():
    net, (x, y) = _net(hidden="relu"), _data("index")
    seq = net.to_torch()
    assert isinstance(seq[-1], nn.Softmax) and seq[-1].dim == -1
    back = torchnn.DeepNetwork.from_torch(seq)
    assert back.output_activation == "softmax" and back.layer_dims == DIMS
    torch.testing.assert_close(back(x), net(x))
    torch.testing.assert_close(back.cost(x, y), net.cost(x, y))
    with pytest.raises(ValueError, match="normalises dim 0"):
        torchnn.DeepNetwork.from_torch(nn.Sequential(*list(seq)[:-1], nn.Softmax(dim=0)))


def test_state_dicts_move_between_torchnn_and_torch_nn():
    net = _net()
    other = torchnn.DeepNetwork(DIMS, "tanh", "softmax", dtype=torch.float64)
    other.load_state_dict(net.state_dict())
    x, _ = _data("index")
    torch.testing.assert_close(other(x), net(x))
    seq = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 6), nn.Tanh(), nn.Linear(6, 4),
                        nn.Softmax(dim=-1)).double()
    linears = [m for m in seq if isinstance(m, nn.Linear)]
    for layer, lin in zip(net.layers, linears):  # Dense has nn.Linear's names and shapes
        lin.load_state_dict(layer.state_dict())
    torch.testing.assert_close(seq(x), net(x))


def test_float32_network_matches_torch_nn():
    net, (x, y) = _net(dtype=torch.float32), _data("index", dtype=torch.float32)
    want_j, want = _torch_grads(net, x, y)
    torch.testing.assert_close(net.backprop(x, y), want_j)
    for p, g in zip(net.parameters(), want):
        torch.testing.assert_close(p.grad, g)


def test_hooks_fall_back_to_the_modules_with_the_same_gradients():
    net, (x, y) = _net(), _data("index")
    ref = copy.deepcopy(net)
    seen = []
    net.layers[-1].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    net.cost(x, y).backward()
    ref.cost(x, y).backward()
    assert seen == [(9, 4)]
    for p, q in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, q.grad)


@pytest.mark.parametrize("graph", ["layers", "network"])
def test_double_backward_matches_torch_nn(graph):
    """Second derivatives through cost's graph (create_graph) equal torch.nn's."""
    net, (x, y) = _net(graph), _data("index")
    seq = net.to_torch()

    def second(j, params):
        g = torch.autograd.grad(j, params, create_graph=True)
        return torch.autograd.grad(sum((gi * gi).sum() for gi in g), params)

    ours = second(net.cost(x, y), list(net.parameters()))
    want = second(nn.CrossEntropyLoss()(seq[:-1](x), y), list(seq.parameters()))
    for a, b in zip(ours, want):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("y, match", [
    (torch.tensor([0, 1]), r"class-index target has shape \(2,\)"),
    (torch.zeros(9, 3, dtype=torch.float64), r"probability target has shape \(9, 3\)"),
])
def test_target_shape_errors(y, match):
    net, (x, _) = _net(), _data("index")
    with pytest.raises(ValueError, match=match):
        net.cost(x, y)


@pytest.mark.parametrize("y, match", [
    (torch.tensor([0, 1, 2, 3, 4, 0, 1, 2, 3]), r"class indices y must lie in \[0, 4\); got 4"),
    (torch.full((9, 4), 0.5, dtype=torch.float64), "row 0 sums to 2"),
    (torch.tensor([[2.0, -1.0, 0.0, 0.0]] * 9, dtype=torch.float64), r"must lie in \[0, 1\]"),
])
def test_label_value_errors_before_any_gradient(y, match):
    net, (x, _) = _net(), _data("index")
    before = [p.detach().clone() for p in net.parameters()]
    for call in (lambda: net.cost(x, y), lambda: net.backprop(x, y),
                 lambda: net.gd_step(x, y, 0.1)):
        with pytest.raises(ValueError, match=match):
            call()
    assert all(p.grad is None for p in net.parameters())
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), before))


def test_softmax_needs_two_classes():
    with pytest.raises(ValueError, match="softmax output needs C >= 2 classes, got"):
        torchnn.DeepNetwork([3, 1], output_activation="softmax")


def test_softmax_module_is_a_thin_wrapper():
    z = torch.randn(4, 3, requires_grad=True)
    a = torchnn.Softmax()(z)
    assert type(a.grad_fn).__name__ == "SoftmaxFunctionBackward"
    torch.testing.assert_close(a, torch.softmax(z, -1))
    assert repr(torchnn.Softmax()) == "Softmax(dim=-1)"
