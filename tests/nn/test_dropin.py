"""torchnn's modules as drop-ins for torch.nn in other people's code (issue 19): in-place
activations, ``init="linear"``, parametrized / pruned / hooked layers under every method,
tools that match ``nn.Linear`` by type, and ``torch.jit.script``. Each compared with torch.nn."""

import copy
import warnings

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations, prune

import torchnn

# ----------------------------------------------------------------------------------------------
# point 1: ReLU(inplace=True), LeakyReLU(slope, inplace=True)
# ----------------------------------------------------------------------------------------------

MODULE_PAIRS = [
    (lambda: torchnn.ReLU(inplace=True), lambda: nn.ReLU(inplace=True)),
    (lambda: torchnn.LeakyReLU(0.2, inplace=True), lambda: nn.LeakyReLU(0.2, inplace=True)),
    (lambda: torchnn.LeakyReLU(inplace=True), lambda: nn.LeakyReLU(inplace=True)),
]


@pytest.mark.parametrize("make, make_ref", MODULE_PAIRS, ids=["relu", "leaky_relu", "default"])
def test_inplace_activation_modules_as_torch(make, make_ref):
    mod, ref = make(), make_ref()
    assert repr(mod) == repr(ref)
    x0 = torch.randn(6, 4, dtype=torch.float64)
    outs = []
    for m in (mod, ref):
        x = x0.clone().requires_grad_()
        z = x * 3
        a = m(z)
        assert a is z  # the operation ran in place
        (g,) = torch.autograd.grad((a * a).sum(), x)
        outs.append((a.detach(), g))
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=0)


def test_inplace_leaky_relu_module_with_negative_slope_refused_in_backward_as_torch():
    for m in (torchnn.LeakyReLU(-0.3, inplace=True), nn.LeakyReLU(-0.3, inplace=True)):
        z = torch.randn(4, requires_grad=True) * 1
        m(z)
        with pytest.raises(RuntimeError, match="negative"):
            z.sum().backward()


def test_gan_style_sequential_with_inplace_leaky_relu_trains_as_torch():
    """The GAN template's block, Linear + BatchNorm1d + LeakyReLU(0.2, inplace=True)."""
    torch.manual_seed(0)
    ref = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2, inplace=True),
                        nn.Linear(8, 1)).double()
    ours = copy.deepcopy(ref)
    ours[0], ours[2] = torchnn.Dense(5, 8, dtype=torch.float64), torchnn.LeakyReLU(0.2, True)
    ours[0].load_state_dict(ref[0].state_dict())
    x = torch.randn(16, 5, dtype=torch.float64)
    for m in (ours, ref):
        m(x).square().mean().backward()
    for p, q in zip(ours.parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------------------------
# point 3: init="linear" is nn.Linear's initialisation, bit for bit
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape, bias", [((3, 5), True), ((784, 256), True), ((1, 1), True),
                                         ((7, 2), False)])
def test_init_linear_equals_nn_linear_bit_for_bit(shape, bias, dtype):
    torch.manual_seed(11)
    lin = nn.Linear(*shape, bias=bias, dtype=dtype)
    state, after = torch.get_rng_state(), torch.rand(3)
    torch.manual_seed(11)
    dense = torchnn.Dense(*shape, bias=bias, init="linear", dtype=dtype)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG left as nn.Linear leaves it
    assert torch.equal(torch.rand(3), after)
    assert torch.equal(dense.weight, lin.weight)
    assert (dense.bias is None) == (lin.bias is None)
    if bias:
        assert torch.equal(dense.bias, lin.bias)


def test_init_linear_with_a_generator_and_in_deep_network():
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a = torchnn.Dense(4, 6, init="linear", generator=g1)
    w = torch.empty(6, 4)
    nn.init.kaiming_uniform_(w, a=5 ** 0.5, generator=g2)
    assert torch.equal(a.weight, w)
    torch.manual_seed(5)
    net = torchnn.DeepNetwork([3, 4, 1], init="linear")
    torch.manual_seed(5)
    ref = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    for p, q in zip(net.parameters(), ref.parameters()):
        assert torch.equal(p, q)


