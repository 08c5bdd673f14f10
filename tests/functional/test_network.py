"""dense_network_cross_entropy: the whole classifier and J as one Function. The same values and
gradients as a dense_activation per hidden layer and dense_cross_entropy (and torch.nn), the
same saved tensors, exact second derivatives, and DeepNetwork(graph="network") built from it.
(The 14 checks of check_function, vmap, jvp, compile and autocast run on it in tests/transforms
through the catalog.)"""

import copy

import pytest
import torch
import torch.nn.functional as TF

import torchnn
import torchnn.functional as F
from torchnn.bench.measure import saved_bytes
from torchnn.functional.network import DenseNetworkFunction

ACTIVATIONS = [("sigmoid", 0.01), ("tanh", 0.01), ("relu", 0.01), ("leaky_relu", 0.2)]
F64 = torch.float64


def _net(dims, seed=0, m=7, no_bias=()):
    """x, y and [W1, b1, ..., WL, bL] (float64, all requiring gradients; b_l None for l in
    ``no_bias``, 1-based)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(m, dims[0], generator=gen, dtype=F64).requires_grad_()
    y = torch.rand(m, dims[-1], generator=gen, dtype=F64).requires_grad_()
    params = []
    for l, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:]), 1):
        params.append(torch.randn(n_out, n_in, generator=gen, dtype=F64).requires_grad_())
        params.append(None if l in no_bias else
                      torch.randn(n_out, generator=gen, dtype=F64).requires_grad_())
    return x, y, params


def _per_layer(x, y, params, act, slope):
    a = x
    for l in range(0, len(params) - 2, 2):
        a = F.dense_activation(a, params[l], params[l + 1], act, slope)
    return F.dense_cross_entropy(a, params[-2], params[-1], y)


def _torch_nn(x, y, params, act, slope):
    g = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
         "leaky_relu": lambda z: TF.leaky_relu(z, slope)}[act]
    a = x
    for l in range(0, len(params) - 2, 2):
        a = g(TF.linear(a, params[l], params[l + 1]))
    return TF.binary_cross_entropy_with_logits(TF.linear(a, params[-2], params[-1]), y)


def _grads(j, x, y, params):
    wrt = [t for t in (x, y, *params) if t is not None]
    return torch.autograd.grad(j, wrt)


@pytest.mark.parametrize("dims", [[3, 1], [4, 5, 1], [4, 6, 5, 2], [5, 6, 4, 3, 1]])
@pytest.mark.parametrize("act,slope", ACTIVATIONS)
def test_network_function_equals_per_layer_functions_and_torch_nn(dims, act, slope):
    x, y, params = _net(dims)
    j = F.dense_network_cross_entropy(x, y, *params, activation=act, negative_slope=slope)
    ours = _grads(j, x, y, params)
    for ref in (_per_layer(x, y, params, act, slope), _torch_nn(x, y, params, act, slope)):
        torch.testing.assert_close(j, ref, rtol=1e-14, atol=0)
        for got, want in zip(ours, _grads(ref, x, y, params)):
            torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)


def test_layers_without_bias_and_frozen_layers_get_exact_gradients():
    # b2 is None, and only layers 2 and 3 train: the backward stops after layer 2 (no dA^[1],
    # no dW^[1], no dA^[0])
    x, y, params = _net([4, 6, 5, 1], no_bias=(2,))
    x, y = x.detach(), y.detach()
    params[0].requires_grad_(False)
    params[1].requires_grad_(False)
    wrt = [p for p in params if p is not None and p.requires_grad]
    j = F.dense_network_cross_entropy(x, y, *params, activation="tanh")
    ref = _per_layer(x, y, params, "tanh", 0.01)
    for got, want in zip(torch.autograd.grad(j, wrt), torch.autograd.grad(ref, wrt)):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)
    # only the first layer trains: the backward goes down through every layer to reach it
    params = [p.detach().requires_grad_(k < 2) if p is not None else None
              for k, p in enumerate(params)]
    j = F.dense_network_cross_entropy(x, y, *params, activation="relu")
    ref = _per_layer(x, y, params, "relu", 0.01)
    for got, want in zip(torch.autograd.grad(j, params[:2]), torch.autograd.grad(ref, params[:2])):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)


def test_raw_backward_returns_one_exact_shape_per_input():
    # the engine would silently sum a (1, n) bias gradient: look at backward's own values
    x, y, params = _net([4, 6, 5, 2])
    j = F.dense_network_cross_entropy(x, y, *params, activation="tanh")
    raw = j.grad_fn.apply(torch.ones(()))
    assert len(raw) == 4 + len(params)
    assert raw[2] is None and raw[3] is None  # the activation's name and slope
    for got, want in zip((raw[0], raw[1], *raw[4:]), (x, y, *params)):
        assert got.shape == want.shape


def test_saves_each_activation_once_and_recomputes_the_output_product():
    x, y, params = _net([5, 6, 4, 1], m=7)
    x, y = x.detach(), y.detach()
    fn = lambda: F.dense_network_cross_entropy(x, y, *params, activation="tanh")  # noqa: E731
    act, _ = saved_bytes(fn, [x, y, *params])
    assert act == 8 * 7 * (6 + 4)  # A1 and A2 (float64); Z^[L] is recomputed in backward
    per_layer, _ = saved_bytes(lambda: _per_layer(x, y, params, "tanh", 0.01), [x, y, *params])
    assert act == per_layer


def test_backward_twice_with_retain_graph_gives_the_same_gradients():
    # backward must not overwrite the activations it saved
    x, y, params = _net([4, 6, 5, 1])
    j = F.dense_network_cross_entropy(x, y, *params, activation="sigmoid")
    first = torch.autograd.grad(j, params, retain_graph=True)
    second = torch.autograd.grad(j, params)
    for a, b in zip(first, second):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_second_derivatives_equal_torch_nn(act):
    # the saved activations are constants to a graph built in backward: it rebuilds them
    x, y, params = _net([3, 4, 3, 1], m=5)
    x, y = x.detach(), y.detach()

    def hvp(cost):  # ∇(|∇J|²) = 2 H ∇J: second derivatives in every parameter
        g = torch.autograd.grad(cost(*params), params, create_graph=True)
        return torch.autograd.grad(sum((gi * gi).sum() for gi in g), params)

    ours = hvp(lambda *ps: F.dense_network_cross_entropy(x, y, *ps, activation=act))
    ref = hvp(lambda *ps: _torch_nn(x, y, list(ps), act, 0.01))
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_eager_calls_take_the_class_without_jvp_and_a_dual_level_its_twin():
    x, y, params = _net([3, 4, 1])
    eager = F.dense_network_cross_entropy(x, y, *params, activation="tanh")
    assert type(eager.grad_fn)._forward_cls is DenseNetworkFunction
    with torch.autograd.forward_ad.dual_level():
        dual = F.dense_network_cross_entropy(x, y, *params, activation="tanh")
    assert type(dual.grad_fn)._forward_cls is DenseNetworkFunction.eager
    # one node for the whole network: its edges go to the leaves directly
    assert all(type(fn).__name__ == "AccumulateGrad"
               for fn, _ in eager.grad_fn.next_functions if fn is not None)
    # the activations come back as non-differentiable outputs
    j, a1 = DenseNetworkFunction.apply(x, y, "tanh", 0.01, *params)
    assert not a1.requires_grad and a1.shape == (7, 4)


def test_errors_name_what_they_got():
    x, y, params = _net([3, 4, 1])
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        F.dense_network_cross_entropy(x, y, *params, activation="softmax")
    with pytest.raises(ValueError, match="negative_slope must be a real number >= 0.*-0.1"):
        F.dense_network_cross_entropy(x, y, *params, activation="leaky_relu",
                                      negative_slope=-0.1)
    with pytest.raises(ValueError, match="got 3 values"):
        F.dense_network_cross_entropy(x, y, *params[:3])
    with pytest.raises(ValueError, match=r"target shape \(7, 2\).*output shape \(7, 1\)"):
        F.dense_network_cross_entropy(x, torch.rand(7, 2, dtype=F64), *params)
    bad = [params[0], params[1], torch.randn(1, 5, dtype=F64), params[3]]
    with pytest.raises(ValueError, match="layer 2"):
        F.dense_network_cross_entropy(x, y, *bad)


def test_under_autocast_runs_the_per_layer_functions():
    x, y, params = _net([4, 6, 1])
    args = [t.detach().float() for t in (x, y)], [p.detach().float() for p in params]
    (x32, y32), p32 = args
    with torch.autocast("cpu", dtype=torch.bfloat16):
        j = F.dense_network_cross_entropy(x32, y32, *p32, activation="tanh")
        ref = _per_layer(x32, y32, p32, "tanh", 0.01)
    assert j.dtype == torch.float32
    torch.testing.assert_close(j, ref, rtol=0, atol=0)


# ----------------------------------------------------------------------------------------------
# DeepNetwork(graph="network")
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dims", [[4, 1], [4, 6, 1], [4, 6, 5, 3, 1]])
@pytest.mark.parametrize("act,slope", ACTIVATIONS)
def test_deep_network_graph_network_equals_graph_layers(dims, act, slope):
    gen = torch.Generator().manual_seed(len(dims))
    nets = [torchnn.DeepNetwork(dims, act, negative_slope=slope, init="he", dtype=F64,
                                generator=torch.Generator().manual_seed(1), graph=graph)
            for graph in ("layers", "network")]
    x = torch.randn(9, dims[0], generator=gen, dtype=F64)
    y = (torch.rand(9, 1, generator=gen) > 0.5).to(F64)
    costs = [net.cost(x, y) for net in nets]
    assert type(costs[1].grad_fn).__name__ == "DenseNetworkFunctionBackward"
    torch.testing.assert_close(costs[1], costs[0], rtol=1e-14, atol=0)
    for c in costs:
        c.backward()
    for p, q in zip(nets[0].parameters(), nets[1].parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("output,n_y", [("sigmoid", 1), ("sigmoid", 3), ("softmax", 4)])
def test_default_one_node_graph_is_bit_for_bit_the_per_layer_graph(output, n_y):
    """The default ``graph="network"`` runs the per-layer graph's kernels in the same order."""
    gen = torch.Generator().manual_seed(7)
    net = torchnn.DeepNetwork([6, 9, 7, n_y], "relu", output, init="he", generator=gen)
    layers = copy.deepcopy(net)
    layers.graph = "layers"
    x = torch.randn(33, 6, generator=gen)
    y = (torch.randint(0, n_y, (33,), generator=gen) if output == "softmax"
         else (torch.rand(33, n_y, generator=gen) > 0.5).float())
    costs = [net.cost(x, y), layers.cost(x, y)]
    assert [type(c.grad_fn).__name__.startswith("DenseNetwork") for c in costs] == [True, False]
    assert torch.equal(costs[0], costs[1])
    for c in costs:
        c.backward()
    for p, q in zip(net.parameters(), layers.parameters()):
        assert torch.equal(p.grad, q.grad)


