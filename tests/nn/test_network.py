"""DeepNetwork against its torch.nn twin (to_torch), and backprop against autograd."""

import pytest
import torch
import torch.nn.functional as TF
from torch import nn

import torchnn

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
OUTPUT = ["sigmoid", "identity", "relu"]
TOL = {torch.float64: {"rtol": 1e-10, "atol": 1e-12}, torch.float32: {"rtol": 1e-4, "atol": 1e-6}}


def _net(hidden, output, dims=(3, 5, 4, 2), slope=0.01, dtype=torch.float64, seed=0, bias=True):
    net = torchnn.DeepNetwork(list(dims), hidden, output, negative_slope=slope, init="he",
                              generator=torch.Generator().manual_seed(seed), dtype=dtype)
    with torch.no_grad():
        for layer in net.layers:
            layer.bias.normal_(0, 0.5, generator=torch.Generator().manual_seed(seed + 1))
    return net


def _data(net, m=11, seed=0):
    g = torch.Generator().manual_seed(seed)
    dtype = net.layers[0].weight.dtype
    x = torch.randn(m, net.layer_dims[0], generator=g, dtype=dtype)
    if net.is_classifier:
        y = (torch.rand(m, net.layer_dims[-1], generator=g) > 0.5).to(dtype)
    else:
        y = torch.randn(m, net.layer_dims[-1], generator=g, dtype=dtype)
    return x, y


def _torch_cost(seq, x, y, classifier):
    """J through plain torch.nn: BCE-with-logits before the final Sigmoid, or MSE after."""
    if classifier:
        return TF.binary_cross_entropy_with_logits(seq[:-1](x), y)
    return TF.mse_loss(seq(x), y)


def _grads(loss, params):
    return torch.autograd.grad(loss, list(params))


def _close(got, want, dtype=torch.float64):
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, **TOL[dtype])


CASES = [(h, o, s) for h in HIDDEN for o in OUTPUT for s in ([0.01, -0.5, 2.0] if h == "leaky_relu"
                                                              else [0.01])]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("hidden, output, slope", CASES)
def test_network_matches_to_torch(hidden, output, slope, dtype):
    net = _net(hidden, output, slope=slope, dtype=dtype)
    seq = net.to_torch()
    x, y = _data(net)
    x.requires_grad_()
    _close([net(x)], [seq(x)], dtype)
    got = _grads(net.cost(x, y), [x, *net.parameters()])
    want = _grads(_torch_cost(seq, x, y, net.is_classifier), [x, *seq.parameters()])
    _close(got, want, dtype)