def test_default_init_stays_the_seeds_small_random():
    torch.manual_seed(0)
    dense = torchnn.Dense(400, 300)
    assert not dense.bias.any()  # b = 0
    assert dense.weight.std().item() == pytest.approx(0.01, rel=0.02)  # N(0, 1) * 0.01


# ----------------------------------------------------------------------------------------------
# point 4: weight_norm, spectral_norm, pruning on a DeepNetwork layer
# ----------------------------------------------------------------------------------------------

REPARAMETRIZE = {
    "weight_norm": lambda m: parametrizations.weight_norm(m),
    "spectral_norm": lambda m: parametrizations.spectral_norm(m),
    "prune": lambda m: prune.l1_unstructured(m, "weight", amount=0.5),
}


def _data(m=16):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(m, 3, generator=g, dtype=torch.float64)
    return x, (torch.rand(m, 1, generator=g) > 0.5).double()


def _pair(kind, layer=1):
    """A DeepNetwork and its to_torch() copy, the same reparametrization on layer ``layer``."""
    torch.manual_seed(0)
    net = torchnn.DeepNetwork([3, 5, 4, 1], "tanh", init="linear", dtype=torch.float64)
    seq = net.to_torch()
    torch.manual_seed(1)  # spectral_norm draws its power-iteration vector
    REPARAMETRIZE[kind](net.layers[layer])
    torch.manual_seed(1)
    REPARAMETRIZE[kind](seq[2 * layer])
    return net, seq


def _torch_cost(seq, x, y):
    return nn.functional.binary_cross_entropy_with_logits(seq[:-1](x), y)


def _assert_grads(net, seq):
    pairs = list(zip(net.named_parameters(), seq.named_parameters(), strict=True))
    for (n, p), (m, q) in pairs:  # layers.1.weight_orig beside 2.weight_orig, and so on
        assert n.split(".", 2)[-1] == m.split(".", 1)[-1] and p.shape == q.shape, (n, m)
        assert p.grad is not None, n
        torch.testing.assert_close(p.grad, q.grad, msg=n)


@pytest.mark.parametrize("kind", list(REPARAMETRIZE))
def test_reparametrized_layer_forward_and_cost_as_torch(kind):
    net, seq = _pair(kind)
    x, y = _data()
    torch.testing.assert_close(net(x), seq(x))
    net.cost(x, y).backward()
    _torch_cost(seq, x, y).backward()
    _assert_grads(net, seq)


@pytest.mark.parametrize("kind", list(REPARAMETRIZE))
def test_reparametrized_layer_backprop_gives_the_actual_parameters_gradients(kind):
    net, seq = _pair(kind, layer=0)
    x, y = _data()
    J = net.backprop(x, y)
    J_ref = _torch_cost(seq, x, y)
    J_ref.backward()
    torch.testing.assert_close(J, J_ref.detach())
    _assert_grads(net, seq)


@pytest.mark.parametrize("kind", list(REPARAMETRIZE))
def test_reparametrized_layer_gd_step_as_sgd(kind):
    net, seq = _pair(kind)
    x, y = _data()
    opt = torch.optim.SGD(seq.parameters(), lr=0.5)
    for _ in range(3):
        J = net.gd_step(x, y, lr=0.5)
        opt.zero_grad()
        J_ref = _torch_cost(seq, x, y)
        J_ref.backward()
        opt.step()
        torch.testing.assert_close(J, J_ref.detach())
    for p, q in zip(net.parameters(), seq.parameters()):
        assert p.grad is None  # gd_step writes no .grad
        torch.testing.assert_close(p, q)


# ----------------------------------------------------------------------------------------------
# point 5: backprop and gd_step honour module hooks
# ----------------------------------------------------------------------------------------------


def _double(module, inputs):
    return (inputs[0] * 2,)