def test_deep_network_graph_network_falls_back_where_it_cannot_apply():
    x, y = torch.randn(6, 4), torch.randint(0, 2, (6, 1)).float()

    def node(net):
        return type(net.cost(x, y).grad_fn).__name__

    net = torchnn.DeepNetwork([4, 5, 1], "tanh", graph="network")
    assert node(net) == "DenseNetworkFunctionBackward"
    handle = net.layers[0].register_forward_hook(lambda *a: None)  # hooks see every layer
    assert node(net) == "SigmoidCrossEntropyFunctionBackward"  # the modules, one by one
    handle.remove()
    net.recompute = True
    assert node(net) == "DenseCrossEntropyFunctionBackward"
    leaky = torchnn.DeepNetwork([4, 5, 1], "leaky_relu", negative_slope=-0.5, graph="network")
    assert node(leaky) == "DenseCrossEntropyFunctionBackward"  # g' needs Z, not A
    assert "graph=" not in repr(net)  # the default
    net.graph = "layers"
    assert "graph='layers'" in repr(net)


def test_deep_network_graph_errors_name_what_they_got():
    with pytest.raises(ValueError, match=r"unknown graph 'nodes'; expected one of \['network', "
                                         r"'layers'\]"):
        torchnn.DeepNetwork([4, 5, 1], graph="nodes")
    net = torchnn.DeepNetwork([4, 5, 1])
    with pytest.raises(ValueError, match="unknown graph 'one'"):
        net.graph = "one"  # set later, checked too
    assert net.graph == "network"