@pytest.mark.parametrize("recompute", [False, True], ids=["keep", "recompute"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("hidden, output, slope", CASES)
def test_backprop_equals_autograd_and_torch(hidden, output, slope, dtype, recompute):
    """backprop (eqs. 2.9-2.12) = autograd through the Functions = autograd through torch.nn."""
    net = _net(hidden, output, dims=(3, 5, 4, 6, 3, 2), slope=slope, dtype=dtype)
    seq = net.to_torch()
    x, y = _data(net)
    x0, y0 = x.clone(), y.clone()
    autograd = _grads(net.cost(x, y), net.parameters())
    torch_j = _torch_cost(seq, x, y, net.is_classifier)
    torch_grads = _grads(torch_j, seq.parameters())
    cost = net.backprop(x, y, recompute=recompute)
    assert torch.equal(x, x0) and torch.equal(y, y0)  # the data are never written
    assert cost.shape == () and not cost.requires_grad
    torch.testing.assert_close(cost, torch_j.detach(), **TOL[dtype])
    explicit = [p.grad for p in net.parameters()]
    assert [g.shape for g in explicit] == [p.shape for p in net.parameters()]
    _close(explicit, autograd, dtype)
    _close(explicit, torch_grads, dtype)


@pytest.mark.parametrize("dtype, tol", [(torch.bfloat16, 5e-2), (torch.float16, 1e-2)])
@pytest.mark.parametrize("hidden, output", [("tanh", "sigmoid"), ("relu", "identity"),
                                            ("leaky_relu", "relu"), ("sigmoid", "sigmoid")])
def test_backprop_equals_autograd_in_low_precision(hidden, output, dtype, tol):
    net = _net(hidden, output, dtype=dtype)
    x, y = _data(net)
    autograd = _grads(net.cost(x, y), net.parameters())
    net.backprop(x, y)
    for p, g in zip(net.parameters(), autograd):
        assert p.grad.dtype == dtype
        err = (p.grad.double() - g.double()).abs().max() / (g.double().abs().max() + 1e-3)
        assert err < tol


@pytest.mark.parametrize("recompute", [False, True], ids=["keep", "recompute"])
@pytest.mark.parametrize("hidden, output, slope", CASES)
def test_gd_step_equals_backprop_then_update_and_torch_sgd(hidden, output, slope, recompute):
    """gd_step = backprop + (w := w - α dw) = torch.optim.SGD on the torch.nn twin, 3 steps."""
    net = _net(hidden, output, dims=(3, 5, 4, 6, 2), slope=slope)
    twin = _net(hidden, output, dims=(3, 5, 4, 6, 2), slope=slope)
    seq = net.to_torch()
    opt = torch.optim.SGD(seq.parameters(), lr=0.3)
    x, y = _data(net)
    x0 = x.clone()
    for _ in range(3):
        J = net.gd_step(x, y, lr=0.3, recompute=recompute)
        twin.zero_grad()
        J_twin = twin.backprop(x, y)
        with torch.no_grad():
            for p in twin.parameters():
                p -= 0.3 * p.grad
        opt.zero_grad()
        J_torch = _torch_cost(seq, x, y, net.is_classifier)
        J_torch.backward()
        opt.step()
        torch.testing.assert_close(J, J_twin, **TOL[torch.float64])
        torch.testing.assert_close(J, J_torch.detach(), **TOL[torch.float64])
    assert torch.equal(x, x0)
    assert all(p.grad is None for p in net.parameters())  # gd_step never touches .grad
    _close(list(net.parameters()), list(twin.parameters()))
    _close(list(net.parameters()), [p.detach() for p in seq.parameters()])


def test_backprop_on_column_major_input():
    """x given as the seed's X (n_x, m) transposed: a non-contiguous (m, n_x) view."""
    net = _net("tanh", "sigmoid")
    x, y = _data(net)
    xt = x.t().contiguous().t()
    assert not xt.is_contiguous()
    net.backprop(xt, y)
    _close([p.grad for p in net.parameters()], _grads(net.cost(x, y), net.parameters()))


@pytest.mark.parametrize("output", OUTPUT)
def test_backprop_accumulates_like_backward(output):
    net = _net("tanh", output)
    x, y = _data(net)
    net.backprop(x, y)
    once = [p.grad.clone() for p in net.parameters()]
    net.backprop(x, y)
    _close([p.grad for p in net.parameters()], [2 * g for g in once])
    net.zero_grad()
    net.cost(x, y).backward()
    net.cost(x, y).backward()
    _close([p.grad for p in net.parameters()], [2 * g for g in once])
    net.zero_grad()
    net.backprop(x, y)
    net.cost(x, y).backward()  # the two paths accumulate into the same .grad
    _close([p.grad for p in net.parameters()], [2 * g for g in once])


def test_backprop_with_1d_labels_and_batch_of_one():
    net = _net("relu", "sigmoid", dims=(3, 4, 1))
    x, y = _data(net, m=1)
    net.backprop(x, y.reshape(1))
    explicit = [p.grad for p in net.parameters()]
    _close(explicit, _grads(net.cost(x, y), net.parameters()))


def test_backprop_through_a_layer_without_bias():
    net = _net("tanh", "sigmoid")
    net.layers[1].bias = None
    seq = net.to_torch()
    assert seq[2].bias is None
    x, y = _data(net)
    net.backprop(x, y)
    _close([p.grad for p in net.parameters()],
           _grads(_torch_cost(seq, x, y, True), seq.parameters()))


# ------------------------------------------------------------------------------------------------
# interchange with torch.nn
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden, output, slope", CASES)
def test_to_torch_from_torch_round_trip(hidden, output, slope):
    net = _net(hidden, output, slope=slope)
    seq = net.to_torch()
    assert isinstance(seq, nn.Sequential) and len(seq) == 2 * net.num_layers
    back = torchnn.DeepNetwork.from_torch(seq)
    assert (back.hidden_activation, back.output_activation) == (hidden, output)
    assert back.layer_dims == net.layer_dims
    if hidden == "leaky_relu":
        assert back.negative_slope == slope == seq[1].negative_slope
    for k, v in net.state_dict().items():
        assert torch.equal(back.state_dict()[k], v), k
    x, _ = _data(net)
    torch.testing.assert_close(back(x), seq(x), rtol=1e-12, atol=1e-14)


def test_from_torch_with_a_linear_without_bias():
    seq = nn.Sequential(nn.Linear(3, 4, bias=False), nn.LeakyReLU(0.2), nn.Linear(4, 1),
                        nn.Sigmoid()).double()
    net = torchnn.DeepNetwork.from_torch(seq)
    assert net.layers[0].bias is None and net.negative_slope == 0.2
    x = torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(net(x), seq(x))
    again = net.to_torch()
    assert again[0].bias is None and again[1].negative_slope == 0.2
    torch.testing.assert_close(again(x), seq(x))
    y = torch.ones(5, 1, dtype=torch.float64)
    net.backprop(x, y)
    _close([p.grad for p in net.parameters()],
           _grads(_torch_cost(seq, x, y, True), seq.parameters()))


def test_from_torch_bare_last_linear_is_identity_output():
    seq = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    net = torchnn.DeepNetwork.from_torch(seq)
    assert net.output_activation == "identity" and net.hidden_activation == "tanh"
    x = torch.randn(5, 3)
    torch.testing.assert_close(net(x), seq(x))


@pytest.mark.parametrize(
    "seq",
    [nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 1)),
     nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1)),
     nn.Sequential(nn.Tanh(), nn.Linear(3, 4)),
     # two slopes: one network slope would silently change the outputs
     nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.1), nn.Linear(4, 4), nn.LeakyReLU(0.5),
                   nn.Linear(4, 1), nn.Sigmoid()),
     nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(5, 1))],
    ids=["gelu", "two_hidden_activations", "starts_with_activation", "two_slopes", "no_chain"],
)
def test_from_torch_rejects_what_it_cannot_represent(seq):
    with pytest.raises(ValueError, match="from_torch"):
        torchnn.DeepNetwork.from_torch(seq)


