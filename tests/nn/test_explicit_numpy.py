"""``gd_step``'s numpy path (``torchnn.nn.explicit_numpy``) for networks below SERIAL_MACS:
the parameters autograd's gradients give, where it applies, and the tensor semantics it keeps."""

import copy
import warnings

import pytest
import torch
from torch import nn

import torchnn
from torchnn.nn import explicit


def _setup(hidden="tanh", dims=(2, 4, 1), m=40, dtype=torch.float32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    net = torchnn.DeepNetwork(list(dims), hidden, init="he", generator=gen, dtype=dtype)
    x = torch.randn(m, dims[0], generator=gen, dtype=dtype)
    y = (torch.rand(m, dims[-1], generator=gen) > 0.5).to(dtype)
    return net, x, y


def _engine(net):
    ws = explicit._WORKSPACES.get(net)
    return None if ws is None else ws.numpy


def _autograd_sgd(net, x, y, lr):
    net.zero_grad()
    cost = net.cost(x, y)  # through the per-layer autograd Functions
    cost.backward()
    with torch.no_grad():
        for p in net.parameters():
            p -= lr * p.grad
    return cost.detach()


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("dims", [(2, 4, 1), (3, 5, 4, 2), (6, 1), (2, 3, 3, 3, 1)], ids=str)
def test_numpy_path_gives_autograd_parameters(hidden, dims):
    net, x, y = _setup(hidden, dims, dtype=torch.float64)
    twin = copy.deepcopy(net)
    for _ in range(6):
        j = net.gd_step(x, y, lr=0.7)
        j_ref = _autograd_sgd(twin, x, y, lr=0.7)
        torch.testing.assert_close(j, j_ref, rtol=1e-12, atol=1e-14)
        assert j.dtype == torch.float64 and j.dim() == 0
    assert _engine(net) is not None  # the numpy path ran
    for p, q in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)


def test_numpy_path_float32_within_float32_rounding_of_the_torch_kernels(monkeypatch):
    net, x, y = _setup("tanh", (2, 4, 1), m=400)
    twin = copy.deepcopy(net)
    for _ in range(20):
        net.gd_step(x, y, lr=1.2)
    monkeypatch.setattr(explicit, "numpy_step_applies", lambda *a: False)
    for _ in range(20):
        twin.gd_step(x, y, lr=1.2)
    assert _engine(net) is not None and _engine(twin) is None
    for p, q in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["leaky_relu", "regression", "bfloat16", "large", "recompute"])
def test_numpy_path_stays_out_where_it_does_not_apply(case):
    if case == "leaky_relu":
        net, x, y = _setup("leaky_relu")
    elif case == "regression":
        net = torchnn.DeepNetwork([2, 4, 1], "tanh", output_activation="identity")
        x, y = torch.randn(40, 2), torch.randn(40, 1)
    elif case == "bfloat16":
        net, x, y = _setup(dtype=torch.bfloat16)
    elif case == "large":  # above SERIAL_MACS: the torch kernels, on every thread
        net, x, y = _setup(dims=(64, 256, 1), m=400)
    else:
        net, x, y = _setup(dims=(2, 4, 4, 1))
        net.recompute = True
    for _ in range(2):
        net.gd_step(x, y, 0.1)
    assert _engine(net) is None


def test_numpy_path_bumps_versions_like_an_in_place_update():
    net, x, y = _setup()
    net.gd_step(x, y, 0.1)
    w = net.layers[0].weight
    before = [p._version for p in net.parameters()]
    out = net(x).sum()  # a graph that saved W^[1] and the others
    net.gd_step(x, y, 0.1)
    assert all(p._version > v for p, v in zip(net.parameters(), before))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()
    assert w is net.layers[0].weight