@pytest.mark.parametrize("where", ["layers.0", "hidden"])
def test_backprop_and_gd_step_honour_a_forward_pre_hook(where):
    torch.manual_seed(0)
    net = torchnn.DeepNetwork([3, 5, 1], "relu", init="linear", dtype=torch.float64)
    seq = net.to_torch()
    net.get_submodule(where).register_forward_pre_hook(_double)
    seq[0 if where == "layers.0" else 1].register_forward_pre_hook(_double)
    x, y = _data()
    J = net.backprop(x, y)
    J_ref = _torch_cost(seq, x, y)
    J_ref.backward()
    torch.testing.assert_close(J, J_ref.detach())
    torch.testing.assert_close(J, net.cost(x, y).detach())  # the same J as cost
    _assert_grads(net, seq)
    before = [p.detach().clone() for p in net.parameters()]
    net.gd_step(x, y, lr=0.1)
    for b, p, q in zip(before, net.parameters(), seq.parameters()):
        torch.testing.assert_close(p, b - 0.1 * q.grad)


def test_backprop_fires_forward_and_backward_hooks():
    net = torchnn.DeepNetwork([3, 4, 1], dtype=torch.float64)
    calls = []
    net.layers[1].register_forward_hook(lambda m, i, o: calls.append("forward"))
    net.layers[1].register_full_backward_hook(lambda m, gi, go: calls.append("backward"))
    net.backprop(*_data())
    net.gd_step(*_data(), lr=0.1)
    assert calls == ["forward", "backward"] * 2


def test_regression_output_hook_honoured_by_backprop():
    net = torchnn.DeepNetwork([3, 4, 1], "tanh", "identity", dtype=torch.float64)
    x, y = _data()
    plain = net.backprop(x, y)
    net.output.register_forward_hook(lambda m, i, o: o + 1)
    net.zero_grad()
    hooked = net.backprop(x, y)
    torch.testing.assert_close(hooked, net.cost(x, y).detach())
    assert not torch.allclose(hooked, plain)


# ----------------------------------------------------------------------------------------------
# point 6: tools that look for nn.Linear by type: to_torch() first
# ----------------------------------------------------------------------------------------------


def test_quantize_dynamic_after_to_torch():
    torch.manual_seed(0)
    net = torchnn.DeepNetwork([6, 16, 1], "relu", init="linear")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notices
        skipped = torch.ao.quantization.quantize_dynamic(net, {nn.Linear}, dtype=torch.qint8)
        q = torch.ao.quantization.quantize_dynamic(net.to_torch(), {nn.Linear}, dtype=torch.qint8)
    assert type(skipped.layers[0]) is torchnn.Dense  # matched by exact type: Dense is skipped
    quantized = [m for m in q.modules() if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)]
    assert len(quantized) == 2 and not any(type(m) is nn.Linear for m in q.modules())
    x = torch.randn(32, 6)
    torch.testing.assert_close(q(x), net(x), rtol=0, atol=2e-2)  # 8-bit weights


# ----------------------------------------------------------------------------------------------
# point 7: torch.jit.script: a clear error at once
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: torchnn.DeepNetwork([2, 3, 1]),
    lambda: torchnn.LogisticRegression(3),
    lambda: nn.Sequential(torchnn.Dense(2, 3), nn.ReLU()),
    lambda: nn.Sequential(nn.Linear(2, 3), torchnn.LeakyReLU(0.2, inplace=True)),
], ids=["DeepNetwork", "LogisticRegression", "Dense in Sequential", "LeakyReLU in Sequential"])
def test_jit_script_refused_with_the_alternatives(make):
    with pytest.raises(RuntimeError, match=r"^torch.jit.script: \w+ is a torchnn module.*"
                                           r"torch.export.export.*to_torch\(\)") as err:
        torch.jit.script(make())
    assert "\n" not in str(err.value)


def test_the_alternatives_work():
    net = torchnn.DeepNetwork([2, 3, 1], "tanh")
    x = torch.randn(4, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(net.to_torch())
    torch.testing.assert_close(scripted(x), net(x))
    exported = torch.export.export(net, (x,))
    torch.testing.assert_close(exported.module()(x), net(x))