def test_network_state_dict_loads_into_to_torch_linears():
    net = _net("relu", "sigmoid")
    seq = net.to_torch()
    for i, layer in enumerate(net.layers):
        lin = seq[2 * i]
        lin.load_state_dict(layer.state_dict())
        layer.load_state_dict(lin.state_dict())
        assert torch.equal(lin.weight, layer.weight)


@pytest.mark.parametrize("dims", [[2, 1], [2, 4, 1], [5, 8, 8, 8, 3]])
def test_network_shapes(dims):
    net = torchnn.DeepNetwork(dims)
    assert net.num_layers == len(dims) - 1
    for l, layer in enumerate(net.layers, start=1):
        assert layer.weight.shape == (dims[l], dims[l - 1])  # (n[l], n[l-1]), seed §2.5
        assert layer.bias.shape == (dims[l],)
    assert net(torch.randn(7, dims[0])).shape == (7, dims[-1])


def test_logistic_regression_from_torch_round_trip():
    seq = nn.Sequential(nn.Linear(3, 1), nn.Sigmoid()).double()
    lr = torchnn.LogisticRegression.from_torch(seq)
    assert type(lr) is torchnn.LogisticRegression
    x = torch.randn(6, 3, dtype=torch.float64)
    torch.testing.assert_close(lr(x), seq(x))
    torch.testing.assert_close(lr.to_torch()(x), seq(x))
    with pytest.raises(ValueError, match="LogisticRegression.from_torch"):
        torchnn.LogisticRegression.from_torch(nn.Sequential(nn.Linear(3, 2), nn.Sigmoid()))


@pytest.mark.cuda
@pytest.mark.parametrize("hidden, output", [("tanh", "sigmoid"), ("relu", "identity")])
def test_network_on_cuda_matches_cpu(hidden, output):
    net = _net(hidden, output)
    x, y = _data(net)
    net.backprop(x, y)
    gpu = _net(hidden, output).cuda()
    torch.testing.assert_close(gpu(x.cuda()).cpu(), net(x), **TOL[torch.float64])
    gpu.backprop(x.cuda(), y.cuda())
    _close([p.grad.cpu() for p in gpu.parameters()], [p.grad for p in net.parameters()])
    _close([g.cpu() for g in _grads(gpu.cost(x.cuda(), y.cuda()), gpu.parameters())],
           [p.grad for p in net.parameters()])


@pytest.mark.parametrize("call", ["forward", "cost", "backprop", "gd_step", "gradient_descent"])
def test_a_layer_converted_alone_is_a_one_line_error(call):
    """``net.layers[1].double()`` leaves the network in two dtypes: every entry point names the
    layer and the fix, rather than failing inside a matrix product."""
    net = torchnn.DeepNetwork([2, 4, 1], "tanh")
    net.layers[1].double()
    x, y = torch.randn(5, 2), (torch.rand(5, 1) > 0.5).float()
    calls = {"forward": lambda: net(x), "cost": lambda: net.cost(x, y),
             "backprop": lambda: net.backprop(x, y), "gd_step": lambda: net.gd_step(x, y, 0.1),
             "gradient_descent": lambda: net.gradient_descent(x, y, 0.1, 3)}
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(TypeError, match=r"layers\.1\.weight is torch\.float64 on cpu but "
                       r"layers\.0\.weight is torch\.float32 on cpu; expected one dtype"):
        calls[call]()
    assert all(torch.equal(p, b) for p, b in zip(net.parameters(), before))