def test_numpy_path_follows_replaced_and_reloaded_parameters():
    net, x, y = _setup(dims=(2, 4, 1))
    net.gd_step(x, y, 0.1)
    gen = torch.Generator().manual_seed(9)
    net.layers[0].weight = nn.Parameter(torch.randn(4, 2, generator=gen))  # a new tensor
    net.layers[1].bias.data = torch.full((1,), 0.5)  # new storage under the same Parameter
    ref = copy.deepcopy(net)
    explicit.free_workspace(ref)
    for _ in range(3):
        assert torch.equal(net.gd_step(x, y, 0.1), ref.gd_step(x, y, 0.1))
    net.load_state_dict(torchnn.DeepNetwork([2, 4, 1], "tanh").state_dict())  # copied in place
    ref.load_state_dict(net.state_dict())
    for _ in range(3):
        assert torch.equal(net.gd_step(x, y, 0.1), ref.gd_step(x, y, 0.1))
    for p, q in zip(net.parameters(), ref.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("dims", [(2, 4, 1), (2, 4, 2)], ids=str)
def test_numpy_path_sees_inputs_changed_in_place(dims):
    net, x, y = _setup(dims=dims)
    ref = copy.deepcopy(net)
    for _ in range(2):
        net.gd_step(x, y, 0.1)
        ref.gd_step(x.clone(), y.clone(), 0.1)
    x.mul_(-2)  # same tensor object, new values (its version counter moves)
    assert torch.equal(net.gd_step(x, y, 0.1), ref.gd_step(x.clone(), y.clone(), 0.1))
    y.sub_(1).abs_()  # a float (m, 1) target comes back from the check as the same object
    assert torch.equal(net.gd_step(x, y, 0.1), ref.gd_step(x.clone(), y.clone(), 0.1))
    for p, q in zip(net.parameters(), ref.parameters()):
        assert torch.equal(p, q)


def test_numpy_path_returns_a_new_cost_tensor_each_step():
    net, x, y = _setup()
    costs = [net.gd_step(x.requires_grad_(), y, 0.5) for _ in range(4)]  # x needing grad is fine
    assert len({c.data_ptr() for c in costs}) == 4
    assert costs[0].item() != costs[-1].item()
    assert all(not c.requires_grad for c in costs)


def test_numpy_path_divergence_is_the_cost_check_not_a_numpy_warning():
    net, x, y = _setup("relu")
    net.gd_step(x, y, 0.1)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(1e25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        j = net.gd_step(x, y, 0.1, check_values=False)  # no check: J comes back non-finite
        assert not torch.isfinite(j)
        with pytest.raises(FloatingPointError, match=r"DeepNetwork\.gd_step: the cost J is"):
            net.gd_step(x, y, 0.1)


def test_numpy_path_takes_inference_tensors_as_data():
    # NOTE: they have no version counter: their copies are made afresh each step
    net, x, y = _setup(dims=(2, 4, 2))
    ref = copy.deepcopy(net)
    with torch.inference_mode():
        xi, yi = x.clone(), y.clone()
    for _ in range(3):
        assert torch.equal(net.gd_step(xi, yi, 0.1), ref.gd_step(x, y, 0.1))
    with torch.inference_mode():
        xi.mul_(-1)
        yi.sub_(1).abs_()
    x.mul_(-1)
    y.sub_(1).abs_()
    assert torch.equal(net.gd_step(xi, yi, 0.1), ref.gd_step(x, y, 0.1))
    assert _engine(net) is not None
    for p, q in zip(net.parameters(), ref.parameters()):
        assert torch.equal(p, q)


def test_a_layer_converted_after_the_first_step_gets_torchs_error():
    net, x, y = _setup(dims=(2, 4, 1))
    net.gd_step(x, y, 0.1)
    net.layers[1].double()
    with pytest.raises(RuntimeError, match="same dtype"):
        net.gd_step(x, y, 0.1)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("dims", [(2, 4, 1), (3, 5, 4, 2), (6, 1)], ids=str)
def test_numpy_backprop_accumulates_autograds_gradients(hidden, dims):
    net, x, y = _setup(hidden, dims, dtype=torch.float64)
    twin = copy.deepcopy(net)
    j = net.backprop(x, y)  # every .grad is None: created
    assert _engine(net) is not None
    grads = [p.grad for p in net.parameters()]
    versions = [g._version for g in grads]
    j2 = net.backprop(x, y)  # accumulated in place, as autograd does
    twin.cost(x, y).backward()
    twin.cost(x, y).backward()
    torch.testing.assert_close(j, j2, rtol=0, atol=0)  # no parameter moved
    torch.testing.assert_close(j, twin.cost(x, y).detach(), rtol=1e-12, atol=1e-14)
    for p, q, g, v in zip(net.parameters(), twin.parameters(), grads, versions):
        assert p.grad is g and g._version > v and g.shape == p.shape and g.is_contiguous()
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-12, atol=1e-14)


def test_numpy_backprop_leaves_a_gradient_it_cannot_view_to_the_torch_kernels():
    net, x, y = _setup(dims=(3, 5, 4, 2), dtype=torch.float64)
    twin = copy.deepcopy(net)
    net.backprop(x, y)  # builds the engine
    net.zero_grad()
    w = net.layers[0].weight
    w.grad = torch._neg_view(torch.zeros_like(w))  # numpy can't view a negative-bit tensor
    net.backprop(x, y)
    twin.cost(x, y).backward()
    for p, q in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-12, atol=1e-14)
